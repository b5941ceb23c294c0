"""Automatic assignment: 12 reviewers, 30 applications, every constraint met; or nothing at all."""

from collections import Counter

import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.calls.models import Call
from fundapp.core.models import OutboxMessage
from fundapp.extensions import db
from fundapp.reviews import operations
from fundapp.reviews.models import Assignment
from fundapp.reviews.scoring import conflict_reasons

from .. import factories as f
from ..helpers import text
from .conftest import REGIONS, eligible, make_reviewer

LANGUAGES = ["en", "fr", "es"]
NAMES = [
    "Aïssatou Ndiaye",
    "Jean-Pierre Lavoie",
    "Mei Lin",
    "Henrik Berg",
    "Rania Haddad",
    "Tomás Herrera",
    "Nour El-Amine",
    "Camille Dubois",
    "Bongani Dlamini",
    "Ana Lúcia Ferreira",
    "Kenji Watanabe",
    "Zeynep Yılmaz",
]


def _world(app, call_id):
    """30 applications from 30 real member cities in six regions and three languages, some with partners,
    and a pool of 12 reviewers of three genders and six regions, some affiliated with applying cities."""
    with app.app_context():
        cities = [f.real_members(REGIONS[i % 6])[i // 6] for i in range(30)]
        for i, city in enumerate(cities):
            partners = [cities[(i + 1) % 30]] if i % 4 == 0 else []
            eligible(call_id, city, language=LANGUAGES[i % 3], partners=partners)
        genders = [
            "woman",
            "man",
            "woman",
            "man",
            "other",
            "woman",
            "man",
            "woman",
            "man",
            "woman",
            "man",
            "undisclosed",
        ]
        readers = ["en,fr", "es", "en", "fr,es", "en,es", "fr", "en", "es,en", "fr,en", "en", "es", "fr"]
        jury = []
        for i in range(12):
            jury.append(
                make_reviewer(
                    f"reviewer{i:02d}@pool.example",
                    NAMES[i],
                    gender=genders[i],
                    region=REGIONS[i % 6],
                    languages=readers[i],
                    affiliation=f.member(cities[i * 2]) if i < 5 else None,
                )
            )
        f.s.seat_jury(db.session.get(Call, call_id), f.staff(), jury)


def test_automatic_assignment_of_12_reviewers_to_30_applications_meets_every_constraint(app, review_call, staff):
    _world(app, review_call)
    page = text(staff.get(f"/staff/calls/{review_call}/assign"))
    assert "Confirm and notify the reviewers" in page and 'id="shortfalls"' not in page
    pairs = [value for value in __import__("re").findall(r'name="pair" value="(\d+:\d+)"', page)]
    assert len(pairs) == 90
    # Genders and regions in words, and each juror's load after confirming under their name.
    assert "<td>Woman</td>" in page and "<td>Eurasia and Middle East</td>" in page and "eurasia_middle_east" not in page
    loads = __import__("re").findall(r'<li data-reviewer="\d+">([^<]*)</li>', page)
    assert len(loads) == 12 and all(" · " in load and " application" in load for load in loads)
    assert {load.split(" · ")[0] for load in loads} == set(NAMES[:12])
    response = staff.post(
        f"/staff/calls/{review_call}/assign",
        {"pair": pairs},
        token_from=f"/staff/calls/{review_call}/assign",
        follow_redirects=True,
    )
    assert "90 assignments made" in text(response)

    with app.app_context():
        call = db.session.get(Call, review_call)
        assignments = db.session.scalars(sa.select(Assignment)).all()
        applications = db.session.scalars(sa.select(Application)).all()
        panels = {a.id: [x for x in assignments if x.application_id == a.id] for a in applications}
        pool = {x.reviewer for x in assignments}
        for application in applications:
            panel = [x.reviewer for x in panels[application.id]]
            assert len(panel) == 3 and len({r.id for r in panel}) == 3, application.reference
            for reviewer in panel:
                assert not conflict_reasons(reviewer.reviewer_profile, application, False), application.reference
            readers_available = [
                r
                for r in pool
                if application.language in r.reviewer_profile.language_list
                and not conflict_reasons(r.reviewer_profile, application, False)
            ]
            if readers_available:
                assert any(application.language in r.reviewer_profile.language_list for r in panel), (
                    application.reference
                )
            assert len({r.reviewer_profile.gender for r in panel}) >= 2, application.reference
            assert len({r.reviewer_profile.region for r in panel}) >= 2, application.reference
        load = Counter(x.reviewer_id for x in assignments)
        assert len(load) == 12 and max(load.values()) - min(load.values()) <= 1
        # One e-mail per reviewer with all its assignments, and a reminder scheduled for each.
        mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "review_assigned")).all()
        assert len(mails) == 12
        assert call.review_due_at is not None
    # A second run has nothing more to propose.
    assert "already has its panel" in text(staff.get(f"/staff/calls/{review_call}/assign"))


def test_an_assignment_that_cannot_be_satisfied_is_reported_and_nothing_is_saved(app, review_call, staff):
    with app.app_context():
        eligible(review_call, "Accra")
        eligible(review_call, "Madrid")
        jury = [
            make_reviewer("ines@experts.example", "Inês Carvalho", country="PT"),
            make_reviewer("henrik@experts.example", "Henrik Berg", gender="man", country="SE"),
            make_reviewer(
                "kofi@accra.example", "Kofi Boateng", affiliation=f.member("Accra"), region="africa", country="GH"
            ),
        ]
        f.s.seat_jury(db.session.get(Call, review_call), f.staff(), jury)
    page = text(staff.get(f"/staff/calls/{review_call}/assign"))
    assert 'id="shortfalls"' in page
    assert (
        "IFM-LCS-2025-001: reviewers missing: 1. Of the 3 on the jury: proposed for it, 2; already on its panel, 0; "
        "in conflict with it, 1; declined it or taken off its panel, 0; unavailable today, 0; at their maximum "
        "load, 0." in page
    )
    pairs = __import__("re").findall(r'name="pair" value="(\d+:\d+)"', page)
    response = staff.post(
        f"/staff/calls/{review_call}/assign",
        {"pair": pairs},
        token_from=f"/staff/calls/{review_call}/assign",
        follow_redirects=True,
    )
    assert "Nothing was assigned." in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_a_proposal_gone_stale_is_refused(app, review_call, staff):
    with app.app_context():
        eligible(review_call, "Accra")
        f.s.seat_jury(db.session.get(Call, review_call), f.staff(), f.panel(3))
    page = text(staff.get(f"/staff/calls/{review_call}/assign"))
    pairs = __import__("re").findall(r'name="pair" value="(\d+:\d+)"', page)
    with app.app_context():
        eligible(review_call, "Dakar")  # screened eligible after the proposal was made
    response = staff.post(
        f"/staff/calls/{review_call}/assign",
        {"pair": pairs},
        token_from=f"/staff/calls/{review_call}/assign",
        follow_redirects=True,
    )
    assert "changed since the proposal was made" in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    assert operations  # the module under test


def test_a_reviewer_who_declared_a_conflict_or_declined_is_not_proposed_again(app, review_call, staff):
    """Five jurors, panels of three: Mei declares a conflict with Accra's application and Henrik
    declines it. Assigning automatically again proposes two others for Accra, never them, and the
    proposal is confirmed; with nobody else left, the shortfall says why."""
    with app.app_context():
        accra = db.session.get(Application, eligible(review_call, "Accra"))
        jury = f.panel(5)
        f.s.seat_jury(db.session.get(Call, review_call), f.staff(), jury)
        by_email = {r.email: r for r in jury}
        first = [
            operations.assign(accra, by_email[e], actor=f.staff())
            for e in ("mei@experts.example", "henrik@experts.example", "aissatou@experts.example")
        ]
        operations.declare(
            first[0], "declare_conflict", actor=by_email["mei@experts.example"], reason="Asesoré a Accra en 2025."
        )
        operations.declare(first[1], "decline", actor=by_email["henrik@experts.example"], reason="Sin tiempo este mes.")
        accra_id, gone = accra.id, {by_email["mei@experts.example"].id, by_email["henrik@experts.example"].id}
    url = f"/staff/calls/{review_call}/assign"
    page = text(staff.get(url))
    pairs = __import__("re").findall(r'name="pair" value="(\d+:\d+)"', page)
    proposed = {int(p.split(":")[1]) for p in pairs if int(p.split(":")[0]) == accra_id}
    assert len(proposed) == 2 and not proposed & gone
    response = staff.post(url, {"pair": pairs}, token_from=url, follow_redirects=True)
    assert "Nothing was assigned." not in text(response)
    with app.app_context():
        counted = db.session.scalars(
            sa.select(Assignment.reviewer_id).where(
                Assignment.application_id == accra_id, Assignment.state.not_in(("conflict", "declined"))
            )
        ).all()
        assert len(counted) == 3 and not set(counted) & gone
        # Another one declines: nobody is left to ask, and the page says who is kept out and why.
        last = db.session.scalar(
            sa.select(Assignment).where(Assignment.application_id == accra_id, Assignment.reviewer_id.in_(proposed))
        )
        operations.declare(last, "decline", actor=last.reviewer, reason="Una urgencia familiar.")
    page = text(staff.get(url))
    assert (
        "reviewers missing: 1. Of the 5 on the jury: proposed for it, 0; already on its panel, 2; in conflict with "
        "it, 1; declined it or taken off its panel, 2; unavailable today, 0; at their maximum load, 0." in page
    )
