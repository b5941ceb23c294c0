"""Two last reviews submitted at the same moment complete the application exactly once.

Each reviewer submits through the review page, in a real thread with its own request and session
(on PostgreSQL): before, each saw the other's review as missing and the application stayed
"in review" for ever; now the second waits for the first on the application's row lock.
"""

import threading

import sqlalchemy as sa

from fundapp.applications.models import APPLICATION_WORKFLOW, Application
from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.reviews import operations as reviews
from fundapp.reviews.models import ASSIGNMENT_WORKFLOW, Assignment

from .. import factories as f
from ..helpers import count, text

# Marks in criterion order; the comments are what the city will read.
MARKS = {
    "aissatou@experts.example": ("4", "4.5", "4", "3.5", "4", "Un réseau de soins de quartier solide."),
    "jean-pierre@experts.example": ("3.5", "4", "4", "4", "3", "Les partenaires sont clairement engagés."),
    "mei@experts.example": ("4", "3.5", "4.5", "4", "4", "A credible plan to redistribute care work."),
}


def _panel_with_one_review_left_each(app, cities):
    """{city: (application id, {reviewer e-mail: assignment id})}: every reviewer of the panel has
    declared no conflict; the first has submitted, the two others are about to."""
    with app.app_context():
        jury = f.panel(3)
        result = {}
        for city in cities:
            application = f.assigned(city, reviewers=jury)
            assignments = f.s.assignments_of(application)
            for assignment in assignments:
                reviews.declare(assignment, "accept", actor=assignment.reviewer)
            first = next(a for a in assignments if a.reviewer.email == "aissatou@experts.example")
            f.s.review(first, [4, 4.5, 4, 3.5, 4], comment=MARKS["aissatou@experts.example"][-1])
            result[city] = (application.id, {a.reviewer.email: a.id for a in assignments})
        return result


def _form(app, assignment_id, email):
    with app.app_context():
        criteria = db.session.get(Application, _application_of(assignment_id)).call.criteria
        marks = MARKS[email]
        data = {f"score_{c.id}": mark for c, mark in zip(criteria, marks[:5])}
    data.update(comment_applicant=marks[5], comment_staff="", recommendation="fund", submit_review="1")
    return data


def _application_of(assignment_id):
    return db.session.get(Assignment, assignment_id).application_id


def _submit_at_once(posts):
    """Run each (client, url, data) POST in its own thread, released together; their responses."""
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


def test_two_last_reviews_at_once_complete_the_application_exactly_once(app, make_client):
    cities = ["Bogotá", "Montréal", "Dakar"]  # three races, one per application
    panels = _panel_with_one_review_left_each(app, cities)
    clients = {}
    for email in ("jean-pierre@experts.example", "mei@experts.example"):
        clients[email] = make_client()
        clients[email].login(email, f.PASSWORD)
    for city in cities:
        application_id, assignment_ids = panels[city]
        posts = []
        for email, client in clients.items():
            assignment_id = assignment_ids[email]
            data = _form(app, assignment_id, email)
            data["csrf_token"] = client.csrf_token(f"/reviews/{assignment_id}")
            posts.append((client, f"/reviews/{assignment_id}/review", data))
        responses = _submit_at_once(posts)
        assert [getattr(r, "status_code", r) for r in responses] == [302, 302], city  # no server error, no refusal
        with app.app_context():
            application = db.session.get(Application, application_id)
            # Reviewed: ranked and ready for a decision, not stuck "in review".
            assert APPLICATION_WORKFLOW.has(application.state, "ranked"), (city, application.state)
            assert all(
                ASSIGNMENT_WORKFLOW.has(a.state, "counts") and a.is_done for a in f.s.assignments_of(application)
            )
            completions = count(
                AuditEntry,
                AuditEntry.action == "application.complete_review",
                AuditEntry.object_type == "Application",
                AuditEntry.object_id == str(application_id),
            )
            assert completions == 1, city
            assert (
                count(
                    AuditEntry,
                    AuditEntry.action == "review.submit",
                    AuditEntry.object_id.in_([str(i) for i in assignment_ids.values()]),
                )
                == 3
            )


def test_a_review_that_is_not_the_last_completes_nothing(app, make_client):
    ((application_id, assignment_ids),) = _panel_with_one_review_left_each(app, ["São Paulo"]).values()
    mei = make_client()
    mei.login("mei@experts.example", f.PASSWORD)
    assignment_id = assignment_ids["mei@experts.example"]
    page = text(
        mei.post(
            f"/reviews/{assignment_id}/review",
            _form(app, assignment_id, "mei@experts.example"),
            token_from=f"/reviews/{assignment_id}",
            follow_redirects=True,
        )
    )
    assert "Review submitted." in page
    with app.app_context():
        # Two of three in: still in review, and no completion written.
        application = db.session.get(Application, application_id)
        assert APPLICATION_WORKFLOW.has(application.state, "reviewable")
        assert not APPLICATION_WORKFLOW.has(application.state, "ranked")
        assert count(AuditEntry, AuditEntry.action == "application.complete_review") == 0


def test_a_refused_last_review_completes_nothing(app, make_client):
    """The last reviewer submits without a recommendation: refused next to the field, the review
    stays a draft and the application in review (the lock changes nothing of a refusal)."""
    ((application_id, assignment_ids),) = _panel_with_one_review_left_each(app, ["Lisbon"]).values()
    with app.app_context():
        f.s.review(db.session.get(Assignment, assignment_ids["jean-pierre@experts.example"]), [3.5, 4, 4, 4, 3])
    mei = make_client()
    mei.login("mei@experts.example", f.PASSWORD)
    assignment_id = assignment_ids["mei@experts.example"]
    data = _form(app, assignment_id, "mei@experts.example")
    data["recommendation"] = ""
    data["csrf_token"] = mei.csrf_token(f"/reviews/{assignment_id}")
    with app.app_context():
        before = count(AuditEntry)
        state_before = db.session.get(Application, application_id).state
    response = mei.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}")
    assert response.status_code == 400 and "Choose a recommendation." in text(response)
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == state_before and not APPLICATION_WORKFLOW.has(application.state, "ranked")
        # What was typed is kept as a draft (one "review.save"), nothing is submitted.
        assert count(AuditEntry) == before + 1
        assert db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == "review.save"
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment.is_scoring and not assignment.is_done
        assert assignment.review.submitted_at is None and assignment.review.score is None
