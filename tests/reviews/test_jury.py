"""A jury per call: staff compose it from the pool against its balance rule, confirm it (with a
written reason when it is unbalanced), and assignment draws only from it, within each juror's
maximum load and never on a day they are unavailable."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fundapp.calls.models import Call
from fundapp.core.models import AuditEntry, OutboxMessage
from fundapp.extensions import db
from fundapp.reviews.jury import fund_today
from fundapp.reviews.models import Assignment, Juror, Jury

from .. import factories as f
from ..helpers import count, text
from .conftest import eligible, make_reviewer, user_by_email

PEOPLE = [
    ("aissatou@experts.example", "Aïssatou Ndiaye", "woman", "africa", "SN", "fr,en"),
    ("jean-pierre@experts.example", "Jean-Pierre Lavoie", "man", "north_america", "CA", "fr,en"),
    ("mei@experts.example", "Mei Lin", "woman", "asia_pacific", "SG", "en"),
    ("tomas@experts.example", "Tomás Herrera", "man", "latin_america_caribbean", "AR", "es,en"),
    ("henrik@experts.example", "Henrik Berg", "man", "europe", "SE", "en,fr,es"),
]


def _people(app, n=len(PEOPLE)):
    with app.app_context():
        return {
            e: make_reviewer(e, name, gender=g, region=r, country=c, languages=langs).id
            for e, name, g, r, c, langs in PEOPLE[:n]
        }


def _seat(staff, call_id, reviewer_id, **terms):
    url = f"/staff/calls/{call_id}/jury"
    data = {"reviewer": str(reviewer_id), "max_load": "10", "unavailable_from": "", "unavailable_until": ""}
    data.update({k: str(v) for k, v in terms.items()})
    return staff.post(f"{url}/add", data, token_from=url)


def test_staff_compose_the_jury_and_the_page_shows_it_against_the_rule(app, review_call, staff):
    ids = _people(app, 4)
    url = f"/staff/calls/{review_call}/jury"
    assert "Nobody is on this jury yet" in text(staff.get(url))
    for reviewer_id in ids.values():
        assert _seat(staff, review_call, reviewer_id).status_code == 302
    page = text(staff.get(url))
    assert "2 of 4 women (50%) — rule: at least 40%" in page
    assert "2 of 4 men (50%) — rule: at least 40%" in page
    assert "Regions: 4 — rule: at least 3" in page
    assert page.count('data-met="yes"') == 3 and "The jury meets its balance rule." in page
    for email in ids:
        assert f'data-juror="{email}"' in page
    assert 'data-region="africa"' in page and "25%" in page

    # Seating someone twice is refused next to the field; nothing changes.
    again = _seat(staff, review_call, ids["mei@experts.example"])
    assert again.status_code == 400 and "Mei Lin is already on the jury." in text(again)
    # Staff make the rule stricter: five regions. The jury now falls short, and the page says so.
    rule = staff.post(
        f"{url}/rule", {"min_women_percent": "40", "min_men_percent": "40", "min_regions": "5"}, token_from=url
    )
    assert rule.status_code == 302
    page = text(staff.get(url))
    assert "Regions: 4 — rule: at least 5" in page and 'data-check="regions" data-met="no"' in page
    bad = staff.post(
        f"{url}/rule", {"min_women_percent": "60", "min_men_percent": "60", "min_regions": "3"}, token_from=url
    )
    assert bad.status_code == 400 and "cannot add up to more than 100%" in text(bad)
    with app.app_context():
        assert db.session.get(Jury, review_call).min_women_percent == 40


def test_an_unbalanced_jury_is_confirmed_only_with_a_reason_kept_in_the_audit_log(app, review_call, staff):
    ids = _people(app, 5)
    url = f"/staff/calls/{review_call}/jury"
    # Three men and one woman: 25% women against a rule of 40%.
    for email in ("aissatou@experts.example", "jean-pierre@experts.example", "tomas@experts.example"):
        _seat(staff, review_call, ids[email])
    _seat(staff, review_call, ids["henrik@experts.example"])
    page = text(staff.get(url))
    assert "1 of 4 women (25%) — rule: at least 40%" in page and 'data-check="women" data-met="no"' in page

    refused = staff.post(f"{url}/confirm", {"reason": "   "}, token_from=url)
    assert refused.status_code == 400
    assert "does not meet its balance rule: say why" in text(refused)
    with app.app_context():
        jury = db.session.get(Jury, review_call)
        assert jury is None or jury.confirmed_at is None
        assert count(AuditEntry, AuditEntry.action == "jury.confirm") == 0

    reason = "Two women experts withdrew after the call closed; a fourth region matters more this round."
    confirmed = staff.post(f"{url}/confirm", {"reason": reason}, token_from=url, follow_redirects=True)
    assert "The jury is confirmed." in text(confirmed) and reason in text(confirmed)
    with app.app_context():
        jury = db.session.get(Jury, review_call)
        assert jury.confirmed_at is not None and jury.confirm_reason == reason
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "jury.confirm"))
        assert reason in entry.summary and entry.after["reason"] == reason and entry.after["balanced"] is False

    # Changing the jury undoes the confirmation; a balanced jury confirms without a reason.
    _seat(staff, review_call, ids["mei@experts.example"])
    with app.app_context():
        assert db.session.get(Jury, review_call).confirmed_at is None
        juror = db.session.scalar(sa.select(Juror).where(Juror.reviewer_id == ids["tomas@experts.example"]))
        juror_id = juror.id
    removed = staff.post(f"/staff/jurors/{juror_id}/remove", {}, token_from=url, follow_redirects=True)
    assert "is no longer on the jury" in text(removed)
    assert "2 of 4 women (50%)" in text(removed)
    ok = staff.post(f"{url}/confirm", {}, token_from=url, follow_redirects=True)
    assert "The jury is confirmed." in text(ok)
    with app.app_context():
        assert db.session.get(Jury, review_call).confirm_reason is None
        assert count(AuditEntry, AuditEntry.action == "jury.confirm") == 2


def _manual(staff, application_id, reviewer_id):
    url = f"/staff/applications/{application_id}/reviews"
    return text(
        staff.post(
            f"/staff/applications/{application_id}/assign",
            {"reviewer": str(reviewer_id)},
            token_from=url,
            follow_redirects=True,
        )
    )


def test_manual_assignment_is_only_from_the_jury_within_load_and_availability(app, review_call, staff, make_client):
    ids = _people(app, 3)
    with app.app_context():
        accra = eligible(review_call, "Accra")
        dakar = eligible(review_call, "Dakar")
    _seat(staff, review_call, ids["aissatou@experts.example"], max_load=1)
    with app.app_context():
        today = fund_today()
    _seat(
        staff,
        review_call,
        ids["mei@experts.example"],
        unavailable_from=(today - timedelta(days=1)).isoformat(),
        unavailable_until=(today + timedelta(days=6)).isoformat(),
    )
    page = _manual(staff, accra, ids["jean-pierre@experts.example"])
    assert "Jean-Pierre Lavoie is not on the jury of LCS-2025" in page
    page = _manual(staff, accra, ids["mei@experts.example"])
    assert "Mei Lin is unavailable from" in page
    page = _manual(staff, accra, ids["aissatou@experts.example"])
    assert "Aïssatou Ndiaye is assigned." in page
    # Accra wrote in English, which she reads: no warning.
    assert "does not read" not in page
    page = _manual(staff, dakar, ids["aissatou@experts.example"])
    assert "Aïssatou Ndiaye is at their maximum load in this call: applications to review, 1." in page
    with app.app_context():
        assert [(a.application_id, a.reviewer_id) for a in db.session.scalars(sa.select(Assignment))] == [
            (accra, ids["aissatou@experts.example"])
        ]
    # A juror who reviews applications of the call stays on the jury until taken off those panels.
    with app.app_context():
        juror_id = db.session.scalar(sa.select(Juror.id).where(Juror.reviewer_id == ids["aissatou@experts.example"]))
    url = f"/staff/calls/{review_call}/jury"
    refused = staff.post(f"/staff/jurors/{juror_id}/remove", {}, token_from=url, follow_redirects=True)
    assert "Aïssatou Ndiaye is on the panel of 1 application of this call: remove them from it first" in text(refused)
    # Unavailability that ends before it starts is refused beside the row.
    bad = staff.post(
        f"/staff/jurors/{juror_id}",
        {"max_load": "4", "unavailable_from": "2026-05-10", "unavailable_until": "2026-05-01"},
        token_from=url,
    )
    assert bad.status_code == 400 and "The unavailability ends after it starts." in text(bad)
    # What was typed comes back in that row, to be corrected rather than typed again.
    page = bad.get_data(as_text=True)
    assert re.search(r"Reads (English|Français|Español)", text(bad))  # languages named, not coded
    assert f'id="max_load-{juror_id}" name="max_load" type="number" min="1" value="4"' in page
    assert f'id="from-{juror_id}" name="unavailable_from" type="date" value="2026-05-10"' in page
    assert f'id="until-{juror_id}" name="unavailable_until" type="date" value="2026-05-01"' in page
    with app.app_context():
        juror = db.session.get(Juror, juror_id)
        assert (juror.max_load, juror.unavailable_from, juror.unavailable_until) == (1, None, None)
        assignment_id = db.session.scalar(sa.select(Assignment.id))

    # Taken off Accra's panel (with a reason: refused without one, nothing changed), she can leave the jury.
    reviews_url = f"/staff/applications/{accra}/reviews"
    panel = text(staff.get(reviews_url))
    assert f'action="/staff/assignments/{assignment_id}/remove"' in panel
    refused = staff.post(f"/staff/assignments/{assignment_id}/remove", {"reason": ""}, token_from=reviews_url)
    with app.app_context():
        assert db.session.get(Assignment, assignment_id).state == "assigned"
    taken_off = staff.post(
        f"/staff/assignments/{assignment_id}/remove",
        {"reason": "Asignada por error: conoce al equipo de Accra."},
        token_from=reviews_url,
        follow_redirects=True,
    )
    assert "Aïssatou Ndiaye is no longer on this panel." in text(taken_off)
    with app.app_context():
        removed = db.session.get(Assignment, assignment_id)
        assert (removed.state, removed.removed_reason) == ("removed", "Asignada por error: conoce al equipo de Accra.")
        assert removed.declaration_reason is None  # she declared nothing
        # She is told, in her language, that it is no longer hers to review.
        (mail,) = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "review_removed")).all()
        assert mail.to_email == "aissatou@experts.example" and removed.application.reference in mail.subject
    # Staff read it as a removal with its reason, not as her refusal.
    panel = text(staff.get(reviews_url))
    assert "Taken off the panel: Asignada por error: conoce al equipo de Accra." in panel
    assert "Declined" not in panel
    progress = text(staff.get(f"/staff/calls/{review_call}/reviews"))
    assert re.search(r'data-figure="removed">1<', progress) and re.search(r'data-figure="declined">0<', progress)
    # She reads that the programme team took her off it, not that she declined.
    reviewer = make_client()
    reviewer.login("aissatou@experts.example", f.PASSWORD)
    mine = text(reviewer.get(f"/reviews/{assignment_id}"))
    assert "The programme team took you off this application" in mine and "You declared" not in mine
    assert "conoce al equipo" not in mine  # staff's reason is for staff
    removed = staff.post(f"/staff/jurors/{juror_id}/remove", {}, token_from=url, follow_redirects=True)
    assert "is no longer on the jury" in text(removed)


def test_a_jurors_maximum_load_cannot_go_below_what_they_already_review(app, review_call, staff):
    ids = _people(app, 1)
    aissatou = ids["aissatou@experts.example"]
    with app.app_context():
        accra, dakar = eligible(review_call, "Accra"), eligible(review_call, "Dakar")
    _seat(staff, review_call, aissatou, max_load=2)
    for application_id in (accra, dakar):
        assert "Aïssatou Ndiaye is assigned." in _manual(staff, application_id, aissatou)
    with app.app_context():
        juror_id = db.session.scalar(sa.select(Juror.id).where(Juror.reviewer_id == aissatou))
    url = f"/staff/calls/{review_call}/jury"
    refused = staff.post(f"/staff/jurors/{juror_id}", {"max_load": "1"}, token_from=url)
    assert refused.status_code == 400
    assert (
        "Aïssatou Ndiaye already reviews 2 applications of this call: the maximum load cannot be below that "
        "(take them off panels first)." in text(refused)
    )
    with app.app_context():
        assert db.session.get(Juror, juror_id).max_load == 2
    # Her load itself, or more, is accepted.
    assert staff.post(f"/staff/jurors/{juror_id}", {"max_load": "2"}, token_from=url).status_code == 302
    assert staff.post(f"/staff/jurors/{juror_id}", {"max_load": "6"}, token_from=url).status_code == 302
    with app.app_context():
        assert db.session.get(Juror, juror_id).max_load == 6


def test_staff_are_told_when_a_reviewer_they_assign_does_not_read_the_application(app, review_call, staff):
    ids = _people(app, 4)
    with app.app_context():
        quito = eligible(review_call, "Quito", language="es")
    for email in ("aissatou@experts.example", "tomas@experts.example"):
        _seat(staff, review_call, ids[email])
    form = text(staff.get(f"/staff/applications/{quito}/reviews"))
    assert "Aïssatou Ndiaye (does not read its language)" in form
    assert "Tomás Herrera (does not read" not in form
    page = _manual(staff, quito, ids["aissatou@experts.example"])
    assert "Aïssatou Ndiaye is assigned." in page
    assert "Aïssatou Ndiaye does not read Español, the language of this application" in page
    page = _manual(staff, quito, ids["tomas@experts.example"])
    assert "Tomás Herrera is assigned." in page and "Tomás Herrera does not read" not in page


def _proposal_pairs(page):
    return re.findall(r'name="pair" value="(\d+:\d+)"', page)


def test_automatic_assignment_draws_only_from_the_jury_and_respects_load_and_availability(app, review_call, staff):
    ids = _people(app, 5)
    with app.app_context():
        f.edit_call(db.session.get(Call, review_call), reviewers_per_application=2)
        apps = [eligible(review_call, city) for city in ("Accra", "Bogotá", "Montréal")]
    with app.app_context():
        today = fund_today()
    # On the jury: Aïssatou (at most 2), Jean-Pierre, Mei (away this week) and Tomás (at most 1).
    _seat(staff, review_call, ids["aissatou@experts.example"], max_load=2)
    _seat(staff, review_call, ids["jean-pierre@experts.example"])
    _seat(
        staff,
        review_call,
        ids["mei@experts.example"],
        unavailable_from=today.isoformat(),
        unavailable_until=(today + timedelta(days=7)).isoformat(),
    )
    _seat(staff, review_call, ids["tomas@experts.example"], max_load=1)
    url = f"/staff/calls/{review_call}/assign"
    page = text(staff.get(url))
    assert 'id="shortfalls"' not in page, page
    pairs = _proposal_pairs(page)
    assert len(pairs) == 6
    response = staff.post(url, {"pair": pairs}, token_from=url, follow_redirects=True)
    assert "6 assignments made" in text(response)
    with app.app_context():
        made = db.session.scalars(sa.select(Assignment)).all()
        per_reviewer = {}
        for a in made:
            per_reviewer[a.reviewer_id] = per_reviewer.get(a.reviewer_id, 0) + 1
        # Henrik is in the pool but not on the jury; Mei is unavailable today.
        assert ids["henrik@experts.example"] not in per_reviewer
        assert ids["mei@experts.example"] not in per_reviewer
        assert per_reviewer[ids["aissatou@experts.example"]] == 2
        assert per_reviewer[ids["tomas@experts.example"]] == 1
        assert per_reviewer[ids["jean-pierre@experts.example"]] == 3
        assert {a.application_id for a in made} == set(apps)


def test_a_jury_too_small_for_the_applications_gives_the_shortfall_and_saves_nothing(app, review_call, staff):
    ids = _people(app, 4)
    with app.app_context():
        f.edit_call(db.session.get(Call, review_call), reviewers_per_application=2)
        for city in ("Accra", "Bogotá", "Montréal"):
            eligible(review_call, city)
    with app.app_context():
        today = fund_today()
    _seat(staff, review_call, ids["aissatou@experts.example"], max_load=2)
    _seat(staff, review_call, ids["jean-pierre@experts.example"], max_load=2)
    _seat(
        staff,
        review_call,
        ids["mei@experts.example"],
        unavailable_from=today.isoformat(),
        unavailable_until=today.isoformat(),
    )
    url = f"/staff/calls/{review_call}/assign"
    page = text(staff.get(url))
    assert 'id="shortfalls"' in page
    # Six places, four within the load limits of the two available jurors: one application lacks both.
    assert (
        "reviewers missing: 2. Of the 3 on the jury: proposed for it, 0; already on its panel, 0; in conflict "
        "with it, 0; declined it or taken off its panel, 0; unavailable today, 1; at their maximum load, 2." in page
    )
    response = staff.post(url, {"pair": _proposal_pairs(page)}, token_from=url, follow_redirects=True)
    assert "Nothing was assigned." in text(response)
    with app.app_context():
        assert count(Assignment) == 0
    assert user_by_email  # the helper module stays in use


@pytest.mark.parametrize("size", [0])
def test_a_call_without_a_jury_proposes_nobody(app, review_call, staff, size):
    _people(app, 3)
    with app.app_context():
        eligible(review_call, "Accra")
    page = text(staff.get(f"/staff/calls/{review_call}/assign"))
    assert "Of the 0 on the jury" in page and 'name="pair"' not in page
