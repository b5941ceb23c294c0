"""The staff pages of a call run a number of SQL statements that does not grow with its
applications and reviews (counted, not timed)."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from fundapp.extensions import db

from .. import factories as f

CITIES = ["Bogotá", "Dakar", "Montréal", "São Paulo", "Quito", "Abidjan", "Lisboa", "Seoul"]


def _statements(app, client, url):
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return len(seen)


def _call_with(app, cities):
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        reviewers = f.panel(3)
        for n, city in enumerate(cities):
            f.reviewed(city, the_call=the_call, reviewers=reviewers, by=staff, marks=[3 + n % 3] * 5)
        return the_call.id


@pytest.mark.parametrize("page", ["ranking", "reviews", "decisions", "applications"])
def test_a_call_s_staff_pages_run_as_many_statements_for_two_or_eight_applications(app, make_client, page):
    small = _call_with(app, CITIES[:2])
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{small}/{page}"
    _statements(app, client, url)  # warm: the first request loads what every request shares
    few = _statements(app, client, url)
    # Six more cities apply to the same call, are reviewed and ranked.
    with app.app_context():
        from fundapp.calls.models import Call

        the_call = db.session.get(Call, small)
        reviewers = f.panel(3)
        for n, city in enumerate(CITIES[2:]):
            f.reviewed(city, the_call=the_call, reviewers=reviewers, by=f.staff(), marks=[3 + n % 3] * 5)
        assert db.session.scalar(sa.text("SELECT count(*) FROM review")) == 24
    # The first page after new reviews computes the call's criterion means again (one statement
    # more, whatever the number of reviews: tests/reviews/test_kept_means.py); pages after it keep them.
    first = _statements(app, client, url)
    many = _statements(app, client, url)
    assert many == few, f"{page}: {few} statements for 2 applications, {many} for 8"
    assert first - many == (1 if page in ("ranking", "decisions") else 0), (page, first, many)


def test_review_progress_is_paginated_and_filtered_by_state_and_overdue(app, make_client):
    from datetime import timedelta

    from fundapp.core.timeutil import clock_at, utcnow

    app.config["PAGE_SIZE"] = 4
    with app.app_context():
        f.fund()
        staff = f.staff()
        reviewers = f.panel(3)
        with clock_at(utcnow() - timedelta(days=90)):  # reviews were due 20 days ago: Dakar's are overdue
            the_call = f.call(actor=staff, review_due_at=utcnow() + timedelta(days=70))
            f.assigned("Dakar", the_call=the_call, reviewers=reviewers, by=staff)
            f.reviewed("Bogotá", the_call=the_call, reviewers=reviewers, by=staff)
            call_id = the_call.id
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/reviews"
    page = client.get(url).get_data(as_text=True)
    assert 'data-figure="submitted">3<' in page and 'data-figure="assigned">3<' in page
    assert "Page 1 of 2" in page and "6 results" in page
    submitted = client.get(url + "?state=submitted").get_data(as_text=True)
    assert "3 results" in submitted and "IFM-LCS-2025-002" in submitted and "IFM-LCS-2025-001" not in submitted
    overdue = client.get(url + "?overdue=1").get_data(as_text=True)
    assert 'data-figure="overdue">3<' in overdue and "3 results" in overdue
    assert "No assignment matches these filters." in client.get(url + "?state=declined").get_data(as_text=True)
    # Both filters at once, and a page beyond the last (the count comes from the page's own figures).
    assert "3 results" in client.get(url + "?state=assigned&overdue=1").get_data(as_text=True)
    both = client.get(url + "?state=submitted&overdue=1").get_data(as_text=True)
    assert "No assignment matches these filters." in both
    last = client.get(url + "?page=9").get_data(as_text=True)
    assert "Page 2 of 2" in last and "6 results" in last and "IFM-LCS-2025-" in last


@pytest.mark.sqlite
def test_review_progress_lists_its_own_call_s_assignments_by_due_date_the_undated_last(app, make_client):
    """Each assignment keeps its application's call (review progress counts and pages by it): another
    call's panel is neither counted nor listed, and the page is in due-date order, undated last."""
    from datetime import timedelta

    from fundapp.reviews.models import Assignment

    app.config["PAGE_SIZE"] = 4
    with app.app_context():
        f.fund()
        staff = f.staff()
        reviewers = f.panel(3)
        the_call = f.call(actor=staff, review_due_at=None, envelope={"SDC": 400_000_00})
        f.assigned("Dakar", the_call=the_call, reviewers=reviewers, by=staff)  # assigned with no due date
        f.edit_call(the_call, actor=staff, review_due_at=the_call.closes_at + timedelta(days=30))
        f.assigned("Bogotá", the_call=the_call, reviewers=reviewers, by=staff)  # due a month after closing
        other = f.call("LCS-2026", actor=staff, envelope={"SDC": 200_000_00})
        f.assigned("Seoul", the_call=other, reviewers=reviewers, by=staff)
        assignments = db.session.scalars(sa.select(Assignment)).all()
        assert len(assignments) == 9
        assert all(a.call_id == a.application.call_id for a in assignments)
        call_id = the_call.id
        refs = {a.application.member.name: a.application.reference for a in assignments}
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/reviews"
    first, second = (client.get(f"{url}?page={n}").get_data(as_text=True) for n in (1, 2))
    assert 'data-figure="assigned">6<' in first and "6 results" in first and "Page 1 of 2" in first
    assert refs["Seoul"] not in first + second
    assert first.count(refs["Bogotá"]) == 3 and first.count(refs["Dakar"]) == 1  # dated first
    assert second.count(refs["Dakar"]) == 2 and refs["Bogotá"] not in second
    assert "—" in second  # undated


def test_the_decision_board_runs_as_many_statements_with_two_or_six_decisions(app, make_client):
    from fundapp import scenarios as s

    call_id = _call_with(app, CITIES[:8])
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/decisions"

    def decide(cities):
        with app.app_context():
            from fundapp.applications.models import Application
            from fundapp.members.models import Member

            staff = f.staff()
            for city in cities:
                application = db.session.scalar(
                    sa.select(Application).join(Member).where(Member.name == city, Application.call_id == call_id)
                )
                s.award(application, staff, 50_000_00)

    decide(CITIES[:2])
    _statements(app, client, url)
    few = _statements(app, client, url)
    decide(CITIES[2:6])
    many = _statements(app, client, url)
    assert many == few, f"{few} statements with 2 decisions, {many} with 6"
