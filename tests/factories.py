"""One way to build test states: through the real operations, with data that looks like real use.

Every helper walks the operations of `fundapp.scenarios` (start → save → submit → screen → assign →
declare → score → decide → send letter → accept → pay → report → approve); none sets a state
column. Call them inside an app context. Cities are the real members (Bogotá, Montréal, Dakar…),
focal points write in Spanish, French or English, applications carry care dimensions, partners,
budgets and documents.
"""

import csv
import unicodedata
from decimal import Decimal

import sqlalchemy as sa

from fundapp import scenarios as s
from fundapp.accounts import operations as accounts
from fundapp.calls import demo
from fundapp.calls import operations as calls
from fundapp.calls.models import Call
from fundapp.demo import DONORS
from fundapp.extensions import db
from fundapp.funding import operations as funding
from fundapp.funding.models import Donor
from fundapp.members import operations as members
from fundapp.members.models import Member

PASSWORD = "correct horse battery"

# Real members with a focal point's name and language.
CITIES = {
    "Bogotá": ("CO", "latin_america_caribbean", "Camila Rodríguez", "es"),
    "Medellín": ("CO", "latin_america_caribbean", "Julián Restrepo", "es"),
    "Montréal": ("CA", "north_america", "Geneviève Tremblay", "fr"),
    "Dakar": ("SN", "africa", "Aminata Sow", "fr"),
    "Abidjan": ("CI", "africa", "Koffi Kouassi", "fr"),
    "São Paulo": ("BR", "latin_america_caribbean", "Lucas Oliveira", "en"),
    "Quito": ("EC", "latin_america_caribbean", "Andrea Paredes", "es"),
    "Lisbon": ("PT", "europe", "Inês Carvalho", "en"),
    "Seoul": ("KR", "asia_pacific", "Ji-woo Park", "en"),
    "Yaoundé": ("CM", "africa", "Awa Mbarga", "fr"),
    "Accra": ("GH", "africa", "Akosua Mensah", "en"),
    "Tunis": ("TN", "africa", "Youssef Ben Salah", "fr"),
    "Madrid": ("ES", "europe", "Lucía Fernández", "es"),
    "Barcelona": ("ES", "europe", "Laia Puig", "es"),
    "Montevideo": ("UY", "latin_america_caribbean", "Valentina Silva", "es"),
    "Mexico City": ("MX", "north_america", "Mariana López", "es"),
}


def _bundled_members():
    """{name: (country, region, membership)} of the 2024 member list the app ships with."""
    with members.MEMBERS_CSV.open(encoding="utf-8") as handle:
        return {row["name"]: (row["country"], row["region"], row["membership"]) for row in csv.DictReader(handle)}


def real_members(region=None):
    """Names of real members (from the bundled list), in the list's order; of one region if given."""
    return [name for name, (_c, r, m) in _bundled_members().items() if m == "full" and region in (None, r)]


def slug(text):
    """ "São Paulo" -> "saopaulo", for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


# Marks in criterion order (relevance, recognise-reduce-redistribute, gender, feasibility, sustainability).
STRONG = [5, 4.5, 4.5, 4, 4.5]
GOOD = [4, 4, 3.5, 4, 3.5]
WEAK = [2.5, 2, 2.5, 3, 2]


def fund():
    """The two real donors and their contributions: {short name: contribution}."""
    result = {}
    for short, name, cents in (
        ("SDC", "Swiss Agency for Development and Cooperation", 700_000_00),
        ("OSF", "Open Society Foundations", 100_000_00),
    ):
        donor = db.session.scalar(sa.select(Donor).where(Donor.short_name == short))
        if donor is None:
            translations = next(d["name_translations"] for d in DONORS if d["short_name"] == short)
            donor = funding.create_donor(actor=None, name=name, short_name=short, name_translations=translations)
            funding.add_contribution(donor, actor=None, amount_original_cents=cents)
        result[short] = donor.contributions[0]
    return result


def user(email, *roles, name=None, language="en", member=None, donor=None):
    existing = accounts.find_user_by_email(email)
    if existing is not None:
        return existing
    return s.person(
        email,
        name or email.split("@")[0].replace(".", " ").title(),
        *roles,
        member=member,
        donor=donor,
        language=language,
        password=PASSWORD,
    )


def staff(email="staff@fund.example", name="Sofía Martínez"):
    return user(email, "staff", name=name)


def member(name, *, dues=2026, membership="full", country=None, region=None):
    """A member city, created through the members operation when it is not there yet.

    Country and region come from CITIES, else from the bundled member list, unless given.
    """
    existing = db.session.scalar(sa.select(Member).where(Member.name == name))
    if existing is not None:
        return existing
    if name in CITIES:
        known = CITIES[name][:2]
    else:
        known = _bundled_members().get(name, ("ES", "europe"))[:2]
    return members.create_member(
        actor=None,
        name=name,
        country=country or known[0],
        region=region or known[1],
        membership=membership,
        dues_paid_through=dues,
    )


def focal_point(city, email=None, *, language=None, name=None):
    """A focal point of `city` (a member name), writing in the city's language unless told."""
    place = member(city)
    _country, _region, default_name, default_language = CITIES.get(city, ("", "", f"Focal point of {city}", "en"))
    return user(
        email or f"focal@{slug(city)}.example",
        "applicant",
        name=name or default_name,
        language=language or default_language,
        member=place,
    )


def reviewer(
    email,
    name,
    *,
    gender="woman",
    region="europe",
    country="ES",
    languages="en,fr,es",
    affiliation=None,
    language="en",
):
    """A reviewer of the pool with its profile (set through the accounts operation); `affiliation`: a member."""
    existing = accounts.find_user_by_email(email)
    if existing is not None:
        return existing
    reviewer = s.reviewer(
        email,
        name,
        gender=gender,
        region=region,
        country=country,
        languages=languages,
        expertise="Care systems",
        password=PASSWORD,
        language=language,
    )
    if affiliation is not None:
        accounts.update_reviewer_profile(reviewer, actor=None, affiliation_member_id=affiliation.id)
    return reviewer


def panel(size=3):
    """Reviewers of the pool balanced by gender and region (`assigned` seats them on the call's jury)."""
    people = [
        ("aissatou@experts.example", "Aïssatou Ndiaye", "woman", "africa", "SN"),
        ("jean-pierre@experts.example", "Jean-Pierre Lavoie", "man", "north_america", "CA"),
        ("mei@experts.example", "Mei Lin", "woman", "asia_pacific", "SG"),
        ("henrik@experts.example", "Henrik Berg", "man", "europe", "SE"),
        ("rania@experts.example", "Rania Haddad", "woman", "eurasia_middle_east", "JO"),
    ]
    return [reviewer(e, n, gender=g, region=r, country=c) for e, n, g, r, c in people[:size]]


def call(code="LCS-2025", *, actor=None, envelope=None, criteria=True, publish=True, **overrides):
    """The Local Care Systems call (open now, eight weeks to go), with its criteria, published."""
    existing = db.session.scalar(sa.select(Call).where(Call.code == code))
    if existing is not None:
        return existing
    contributions = fund()
    actor = actor or staff()
    money = envelope or {"SDC": 700_000_00, "OSF": 100_000_00}
    values = demo.call_values(code=code, **overrides)
    made = s.calls.save_call(
        None, actor=actor, values=values, funding={contributions[k].id: v for k, v in money.items() if v}
    )
    if criteria:
        for name, weight in demo.CRITERIA:
            s.calls.save_criterion(made, None, actor=actor, values=demo.criterion_values(name, weight))
    if publish:
        s.calls.publish_call(made, actor=actor)
    return made


def edit_call(the_call, *, actor=None, envelope=None, **changes):
    """Staff edit a call (published calls stay editable): its rules, or its envelope {short name: cents}."""
    values = {name: getattr(the_call, name) for name in calls.CALL_FIELDS}
    values.update(changes)
    money = {line.contribution_id: line.amount_cents for line in the_call.funding}
    if envelope is not None:
        contributions = fund()
        money = {contributions[k].id: v for k, v in envelope.items() if v}
    return calls.save_call(the_call, actor=actor or staff(), values=values, funding=money)


PROPOSALS = {
    "es": dict(
        title="Manzanas del Cuidado en {city}",
        summary="Servicios de cuidado cerca de casa para liberar el tiempo de las cuidadoras.",
        problem="Las mujeres de {city} dedican diez horas diarias a cuidados no remunerados.",
        objectives="Reconocer, reducir y redistribuir el trabajo de cuidados.",
        activities="Abrir dos manzanas del cuidado y formar a 300 cuidadoras.",
        target_groups="Cuidadoras no remuneradas, personas mayores",
    ),
    "fr": dict(
        title="Maisons du soin de quartier à {city}",
        summary="Des maisons du soin où les aidantes confient enfants et aînés.",
        problem="À {city}, les femmes assurent l’essentiel du soin sans relais.",
        objectives="Redistribuer le soin et rémunérer les aidantes.",
        activities="Ouvrir deux maisons du soin, rémunérer 40 aidantes.",
        target_groups="Aidantes familiales, personnes âgées",
    ),
    "en": dict(
        title="Neighbourhood care hubs in {city}",
        summary="Care hubs that give family carers respite and training.",
        problem="Family carers in {city}, mostly women, have no respite.",
        objectives="Reduce and redistribute unpaid care work.",
        activities="Open two care hubs and train 300 carers.",
        target_groups="Family carers, older people",
    ),
}


def proposal(
    city,
    *,
    language=None,
    requested=100_000_00,
    partners=(),
    dimensions=("recognise", "redistribute"),
    lead_name="",
    lead_gender=None,
):
    """What a city proposes, in its language: care dimensions, a budget with co-funding, partners,
    and who leads the project (with their gender, when given)."""
    language = language or CITIES.get(city, ("", "", "", "en"))[3]
    texts = {k: v.format(city=city) for k, v in PROPOSALS[language].items()}
    personnel = requested * 3 // 5
    return s.Proposal(
        language=language,
        dimensions=list(dimensions),
        milestones="Month 6: first hub open.",
        risks="Staff turnover; multi-year contracts.",
        budget=[
            ("personnel", "Coordinators / Coordinadoras", personnel, 12_000_00),
            ("equipment", "Furniture for the hubs", requested - personnel, 6_000_00),
        ],
        partners=[(member(p), "Shares its care map") for p in partners],
        lead_name=lead_name,
        lead_gender=lead_gender,
        **texts,
    )


def draft(city="Bogotá", *, the_call=None, focal=None, **proposal_kw):
    the_call = the_call or call()
    focal = focal or focal_point(city)
    return s.draft(the_call, focal, proposal(city, **proposal_kw))


def submitted(city="Bogotá", *, the_call=None, focal=None, **proposal_kw):
    focal = focal or focal_point(city)
    application = draft(city, the_call=the_call, focal=focal, **proposal_kw)
    s.submit(application, focal)
    return application


def eligible(city="Bogotá", *, by=None, **kw):
    application = submitted(city, **kw)
    s.screen(application, by or staff())
    return application


def assigned(city="Bogotá", *, reviewers=None, by=None, **kw):
    """Eligible, with a panel of reviewers assigned (declarations still to make)."""
    application = eligible(city, by=by, **kw)
    for person in reviewers if reviewers is not None else panel(application.call.reviewers_per_application):
        s.assign(application, person, by or staff())
    return application


def reviewed(
    city="Bogotá",
    marks=None,
    *,
    reviewers=None,
    comment="Clear plan, real partners.",
    staff_comment="",
    recommendation="fund",
    **kw,
):
    """Every reviewer of the panel has declared no conflict and submitted the marks given."""
    application = assigned(city, reviewers=reviewers, **kw)
    s.review_all(
        application, marks or GOOD, comment=comment, staff_comment=staff_comment, recommendation=recommendation
    )
    return application


def awarded(city="Bogotá", amount_cents=None, *, letter=True, marks=None, by=None, **kw):
    application = reviewed(city, marks or STRONG, by=by, **kw)
    return s.award(application, by or staff(), amount_cents, letter=letter)


def accepted(city="Bogotá", *, focal=None, **kw):
    focal = focal or focal_point(city)
    decision = awarded(city, focal=focal, **kw)
    return s.accept(decision, focal)


def paid_first_tranche(city="Bogotá", *, by=None, paid_on=None, **kw):
    grant = accepted(city, by=by, **kw)
    s.pay_due(grant, by or staff(), paid_on=paid_on)
    return grant


def interim_approved(city="Bogotá", *, by=None, **kw):
    """First tranche paid, the interim report written by the city and approved: the second is due."""
    focal = kw.pop("focal", None) or focal_point(city)
    grant = paid_first_tranche(city, by=by, focal=focal, **kw)
    report = s.report(
        grant,
        focal,
        "interim",
        progress="Two care hubs are open; the third opens next quarter.",
        results="410 carers trained.",
        reached=(1450, 410, 25),
        spent_share=Decimal("0.4"),
    )
    s.approve(report, by or staff())
    return grant


def reviewed_with_budget(city, budget, *, the_call=None, marks=None, by=None):
    """`city`'s application with its own budget lines [(category, description, requested cents,
    co-funding cents)], sent, screened eligible and scored by a full panel (`marks`, STRONG unless given)."""
    the_call = the_call or call()
    focal = focal_point(city)
    offer = proposal(city)
    offer.budget = list(budget)
    application = s.draft(the_call, focal, offer)
    s.submit(application, focal)
    s.screen(application, by or staff())
    for person in panel(the_call.reviewers_per_application):
        s.assign(application, person, by or staff())
    s.review_all(application, marks or STRONG, comment="Clear plan, real partners.", recommendation="fund")
    return application


def reserved(city="Quito", *, letter=True, marks=None, by=None, **kw):
    """Reviewed, then put on the reserve list by staff; its letter sent (the city told) unless `letter=False`."""
    application = reviewed(city, marks or GOOD, by=by, **kw)
    s.reserve(application, by or staff(), letter=letter)
    return application


def declined(city="Bogotá", *, focal=None, reason="El concejo no aprobó la contrapartida municipal.", **kw):
    """Awarded, the letter sent, and the city declines the grant (with its reason): the grant."""
    focal = focal or focal_point(city)
    decision = awarded(city, focal=focal, **kw)
    return s.decline(decision, focal, reason)


def final_approved(city="Bogotá", *, by=None, **kw):
    """The interim report approved and the second tranche paid, then the final report written and
    approved: the last tranche is due, nothing else is."""
    focal = kw.pop("focal", None) or focal_point(city)
    grant = interim_approved(city, by=by, focal=focal, **kw)
    s.pay_due(grant, by or staff())
    report = s.report(
        grant,
        focal,
        "final",
        progress="Three care hubs are open and run by the district.",
        results="1,020 carers trained; 40 paid respite workers.",
        reached=(2900, 820, 40),
        spent_share=Decimal("0.9"),
    )
    s.approve(report, by or staff())
    return grant


def partner_confirmed(application, city, *, letter=True):
    """`city` (a partner named in `application`) confirms its part through its focal point, with a
    letter of commitment unless told."""
    return s.confirm_partnership(application, focal_point(city), letter=letter)
