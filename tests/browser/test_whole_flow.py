"""One application's whole life through the pages, every role in its own browser and language.

Montréal's focal point applies in French with a partner city, Bogotá's in Spanish; staff screen
both, put three reviewers on each panel; the reviewers declare no conflict and score; staff award
Montréal and turn Bogotá down (below the call's threshold), send the letters; Montréal accepts its
grant from its home page and staff pay the first tranche. The database then holds a grant paid
40 % and an envelope whose committed and paid figures moved by exactly those cents.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages import demo_user, pdf_file, sign_in

pytestmark = pytest.mark.browser

REQUIRED = ["Letter of support from the mayor or city government", "Detailed budget"]
MONTREAL = dict(
    language="fr",
    title="Maisons du soin de quartier à Montréal",
    summary="Des maisons du soin où les proches aidantes confient leurs aînés quelques heures par jour.",
    problem="À Montréal, les proches aidantes, surtout des femmes, assurent l’essentiel du soin sans relais.",
    objectives="Reconnaître et redistribuer le travail de soin ; rémunérer les aidantes.",
    activities="Ouvrir deux maisons du soin et former 120 aidantes avec Dakar.",
    target_groups="Proches aidantes, personnes âgées en perte d’autonomie",
    dimensions=["recognise", "redistribute", "reward"],
    beneficiaries=("1400", "350", "20"),
    duration="18",
    milestones="Mois 6 : première maison ouverte. Mois 12 : 120 aidantes formées.",
    # Typed the French way: a space between thousands, a comma before the cents.
    budget=[
        ("personnel", "Coordinatrices des maisons du soin", "60 000,00", "12 000,00"),
        ("equipment", "Aménagement des maisons", "30 000", "4 500,50"),
    ],
    total="90 000,00 €",
    partner=("Dakar", "Partage son modèle de maisons du soin"),
)
BOGOTA = dict(
    language="es",
    title="Escuelas del cuidado para hombres en Bogotá",
    summary="Talleres para que los hombres asuman su parte del trabajo de cuidados.",
    problem="En Bogotá las mujeres dedican el triple de horas que los hombres a los cuidados.",
    objectives="Redistribuir el trabajo de cuidados entre mujeres y hombres.",
    activities="Cuarenta talleres barriales y una campaña pública.",
    target_groups="Hombres adultos de los barrios de las manzanas del cuidado",
    dimensions=["redistribute"],
    beneficiaries=("200", "2400", "0"),
    duration="12",
    milestones="Mes 4: primeros veinte talleres.",
    budget=[("services", "Talleres barriales", "45.000,00", "9.000,00")],
    total="45.000,00 €",
    partner=("Medellín", "Replica los talleres en sus comunas"),
)
PROPOSALS = {"Montréal": MONTREAL, "Bogotá": BOGOTA}
# Marks in criterion order (relevance, recognise-reduce-redistribute, gender, feasibility,
# sustainability); None is "I cannot judge this criterion".
MARKS = {
    "Rania Reviewer": {"Montréal": [4.5, 4.5, 4, 4, 4.5], "Bogotá": [2.5, 2.5, 2, 3, 2.5]},
    "Tomás Herrera": {"Montréal": [4, 4.5, 4.5, 4, 4], "Bogotá": [3, 2.5, 2.5, 2.5, 2]},
    "Nomvula Dlamini": {"Montréal": [5, 4, None, 4.5, 4], "Bogotá": [2.5, 2, 2.5, 3, 2]},
}
REVIEWERS = {
    "Rania Reviewer": ("reviewer@fundapp.test", "en-GB"),
    "Tomás Herrera": ("reviewer2@fundapp.test", "es-ES"),
    "Nomvula Dlamini": ("nomvula@experts.example", "en-GB"),
}


@pytest.fixture
def open_call(app, demo_accounts):
    """The demo accounts, Montréal's focal point, a third reviewer, and LCS-2025 open with nobody applying yet."""
    from fundapp.extensions import db

    from .. import factories

    with app.app_context():
        call = factories.call(actor=demo_user("staff@fundapp.test"))
        factories.focal_point("Montréal", "focal@montreal.example", language="fr", name="Geneviève Tremblay")
        factories.reviewer(
            "nomvula@experts.example", "Nomvula Dlamini", region="africa", country="ZA", languages="en,fr,es"
        )
        earliest, _latest = call.start_window()
        db.session.commit()
        return dict(id=call.id, code=call.code, start=earliest, envelope=_envelope(call))


def _envelope(call):
    return {line.contribution.donor.short_name: (line.committed_cents, line.paid_cents) for line in call.funding}


def test_an_application_from_draft_to_its_first_tranche_paid_through_the_pages(open_call, app, live_server, browser):
    call = open_call

    # -- Montréal applies in French -------------------------------------------------------------
    montreal = sign_in(browser, live_server, "focal@montreal.example", locale="fr-FR", timezone_id="America/Toronto")
    assert montreal.locator("html").get_attribute("lang") == "fr"
    expect(montreal.locator("section[data-role=applicant] h3")).to_have_text("Votre ville")
    montreal.locator(f"section[data-role=applicant] a[href='/calls/{call['code']}']").click()
    montreal_ref, check_page = _apply(montreal, MONTREAL, call["start"])
    assert "Vérifier avant de soumettre" in check_page

    # -- Bogotá applies in Spanish --------------------------------------------------------------
    bogota = sign_in(browser, live_server, "city@fundapp.test", locale="es-ES", timezone_id="America/Bogota")
    bogota.goto(f"{live_server}/calls/{call['code']}")
    bogota_ref, check_page = _apply(bogota, BOGOTA, call["start"])
    assert "Revisar antes de presentar" in check_page
    assert montreal_ref == f"IFM-{call['code']}-001" and bogota_ref == f"IFM-{call['code']}-002"

    with app.app_context():
        from fundapp.applications.models import Application
        from fundapp.extensions import db

        saved = db.session.scalar(sa.select(Application).where(Application.reference == montreal_ref))
        assert saved.language == "fr" and saved.dimensions == MONTREAL["dimensions"]
        assert [(ln.requested_cents, ln.cofunding_cents) for ln in saved.budget_lines] == [
            (60_000_00, 12_000_00),
            (30_000_00, 4_500_50),
        ]
        assert [(p.member.name, p.role) for p in saved.partners] == [MONTREAL["partner"]]
        assert sorted(d.requirement for d in saved.documents) == sorted(REQUIRED)
        ids = {
            "Montréal": saved.id,
            "Bogotá": db.session.scalar(sa.select(Application.id).where(Application.reference == bogota_ref)),
        }
    references = {"Montréal": montreal_ref, "Bogotá": bogota_ref}

    # -- Staff screen both and put a panel of three on each -------------------------------------
    staff = sign_in(browser, live_server, "staff@fundapp.test")
    staff.get_by_role("link", name="Manage calls").click()
    staff.get_by_role("link", name=call["code"], exact=True).click()
    staff.locator(f"a[href='/staff/calls/{call['id']}/applications']").first.click()
    list_url = staff.url
    # Assignment draws only from the call's jury: staff seat the three reviewers on it first.
    staff.goto(f"{live_server}/staff/calls/{call['id']}/jury")
    for name in MARKS:
        staff.get_by_label("Reviewer", exact=True).select_option(label=name)
        staff.get_by_role("button", name="Add to the jury").click()
        expect(staff.get_by_text(f"{name} is on the jury.")).to_be_visible()
    for city in ("Montréal", "Bogotá"):
        staff.goto(list_url)
        staff.get_by_role("link", name=references[city]).click()
        staff.locator("form[data-action=mark_eligible] button").click()
        expect(staff.locator(".flash-success")).to_contain_text("Screening recorded: Eligible")
        staff.locator(f"a[href='/staff/applications/{ids[city]}/reviews']").first.click()
        for name in MARKS:
            # A reviewer who does not read the application's language is marked so in the list.
            choice = staff.locator("select[name=reviewer] option", has_text=name).first.get_attribute("value")
            staff.locator("select[name=reviewer]").select_option(value=choice)
            staff.locator(f"form[action='/staff/applications/{ids[city]}/assign'] button").click()
            expect(staff.get_by_text(f"{name} is assigned.")).to_be_visible()
        expect(staff.locator("table tbody tr")).to_have_count(3)

    # -- Three reviewers declare no conflict and score both -------------------------------------
    for name, (email, locale) in REVIEWERS.items():
        reviewer = sign_in(browser, live_server, email, locale=locale)
        for city in ("Montréal", "Bogotá"):
            reviewer.goto(f"{live_server}/")
            reviewer.locator("section[data-role=reviewer]").get_by_role("link", name=references[city]).click()
            expect(reviewer.locator("#no-conflict")).to_be_visible()
            problem = PROPOSALS[city]["problem"]
            assert reviewer.get_by_text(problem).count() == 0  # nothing to read before declaring
            reviewer.locator("#no-conflict").click()
            expect(reviewer.get_by_text(problem).first).to_be_visible()
            _score(reviewer, MARKS[name][city], city)
            expect(reviewer.locator("#submit-review")).to_have_count(0)  # submitted: no longer editable
            expect(reviewer.locator(".flash-success")).to_have_count(1)
        reviewer.context.close()

    with app.app_context():
        from fundapp.reviews.models import CriterionScore, Review

        cannot = db.session.scalars(sa.select(CriterionScore).where(CriterionScore.cannot_judge.is_(True))).all()
        assert len(cannot) == 1 and cannot[0].score is None
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Review).where(Review.submitted_at.is_not(None)))
            == 6
        )
        before = _envelope(db.session.get(Application, ids["Montréal"]).call)
        assert before == call["envelope"] == {"SDC": (0, 0), "OSF": (0, 0)}

    # -- Staff award Montréal, turn Bogotá down, send both letters ------------------------------
    staff.goto(f"{live_server}/staff/calls/{call['id']}")
    staff.locator(f"a[href='/staff/calls/{call['id']}/decisions']").first.click()
    expect(staff.locator(f"tr.fits[data-reference='{montreal_ref}']")).to_have_count(1)
    montreal_card = staff.locator(f"#decide-{ids['Montréal']}")
    montreal_card.locator("select[name=kind]").select_option("award")
    montreal_card.locator("input[name=conditions]").fill("Rapport intermédiaire traduit en anglais.")
    montreal_card.locator("button[type=submit]").click()
    expect(staff.get_by_text(f"{montreal_ref}: Award recorded.")).to_be_visible()
    expect(staff.locator("[data-figure=committed]")).to_have_text("€90,000.00")
    bogota_card = staff.locator(f"#decide-{ids['Bogotá']}")
    # Below the call's threshold of 60 points: decided on its own card, "not funded" proposed.
    assert "below-threshold" in bogota_card.get_attribute("class")
    assert bogota_card.locator("select[name=kind]").input_value() == "reject"
    bogota_card.locator("input[name=reason]").fill("La puntuación del panel queda por debajo del umbral de 60 puntos.")
    bogota_card.locator("button[type=submit]").click()
    expect(staff.get_by_text(f"{bogota_ref}: Not funded recorded.")).to_be_visible()
    for city in ("Montréal", "Bogotá"):
        staff.locator(f"#decide-{ids[city]} button.send-letter").click()
        expect(staff.get_by_text("is being sent")).to_be_visible()

    from ..helpers import run_jobs

    run_jobs(app)  # the RQ worker renders the letters in each city's language and e-mails them
    with app.app_context():
        from fundapp.awards.models import Letter

        assert sorted(letter.status for letter in db.session.scalars(sa.select(Letter))) == ["sent", "sent"]

    # -- Montréal finds the award from its home page and accepts the grant ----------------------
    montreal.goto(f"{live_server}/")
    card = montreal.locator("section[data-role=applicant]")
    card.get_by_role("link", name=montreal_ref).click()
    decision = montreal.locator("#decision")
    assert decision.get_attribute("data-decision") == "awarded"
    assert "90 000,00 €" in _spaces(decision.inner_text())
    assert "Attribution d’une subvention" in _letter_text(montreal, decision, live_server)
    decision.locator("a[data-link=grant]").click()
    montreal.wait_for_url(re.compile(r".*/grants/\d+$"))
    grant_url = montreal.url
    expect(montreal.locator("#accept-grant")).to_have_text("Accepter la subvention")
    montreal.locator("#bank_details").fill("Ville de Montréal · Banque Nationale · CA12 0061 0012 3456 7890 · BNDCCAMM")
    montreal.locator("#accept-grant").click()
    expect(montreal.locator("#accept-grant")).to_have_count(0)
    assert montreal.url == grant_url
    assert "36 000,00" in _spaces(montreal.locator("tr[data-tranche='1']").inner_text())

    # -- Bogotá reads its outcome on its application page, in Spanish ---------------------------
    bogota.goto(f"{live_server}/")
    bogota.locator("section[data-role=applicant]").get_by_role("link", name=bogota_ref).click()
    outcome = bogota.locator("#decision")
    assert outcome.get_attribute("data-decision") == "not_funded"
    assert "No financiada" in bogota.locator(".reference").inner_text()
    assert "por debajo del umbral de 60 puntos" in outcome.inner_text()
    assert outcome.locator("a[data-link=grant]").count() == 0
    assert "Lamentamos comunicarle" in _letter_text(bogota, outcome, live_server)
    expect(bogota.get_by_role("link", name="Sus solicitudes").first).to_be_visible()

    # -- Staff record the first tranche on the grant page ---------------------------------------
    staff.goto(grant_url)
    assert "due" in staff.locator("tr[data-tranche='1']").inner_text()
    payment = staff.locator("form[action$='/payments']")
    payment.locator("select[name=tranche]").select_option(index=0)
    payment.locator("input[name=amount]").fill("36,000.00")
    payment.locator("input[name=paid_on]").fill(datetime.now(ZoneInfo("Europe/Madrid")).date().isoformat())
    payment.locator("input[name=reference]").fill(f"{montreal_ref}-T1")
    payment.locator("button[type=submit]").click()
    expect(staff.get_by_text("Payment recorded.")).to_be_visible()
    expect(staff.locator("[data-figure=paid]")).to_have_text("€36,000.00")

    with app.app_context():
        from fundapp.awards.models import Grant

        db.session.expire_all()
        grants = db.session.scalars(sa.select(Grant)).all()
        assert len(grants) == 1
        grant = grants[0]
        assert grant.application_id == ids["Montréal"] and grant.amount_cents == 90_000_00
        assert grant.bank_details.startswith("Ville de Montréal")
        assert grant.paid_cents == 36_000_00 == grant.amount_cents * 40 // 100
        assert [t.paid_cents for t in grant.tranches] == [36_000_00, 0, 0]
        assert grant.tranches[0].paid_cents == grant.tranches[0].amount_cents
        # The award took 90,000.00 from the envelope pro rata (SDC 700,000 : OSF 100,000), the
        # payment paid 36,000.00 out of it in the same shares.
        after = _envelope(grant.application.call)
        moved = {k: (after[k][0] - before[k][0], after[k][1] - before[k][1]) for k in after}
        assert moved == {"SDC": (78_750_00, 31_500_00), "OSF": (11_250_00, 4_500_00)}
        assert sum(c for c, _p in moved.values()) == grant.amount_cents
        assert sum(p for _c, p in moved.values()) == grant.paid_cents
        assert {a.call_funding.contribution.donor.short_name: a.paid_cents for a in grant.allocations} == {
            "SDC": 31_500_00,
            "OSF": 4_500_00,
        }


def _letter_text(page, card, live_server):
    """The decision letter the card links to, fetched with the city's own session, as text."""
    import io

    from pypdf import PdfReader

    links = card.locator("a[href^='/letters/']")
    expect(links).to_have_count(1)
    response = page.request.get(live_server + links.get_attribute("href"))
    assert response.ok and response.body().startswith(b"%PDF")
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)


def _spaces(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _apply(page, proposal, start):
    """From the call page: start the draft, fill every section, attach the documents, check and
    submit. Returns the reference and the text of the check page."""
    page.locator("#start-application").click()
    page.wait_for_url("**/applications/*/edit")
    edit_url = page.url
    form = page.locator("#application-form")
    form.locator("[name=language]").select_option(proposal["language"])
    for name in ("title", "summary", "problem", "objectives", "activities", "target_groups"):
        form.locator(f"[name={name}]").fill(proposal[name])
    for dimension in proposal["dimensions"]:
        form.locator(f"[name=dimensions][value={dimension}]").check()
    for name, value in zip(("women", "men", "other"), proposal["beneficiaries"]):
        form.locator(f"[name=beneficiaries_{name}]").fill(value)
    form.locator("[name=start_date]").fill(start.isoformat())
    form.locator("[name=duration_months]").fill(proposal["duration"])
    form.locator("[name=milestones]").fill(proposal["milestones"])
    for i, (category, description, requested, cofunding) in enumerate(proposal["budget"]):
        form.locator(f"[name='budget-{i}-category']").select_option(category)
        form.locator(f"[name='budget-{i}-description']").fill(description)
        form.locator(f"[name='budget-{i}-requested']").fill(requested)
        form.locator(f"[name='budget-{i}-cofunding']").fill(cofunding)
    # The running total is shown the way the city writes numbers.
    assert proposal["total"] in _spaces(page.locator("#total-requested").inner_text())
    partner, role = proposal["partner"]
    form.locator("[name='partners-0-member']").select_option(label=partner)
    form.locator("[name='partners-0-role']").fill(role)
    with page.expect_navigation(url=edit_url):  # the same page, saved
        page.locator("button[name=next][value=edit]").click()
    assert page.locator(".error-summary").count() == 0
    assert page.locator("[name=title]").input_value() == proposal["title"]

    for requirement in REQUIRED:
        page.locator("#documents select[name=requirement]").select_option(requirement)
        page.locator("#documents input[type=file]").set_input_files(pdf_file(f"{requirement}.pdf", proposal["title"]))
        with page.expect_navigation():
            page.locator("#documents button[type=submit]").last.click()
    expect(page.locator("#documents li")).to_have_count(len(REQUIRED))

    page.locator("button[name=next][value=check]").click()
    page.wait_for_url("**/check")
    check_text = page.locator("main").inner_text()
    assert page.locator("form[action$='/submit']").count() == 1, check_text
    page.locator("form[action$='/submit'] button").click()
    page.wait_for_url("**/applications/*?v=1")
    reference = page.locator(".reference strong").inner_text()
    return reference, check_text


def _score(page, marks, city):
    """The scoring page: a mark per criterion (or "cannot judge"), a recommendation, submit."""
    inputs = page.locator("#review-form fieldset")
    assert inputs.count() == len(marks)
    for i, mark in enumerate(marks):
        fieldset = inputs.nth(i)
        if mark is None:
            fieldset.locator("input[type=checkbox][name^=cannot_judge_]").check()
        else:
            fieldset.locator("input[name^=score_]").fill(str(mark))
    page.locator("#recommendation-select").select_option("fund" if city == "Montréal" else "do_not_fund")
    page.locator("#comment_applicant").fill("Un plan clair ; le budget correspond aux activités.")
    page.locator("#submit-review").click()
