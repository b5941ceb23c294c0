"""Two clicks on "submit" at the same moment: one submission, one reference, no server error.

Each click is a real request in its own thread, with its own session (on PostgreSQL); the second
waits for the first on the application's row lock, then finds it submitted.
"""

import threading

import sqlalchemy as sa

from fundapp.applications.models import APPLICATION_WORKFLOW, Application, Submission
from fundapp.core.models import AuditEntry, JobRecord
from fundapp.extensions import db

from .. import factories as f
from ..helpers import count, text


def _at_once(posts):
    barrier, responses = threading.Barrier(len(posts)), [None] * len(posts)

    def run(index, client, url, data):
        barrier.wait()
        try:
            responses[index] = client.http.post(url, data=data)
        except Exception as exc:  # the test app lets a server error through: keep it as the answer
            responses[index] = exc

    threads = [threading.Thread(target=run, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_two_clicks_on_submit_make_one_submission_with_one_reference(app, make_client):
    with app.app_context():
        the_call = f.call()
        focal = f.focal_point("Bogotá")
        application_id = f.draft("Bogotá", the_call=the_call, focal=focal, partners=["Medellín"]).id
        code, email = the_call.code, focal.email
    # The same focal point, in two tabs (two sessions), clicks "submit" in both at once.
    tabs = [make_client(), make_client()]
    posts = []
    for tab in tabs:
        tab.login(email, f.PASSWORD)
        token = tab.csrf_token(f"/applications/{application_id}/check")
        posts.append((tab, f"/applications/{application_id}/submit", {"csrf_token": token}))
    responses = _at_once(posts)
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]  # neither is a server error
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert APPLICATION_WORKFLOW.has(application.state, "sent")
        assert application.reference == f"IFM-{code}-001" and application.number == 1
        assert count(Submission, Submission.application_id == application_id) == 1
        assert count(AuditEntry, AuditEntry.action == "application.submit") == 1
        assert count(JobRecord, JobRecord.name == "applications.send_receipt") == 1
    # The click that lost is told why, on the page it lands on.
    landed = sorted(r.headers["Location"] for r in responses)
    assert any(f"/applications/{application_id}/check" in url for url in landed)
    assert any(f"/applications/{application_id}?v=1" in url for url in landed)
    page = text(tabs[0].get(f"/applications/{application_id}"))
    assert f"IFM-{code}-001" in page


def test_two_cities_submitting_at_once_get_the_next_numbers_in_turn(app, make_client):
    """Two cities at once: each its own submission and its own number (the call's lock orders them)."""
    with app.app_context():
        the_call = f.call()
        ids = {city: f.draft(city, the_call=the_call).id for city in ("Montréal", "Dakar")}
        code = the_call.code
    posts = []
    for city, application_id in ids.items():
        client = make_client()
        client.login(f"focal@{f.slug(city)}.example", f.PASSWORD)
        token = client.csrf_token(f"/applications/{application_id}/check")
        posts.append((client, f"/applications/{application_id}/submit", {"csrf_token": token}))
    responses = _at_once(posts)
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    with app.app_context():
        references = sorted(
            db.session.scalars(sa.select(Application.reference).where(Application.id.in_(ids.values())))
        )
        assert references == [f"IFM-{code}-001", f"IFM-{code}-002"]
        assert count(Submission) == 2
