"""E-mail addresses: one rule for every form and operation that takes one.

email-validator decides; fundapp only chooses its options from the environment:

- outside production (development, testing, the demo) an address on a reserved test domain
  (``maria@bogota.test``; ``.example`` is always accepted) is a real address of a demo person,
  and no DNS is asked (``test_environment=True``);
- in production the library's normal checks stand: reserved and special-use domains are refused
  and, where the fund will write to the address, its domain must accept mail
  (``check_deliverability``; a DNS timeout does not refuse).

email-validator refuses ``.invalid``, ``.localhost``, ``.local`` and ``.onion`` whatever the
options: nobody can receive mail there.
"""

import email_validator
from flask import current_app

from .catalogue import lazy_gettext as _l
from .errors import Refused

INVALID_ADDRESS = _l("Enter a valid e-mail address.")


def in_production():
    return current_app.config.get("ENV_NAME") == "production"


def validation_options(*, deliverable=True):
    """Keyword arguments of email_validator.validate_email for this app's environment.

    deliverable: the fund will write to the address (an invitation, a contact), so production
    checks its domain in DNS; False for addresses only looked up (a reset request).
    """
    if in_production():
        return {"check_deliverability": deliverable, "test_environment": False}
    return {"check_deliverability": False, "test_environment": True}


def check_email_address(value, *, field="email", deliverable=True):
    """The address normalised by email-validator, or Refused with the message next to `field`."""
    try:
        result = email_validator.validate_email((value or "").strip(), **validation_options(deliverable=deliverable))
    except email_validator.EmailNotValidError:
        raise Refused(INVALID_ADDRESS, field=field) from None
    return result.normalized
