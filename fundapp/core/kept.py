"""Forms marked data-keep keep what is typed on the device until it is stored (static/js/app.js).

A form that stays on its page once stored (a review, a report) shows the stored values back, and
the device drops its copy when they match. One that leaves its page once stored (a new call, a
message sent) says so to the next page (base.html), which tells the device to drop its copy;
otherwise the copy is offered back the next time the form is opened, as after a session that
ended while it was being sent.
"""

from flask import session

KEPT_SAVED = "fundapp_kept_saved"


def kept_form_saved(key):
    """The form kept on the device under `key` (its data-keep) was stored."""
    saved = session.get(KEPT_SAVED, [])
    if key not in saved:
        session[KEPT_SAVED] = [*saved, key][-10:]


def kept_forms_saved():
    """The keys of the forms stored since the last page, said once."""
    return session.pop(KEPT_SAVED, []) if KEPT_SAVED in session else []
