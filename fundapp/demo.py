"""The demo fund: a past window run to its end and the open call, built through the operations.

Everything here happens the way real use makes it happen: the steps of `scenarios` call the
operations, replayed at past instants with `clock_at`, with jobs (receipts, letters, mail,
reminders, the donor reports) run in-process at the instant they were due. Nothing sets a state.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from . import scenarios as s
from .accounts import operations as accounts
from .calls import demo as call_texts
from .calls import operations as calls
from .calls.models import Call
from .core.jobs import jobs_in_process, run_due_jobs
from .core.models import Notice
from .core.operations import dismiss_notice
from .core.timeutil import clock_at, utcnow
from .extensions import db
from .funding import operations as funding
from .funding.models import Contribution, Donor
from .members import operations as members
from .members.models import Member
from .reporting import operations as reporting
from .reporting.models import DonorReport

MADRID = ZoneInfo("Europe/Madrid")

DONORS = [
    dict(
        name="Swiss Agency for Development and Cooperation",
        name_translations={
            "fr": "Direction du développement et de la coopération",
            "es": "Agencia Suiza para el Desarrollo y la Cooperación",
        },
        short_name="SDC",
        reporting_language="fr",
        amount_cents=700_000_00,
        pledged_on=date(2024, 11, 1),
    ),
    dict(
        name="Open Society Foundations",
        name_translations={"fr": "Fondations pour une société ouverte", "es": "Fundaciones para una Sociedad Abierta"},
        short_name="OSF",
        reporting_language="en",
        amount_cents=100_000_00,
        pledged_on=date(2024, 11, 1),
    ),
]

# What each call takes from each contribution: the rest stays unallocated, so staff trying the
# app can fund a new call at once.
PAST_ENVELOPE = {"SDC": 350_000_00, "OSF": 50_000_00}
OPEN_ENVELOPE = {"SDC": 250_000_00, "OSF": 30_000_00}

# One account per role; the passwords are printed and only ever set outside production.
DEMO_USERS = [
    dict(email="admin@fundapp.test", name="Ada Admin", roles=["admin"], password="demo-admin-pass"),
    dict(email="staff@fundapp.test", name="Sofía Staff", roles=["staff"], password="demo-staff-pass"),
    dict(
        email="city@fundapp.test",
        name="Camila Focal",
        roles=["applicant"],
        member="Bogotá",
        password="demo-city-pass",
        language="es",
    ),
    dict(
        email="partner@fundapp.test",
        name="Julián Restrepo",
        roles=["applicant"],
        member="Medellín",
        password="demo-partner-pass",
        language="es",
    ),
    dict(
        email="reviewer@fundapp.test",
        name="Rania Reviewer",
        roles=["reviewer"],
        password="demo-reviewer-pass",
        profile=dict(gender="woman", region="eurasia_middle_east", country="JO", languages="en,fr"),
    ),
    dict(
        email="reviewer2@fundapp.test",
        name="Tomás Herrera",
        roles=["reviewer"],
        password="demo-reviewer2-pass",
        language="es",
        profile=dict(gender="man", region="latin_america_caribbean", country="AR", languages="es,en"),
    ),
    dict(
        email="donor@fundapp.test",
        name="Daniel Donor",
        roles=["donor"],
        donor="SDC",
        password="demo-donor-pass",
        language="fr",
    ),
]

# The rest of the jury: experts who never sign in to the demo (random passwords).
EXPERTS = [
    dict(
        email="aissatou.ndiaye@experts.test",
        name="Aïssatou Ndiaye",
        gender="woman",
        region="africa",
        country="SN",
        languages="fr,en",
        expertise="Care economy, social protection",
        language="fr",
    ),
    dict(
        email="jean-pierre.lavoie@experts.test",
        name="Jean-Pierre Lavoie",
        gender="man",
        region="north_america",
        country="CA",
        languages="fr,en",
        expertise="Municipal social services",
        language="fr",
    ),
    dict(
        email="mei.lin@experts.test",
        name="Mei Lin",
        gender="woman",
        region="asia_pacific",
        country="SG",
        languages="en",
        expertise="Ageing and long-term care",
    ),
    dict(
        email="henrik.berg@experts.test",
        name="Henrik Berg",
        gender="man",
        region="europe",
        country="SE",
        languages="en,fr,es",
        expertise="Gender budgeting, urban time policies",
    ),
]

EXPERTISE = {
    "reviewer@fundapp.test": "Gender equality and urban policy",
    "reviewer2@fundapp.test": "Care systems in Latin America",
}


@dataclass
class City:
    member: str
    focal_email: str
    focal_name: str
    language: str


PAST_CITIES = {
    "bogota": City("Bogotá", "city@fundapp.test", "Camila Focal", "es"),
    "dakar": City("Dakar", "aminata.sow@dakar.test", "Aminata Sow", "fr"),
    "montreal": City("Montréal", "genevieve.tremblay@montreal.test", "Geneviève Tremblay", "fr"),
    "sao_paulo": City("São Paulo", "lucas.oliveira@saopaulo.test", "Lucas Oliveira", "en"),
    "mexico": City("Mexico City", "mariana.lopez@cdmx.test", "Mariana López", "es"),
    "lisbon": City("Lisbon", "ines.carvalho@lisboa.test", "Inês Carvalho", "en"),
    "tunis": City("Tunis", "youssef.bensalah@tunis.test", "Youssef Ben Salah", "fr"),
    "seoul": City("Seoul", "jiwoo.park@seoul.test", "Ji-woo Park", "en"),
}
OPEN_CITIES = {
    "quito": City("Quito", "andrea.paredes@quito.test", "Andrea Paredes", "es"),
    "abidjan": City("Abidjan", "koffi.kouassi@abidjan.test", "Koffi Kouassi", "fr"),
    "berlin": City("Berlin", "lena.schmidt@berlin.test", "Lena Schmidt", "en"),
}


def _budget(*lines):
    return [(c, d, int(r * 100), int(f * 100)) for c, d, r, f in lines]


def proposals(member):
    """What each city proposes, in its own language. `member(name)` finds a member city."""
    return {
        "bogota": s.Proposal(
            lead_name="Natalia Moreno Rojas",
            lead_gender="woman",
            language="es",
            title="Manzanas del Cuidado en Bogotá y Medellín",
            summary="Tres nuevas manzanas del cuidado que acercan servicios a las cuidadoras y liberan su tiempo.",
            problem="En Bogotá 1,2 millones de mujeres dedican más de diez horas diarias a cuidados no remunerados.",
            objectives="Reducir el tiempo de cuidado no remunerado y reconocer a las cuidadoras como sujetos de derechos.",
            activities="Abrir tres manzanas del cuidado, formar a 600 cuidadoras y compartir el modelo con Medellín.",
            target_groups="Cuidadoras no remuneradas, personas mayores y personas con discapacidad",
            dimensions=["recognise", "reduce", "redistribute"],
            women=3200,
            men=800,
            other=40,
            duration_months=18,
            milestones="Mes 6: primera manzana abierta. Mes 12: 600 cuidadoras formadas.",
            risks="Rotación del personal; se mitiga con contratos plurianuales.",
            budget=_budget(
                ("personnel", "Coordinadoras de manzana", 60_000, 12_000),
                ("equipment", "Mobiliario de lavanderías comunitarias", 30_000, 5_000),
                ("communication", "Campaña «Cuidar es trabajo»", 10_000, 3_000),
            ),
            partners=[(member("Medellín"), "Adapta el modelo de manzanas a sus comunas")],
        ),
        "dakar": s.Proposal(
            lead_name="Aminata Diop",
            lead_gender="woman",
            language="fr",
            title="Maisons du soin de quartier à Dakar",
            summary="Des maisons du soin où les femmes confient enfants et aînés pour se former et travailler.",
            problem="Les femmes de Dakar assurent l’essentiel du soin sans reconnaissance ni relais.",
            objectives="Redistribuer le soin entre familles, quartier et ville ; rémunérer les aidantes.",
            activities="Ouvrir deux maisons du soin, rémunérer 40 aidantes, créer un registre municipal du soin.",
            target_groups="Aidantes familiales, enfants de moins de six ans, personnes âgées",
            dimensions=["redistribute", "reward"],
            women=1800,
            men=400,
            other=0,
            duration_months=18,
            milestones="Mois 4 : première maison ouverte.",
            risks="Financement après le projet ; la ville l’inscrit à son budget dès l’an deux.",
            budget=_budget(
                ("personnel", "Aidantes rémunérées", 55_000, 8_000),
                ("services", "Repas et transport des aînés", 25_000, 4_000),
                ("equipment", "Aménagement des maisons", 15_000, 3_000),
            ),
            partners=[(member("Abidjan"), "Échange de pratiques entre maisons du soin")],
        ),
        "montreal": s.Proposal(
            lead_name="Geneviève Tremblay",
            lead_gender="woman",
            language="fr",
            title="Temps des villes : horaires de services adaptés aux proches aidants",
            summary="Adapter les horaires des services municipaux aux proches aidants et les associer aux décisions.",
            problem="Les proches aidants perdent des heures en déplacements faute de services aux bons horaires.",
            objectives="Réduire le temps de soin par des horaires adaptés ; donner une voix aux aidants.",
            activities="Diagnostic des horaires, comité des proches aidants, projet pilote dans trois arrondissements.",
            target_groups="Proches aidants, personnes âgées en perte d’autonomie",
            dimensions=["reduce", "represent"],
            women=900,
            men=500,
            other=30,
            duration_months=18,
            milestones="Mois 9 : horaires pilotes en vigueur.",
            risks="Adhésion des services ; pilotage par la direction générale.",
            budget=_budget(
                ("personnel", "Chargée de projet temps des villes", 48_000, 10_000),
                ("services", "Diagnostic et enquêtes", 30_000, 4_000),
                ("communication", "Comité des proches aidants", 10_000, 2_000),
            ),
        ),
        "sao_paulo": s.Proposal(
            lead_name="João Carlos Ferreira",
            lead_gender="man",
            language="en",
            title="Care workers' rights centres in São Paulo",
            summary="Walk-in centres where domestic and care workers learn their rights and organise.",
            problem="Most paid care work in São Paulo is informal and unprotected.",
            objectives="Reward care workers with formal contracts and a voice in city policy.",
            activities="Open two rights centres, train 300 workers, set up a care workers' council.",
            target_groups="Domestic workers, paid carers",
            dimensions=["reward", "represent"],
            women=2500,
            men=200,
            other=50,
            budget=_budget(
                ("personnel", "Legal advisers", 50_000, 9_000),
                ("services", "Training courses", 30_000, 6_000),
            ),
        ),
        "mexico": s.Proposal(
            lead_name="Mariana López Hernández",
            lead_gender="woman",
            language="es",
            title="Sistema de Cuidados de la Ciudad de México: registro de cuidadoras",
            summary="Un registro municipal que reconoce a las cuidadoras y las vincula con servicios.",
            problem="Las cuidadoras no aparecen en ningún registro y no acceden a apoyos.",
            objectives="Reconocer el trabajo de cuidados y medirlo.",
            activities="Diseñar el registro, inscribir a 5.000 cuidadoras, publicar datos abiertos.",
            target_groups="Cuidadoras no remuneradas",
            dimensions=["recognise"],
            women=5000,
            men=300,
            other=0,
            budget=_budget(
                ("personnel", "Equipo del registro", 45_000, 8_000),
                ("equipment", "Sistema informático", 35_000, 5_000),
            ),
        ),
        "lisbon": s.Proposal(
            lead_name="Rui Almeida",
            lead_gender="man",
            language="en",
            title="Lisbon caring neighbourhoods",
            summary="Neighbourhood networks of volunteers who share care tasks for older residents.",
            problem="Older people living alone depend on daughters and neighbours.",
            objectives="Redistribute care among neighbours.",
            activities="Set up ten neighbourhood networks.",
            target_groups="Older residents living alone",
            dimensions=["redistribute"],
            women=700,
            men=450,
            other=0,
            budget=_budget(("services", "Network coordination", 60_000, 10_000)),
        ),
        "tunis": s.Proposal(
            lead_name="Leïla Ben Salah",
            lead_gender="woman",
            language="fr",
            title="Étude sur le travail domestique à Tunis",
            summary="Une étude académique sur le travail domestique non rémunéré.",
            problem="Le travail domestique n’est pas mesuré.",
            objectives="Mesurer le temps consacré au soin.",
            activities="Enquête auprès de 2 000 ménages.",
            target_groups="Ménages de Tunis",
            dimensions=["recognise"],
            women=2000,
            men=2000,
            other=0,
            budget=_budget(("services", "Enquête de terrain", 40_000, 6_000)),
        ),
        "seoul": s.Proposal(
            lead_name="Kim Ji-won",
            lead_gender="undisclosed",
            language="en",
            title="Seoul care hubs for family carers",
            summary="Care hubs offering respite to family carers of people with dementia.",
            problem="Family carers of people with dementia have no respite.",
            objectives="Reduce carers' burden.",
            activities="Open four respite hubs.",
            target_groups="Family carers",
            dimensions=["reduce"],
            women=600,
            men=200,
            other=0,
            budget=_budget(("services", "Respite care", 70_000, 20_000)),
        ),
        "quito": s.Proposal(
            lead_name="Andrés Villacís",
            lead_gender="man",
            language="es",
            title="Centros de cuidado infantil nocturno en Quito",
            summary="Cuidado infantil en horario nocturno para madres trabajadoras de mercados.",
            problem="Las comerciantes de mercados trabajan de madrugada sin cuidado para sus hijos.",
            objectives="Reducir y redistribuir el cuidado infantil.",
            activities="Abrir dos centros nocturnos junto a los mercados mayoristas.",
            target_groups="Madres comerciantes, niñas y niños de 1 a 6 años",
            dimensions=["reduce", "redistribute"],
            women=400,
            men=60,
            other=0,
            budget=_budget(("personnel", "Educadoras", 50_000, 10_000), ("equipment", "Equipamiento", 20_000, 4_000)),
        ),
        "abidjan": s.Proposal(
            lead_name="Fatou Kouassi",
            lead_gender="woman",
            language="fr",
            title="Crèches de marché à Abidjan",
            summary="Des crèches dans les marchés pour les commerçantes et leurs enfants.",
            problem="Les commerçantes gardent leurs enfants sur les étals, au soleil et sans soin.",
            objectives="Réduire la charge de soin des commerçantes ; rémunérer les puéricultrices.",
            activities="Ouvrir trois crèches de marché et former 30 puéricultrices.",
            target_groups="Commerçantes, enfants de moins de cinq ans",
            dimensions=["reduce", "reward"],
            women=1500,
            men=100,
            other=0,
            budget=_budget(("personnel", "Puéricultrices", 45_000, 8_000), ("equipment", "Crèches", 30_000, 6_000)),
            partners=[(member("Dakar"), "Partage le modèle des maisons du soin")],
        ),
        "berlin": s.Proposal(
            lead_name="Jonas Weber",
            lead_gender=None,
            language="en",
            title="Berlin care time accounts",
            summary="Time accounts that let city employees bank hours for care and take them when needed.",
            problem="Care leave is short and unpaid, so carers, mostly women, cut their hours for good.",
            objectives="Redistribute care between women and men working for the city.",
            activities="Pilot care time accounts in two districts; evaluate uptake by gender.",
            target_groups="City employees with care responsibilities",
            dimensions=["redistribute", "reward"],
            women=800,
            men=700,
            other=10,
            budget=_budget(("personnel", "Pilot team", 40_000, 20_000), ("services", "Evaluation", 20_000, 5_000)),
        ),
    }


# Marks per application in criterion order (relevance, 3R, gender, feasibility, sustainability).
PAST_MARKS = {
    "bogota": [[5, 5, 4.5, 4, 4.5], [4.5, 5, 5, 4, 4], [5, 4.5, 4.5, 4.5, None]],
    "dakar": [[4.5, 4.5, 4, 4, 4], [4, 4.5, 4.5, 3.5, 4], [4.5, 4, 4, 4, 3.5]],
    "montreal": [[4, 4, 3.5, 4.5, 4], [4, 3.5, 4, 4, 3.5], [3.5, 4, 4, 4, 4]],
    "sao_paulo": [[4, 3.5, 4, 3, 3.5], [3.5, 3.5, 4, 3.5, 3], [4, 3, 3.5, 3, 3.5]],
    "mexico": [[3, 3, 2.5, 3.5, 3], [3.5, 2.5, 3, 3, 2.5], [3, 3, 3, 2.5, 3]],
    "lisbon": [[2.5, 3, 2, 2.5, 2], [3, 2.5, 2.5, 2, 2.5], [2.5, 2, 2.5, 3, 2]],
}
REVIEW_COMMENTS = {
    "en": "A clear plan with real partners; the budget matches the activities.",
    "fr": "Un plan clair, des partenaires réels ; le budget correspond aux activités.",
    "es": "Un plan claro con socios reales; el presupuesto corresponde a las actividades.",
}


def _at(day, hour=10):
    """10:00 in Barcelona on `day`, as an instant."""
    return datetime.combine(day, time(hour, 0), MADRID).astimezone(timezone.utc)


def _member(name):
    member = db.session.scalar(sa.select(Member).where(Member.name == name))
    if member is None:
        raise LookupError(f"No member named {name!r}.")
    return member


def _user(email):
    return accounts.find_user_by_email(email)


def _tick(instant):
    """Advance the replayed clock: due jobs (a call closing, reminders) run at their time."""
    with clock_at(instant):
        run_due_jobs(current_app._get_current_object())


def base_fund(now, echo=print):
    """Members, donors and their contributions, and the demo accounts."""
    created, updated = members.import_bundled_members()
    echo(f"Members: {created} created, {updated} updated from the 2024 member list.")
    if members.record_dues_where_missing(now.year):
        echo(f"Members without dues on record are taken as paid through {now.year}.")
    with clock_at(now - timedelta(days=430)):  # the accounts existed before the first window
        _donors_and_accounts(echo)


def _donors_and_accounts(echo):
    for spec in DONORS:
        donor = db.session.scalar(sa.select(Donor).where(Donor.short_name == spec["short_name"]))
        if donor is None:
            donor = funding.create_donor(
                actor=None,
                name=spec["name"],
                name_translations=spec["name_translations"],
                short_name=spec["short_name"],
                reporting_language=spec["reporting_language"],
            )
            funding.add_contribution(
                donor,
                actor=None,
                amount_original_cents=spec["amount_cents"],
                pledged_on=spec["pledged_on"],
                received_on=spec["pledged_on"],
            )
        echo(f"Donor {donor.short_name}: {donor.name}.")
    for spec in DEMO_USERS:
        user = _user(spec["email"])
        if user is None:
            member = _member(spec["member"]) if spec.get("member") else None
            donor = (
                db.session.scalar(sa.select(Donor).where(Donor.short_name == spec["donor"]))
                if spec.get("donor")
                else None
            )
            if spec.get("profile"):
                s.reviewer(
                    spec["email"],
                    spec["name"],
                    password=spec["password"],
                    language=spec.get("language", "en"),
                    expertise=EXPERTISE.get(spec["email"], ""),
                    **spec["profile"],
                )
            else:
                s.person(
                    spec["email"],
                    spec["name"],
                    *spec["roles"],
                    member=member,
                    donor=donor,
                    language=spec.get("language", "en"),
                    password=spec["password"],
                )
        else:
            accounts.set_demo_password(user, spec["password"])
    for spec in EXPERTS:
        if _user(spec["email"]) is None:
            s.reviewer(**spec)
    # An expert's offer to review, waiting for staff on the offers page.
    s.offer_to_review(
        "Carolina Vega Morales",
        "carolina.vega@uchile.test",
        expertise="Sistemas comunales de cuidado, políticas de tiempo, presupuestos con enfoque de género.",
        language="es",
        gender="woman",
        country="CL",
        region="latin_america_caribbean",
        languages=["es", "en"],
        affiliation="Universidad de Chile",
    )


def _seat_jury(call, staff):
    """The call's jury, as staff compose it on the jury page: the six reviewers of the pool, three
    women and three men from six regions (balanced, so confirmed without a reason)."""
    pool = [_user(spec["email"]) for spec in DEMO_USERS if spec.get("profile")]
    pool += [_user(spec["email"]) for spec in EXPERTS]
    s.seat_jury(call, staff, [reviewer for reviewer in pool if reviewer is not None])
    s.reviews.confirm_jury(call, actor=staff)


def _contributions():
    return {c.donor.short_name: c for c in db.session.scalars(sa.select(Contribution).order_by(Contribution.id)).all()}


def _focal(city):
    user = _user(city.focal_email)
    if user is None:
        user = s.person(
            city.focal_email, city.focal_name, "applicant", member=_member(city.member), language=city.language
        )
    return user


def _call_values(code, year, opens, closes, review_due):
    return call_texts.call_values(
        code=code,
        title=call_texts.titles(year),
        opens_at=opens,
        closes_at=closes,
        review_due_at=review_due,
    )


def _criteria():
    return [call_texts.criterion_values(name, weight) for name, weight in call_texts.CRITERIA]


# What every grantee of the demo's calls measures, in the three languages.
INDICATORS = [
    (
        {"en": "Carers trained", "fr": "Aidantes et aidants formés", "es": "Personas cuidadoras formadas"},
        {"en": "people", "fr": "personnes", "es": "personas"},
        True,
    ),
    (
        {"en": "Hours of care provided", "fr": "Heures de soin assurées", "es": "Horas de cuidado prestadas"},
        {"en": "hours of care", "fr": "heures de soin", "es": "horas de cuidado"},
        False,
    ),
]


def _indicators():
    return [
        {"name": name, "unit": unit, "by_gender": by_gender, "position": n}
        for n, (name, unit, by_gender) in enumerate(INDICATORS, start=1)
    ]


def past_window(now, echo=print):
    """The first window, from its publication to today: every stage of the fund has happened."""
    opens_day = (now - timedelta(days=400)).astimezone(MADRID).date()
    closes_day = opens_day + timedelta(weeks=8)
    code = f"LCS-{opens_day.year}"
    existing = db.session.scalar(sa.select(Call).where(Call.code == code))
    if existing is not None:
        return existing
    staff, admin = _user("staff@fundapp.test"), _user("admin@fundapp.test")
    contributions = _contributions()
    propose = proposals(_member)
    cities = {key: _focal(city) for key, city in PAST_CITIES.items()}

    closes = datetime.combine(closes_day, time(17, 0), MADRID).astimezone(timezone.utc)
    with clock_at(_at(opens_day - timedelta(days=7))):
        call = s.open_call(
            admin,
            _call_values(code, opens_day.year, _at(opens_day, 0), closes, _at(closes_day + timedelta(days=35), 18)),
            {contributions[k].id: v for k, v in PAST_ENVELOPE.items()},
            _criteria(),
            _indicators(),
        )
    applications = {}
    for n, key in enumerate(PAST_CITIES):
        with clock_at(_at(opens_day + timedelta(days=10 + 3 * n))):
            _read_call_notice(call, cities[key])
            applications[key] = s.draft(call, cities[key], propose[key])
        if key == "bogota":
            # Medellín (the demo's partner account) was asked when Bogotá saved it: it confirms, with its letter.
            with clock_at(_at(opens_day + timedelta(days=12 + 3 * n), 9)):
                s.confirm_partnership(applications[key], _user("partner@fundapp.test"))
        with clock_at(_at(opens_day + timedelta(days=20 + 4 * n), 16)):
            s.submit(applications[key], cities[key])
    with clock_at(_at(opens_day + timedelta(days=52))):
        s.applications.withdraw(
            applications["seoul"],
            actor=cities["seoul"],
            reason="The city council moved the respite hubs to its own budget.",
        )
    _tick(closes + timedelta(minutes=5))  # the closing job closes the call

    screened = closes_day + timedelta(days=3)
    with clock_at(_at(screened)):
        for key in ("bogota", "dakar", "sao_paulo", "mexico", "lisbon"):
            s.screen(applications[key], staff)
        s.screen(
            applications["tunis"],
            staff,
            "mark_ineligible",
            reason="The call funds care services and policies; a study alone is not eligible.",
        )
        s.screen(
            applications["montreal"],
            staff,
            "request_info",
            reason="Please add the co-funding letter of the city and detail the budget for the pilot districts.",
            sections=["budget", "documents"],
            reply_by=screened + timedelta(days=14),
        )
    with clock_at(_at(screened + timedelta(days=4), 12)):
        montreal = applications["montreal"]
        s.answer_more_info(
            montreal,
            cities["montreal"],
            {
                "budget": [
                    {"category": c, "description": d, "requested_cents": r, "cofunding_cents": f}
                    for c, d, r, f in _budget(
                        ("personnel", "Chargée de projet temps des villes", 48_000, 12_000),
                        ("services", "Diagnostic dans trois arrondissements pilotes", 30_000, 5_000),
                        ("communication", "Comité des proches aidants", 10_000, 2_000),
                    )
                ]
            },
        )
    with clock_at(_at(screened + timedelta(days=5))):
        s.screen(applications["montreal"], staff)
        calls.change_state(call, "start_review", actor=staff)
        _seat_jury(call, staff)
        s.assign_panels(call, staff)

    for n, key in enumerate(PAST_MARKS):
        application = applications[key]
        for m, (assignment, marks) in enumerate(zip(s.assignments_of(application), PAST_MARKS[key])):
            reviewer = assignment.reviewer
            with clock_at(_at(screened + timedelta(days=8 + 2 * n + m), 21)):
                s.review(
                    assignment,
                    marks,
                    recommendation="fund" if sum(v or 0 for v in marks) >= 19 else "do_not_fund",
                    comment=REVIEW_COMMENTS.get(reviewer.language, REVIEW_COMMENTS["en"]),
                    staff_comment="Discussed with the panel.",
                )
    decided = screened + timedelta(days=40)
    _tick(_at(decided, 9))
    with clock_at(_at(decided)):
        awards = {key: s.award(applications[key], staff) for key in ("bogota", "dakar", "montreal")}
        s.reserve(applications["sao_paulo"], staff)
        s.reject(
            applications["mexico"], staff, "The panel found the registry strong on recognition but weak on services."
        )
        s.reject(applications["lisbon"], staff, "Below the call's threshold of 60 points.")
        calls.change_state(call, "decide", actor=staff)
    with clock_at(_at(decided + timedelta(days=4), 16)):
        # Montréal's council did not vote the city's share: the city declines, the money returns.
        s.decline(
            awards.pop("montreal"),
            cities["montreal"],
            "Le conseil municipal n’a pas adopté la contribution de la Ville au budget du projet.",
        )
    with clock_at(_at(decided + timedelta(days=6))):
        # The money that returned goes to the first of the reserve list.
        awards["sao_paulo"] = s.award_from_reserve(applications["sao_paulo"], staff)
    grants = {}
    # Bogotá and Dakar agree to publish their project and approved reports; São Paulo agrees to the
    # project alone, then withdraws its consent: the public page lists two projects.
    consent = {"bogota": (True, True), "dakar": (True, True), "sao_paulo": (True, False)}
    for n, key in enumerate(awards):
        with clock_at(_at(decided + timedelta(days=5 + 3 * n))):
            publish_project, publish_reports = consent.get(key, (False, False))
            grants[key] = s.accept(
                awards[key], cities[key], publish_project=publish_project, publish_reports=publish_reports
            )
        with clock_at(_at(decided + timedelta(days=15 + 3 * n))):
            s.pay_due(grants[key], staff)
    with clock_at(_at(decided + timedelta(days=30))):
        s.set_publication(grants["sao_paulo"], cities["sao_paulo"], publish_project=False)
    interim_day = max(r.due_on for r in grants["bogota"].reports if r.kind == "interim")
    _tick(_at(interim_day - timedelta(days=10), 8))
    with clock_at(_at(interim_day - timedelta(days=2))):
        bogota_report = s.report(
            grants["bogota"],
            cities["bogota"],
            "interim",
            progress="Dos manzanas del cuidado abiertas en Bosa y Kennedy; la tercera abre el próximo trimestre.",
            results="410 cuidadoras formadas; 1.900 personas atendidas en lavanderías y centros de día.",
            difficulties="Retrasos en la obra de la lavandería de Kennedy.",
            reached=(1450, 410, 25),
        )
        s.report(
            grants["dakar"],
            cities["dakar"],
            "interim",
            progress="La première maison du soin est ouverte à la Médina ; 22 aidantes sont rémunérées.",
            results="640 enfants et aînés accueillis.",
            reached=(520, 120, 0),
            spent_share=Decimal("0.35"),
        )
    with clock_at(_at(interim_day + timedelta(days=5))):
        s.approve(bogota_report, staff)
    echo(
        f"Past window {call.code}: {len(applications)} applications, 3 grants accepted (Montréal declined its own, "
        "São Paulo awarded from the reserve list), first tranches paid, "
        "an interim report approved."
    )
    return call


def _read_call_notice(call, user):
    """The focal point followed the home-page notice of the call, then dismissed it."""
    notice = db.session.scalar(sa.select(Notice).where(Notice.dedupe_key == f"call-published:{call.id}:{user.id}"))
    if notice is not None and notice.dismissed_at is None:
        dismiss_notice(notice)


def open_window(now, echo=print):
    """The call open today: drafts, submitted applications, and reviews in progress."""
    today = now.astimezone(MADRID).date()
    opens_day = today - timedelta(days=21)
    closes_day = today + timedelta(days=35)
    code = f"LCS-{today.year}"
    if code == f"LCS-{(now - timedelta(days=400)).astimezone(MADRID).year}":
        code = f"LCS-{today.year}-2"
    existing = db.session.scalar(sa.select(Call).where(Call.code == code))
    if existing is not None:
        return existing
    staff, admin = _user("staff@fundapp.test"), _user("admin@fundapp.test")
    contributions = _contributions()
    propose = proposals(_member)
    cities = {key: _focal(city) for key, city in OPEN_CITIES.items()}
    closes = datetime.combine(closes_day, time(17, 0), MADRID).astimezone(timezone.utc)
    with clock_at(_at(opens_day - timedelta(days=2))):
        call = s.open_call(
            admin,
            _call_values(code, today.year, _at(opens_day, 0), closes, _at(closes_day + timedelta(days=30), 18)),
            {contributions[k].id: v for k, v in OPEN_ENVELOPE.items()},
            _criteria(),
            _indicators(),
        )
    apps = {}
    for n, key in enumerate(("abidjan", "berlin", "quito")):
        with clock_at(_at(today - timedelta(days=14 - 2 * n), 11)):
            apps[key] = s.apply(call, cities[key], propose[key])
    rania, tomas = _user("reviewer@fundapp.test"), _user("reviewer2@fundapp.test")
    henrik, aissatou = _user("henrik.berg@experts.test"), _user("aissatou.ndiaye@experts.test")
    with clock_at(_at(today - timedelta(days=6))):
        for key in ("abidjan", "berlin"):
            s.screen(apps[key], staff)
        _seat_jury(call, staff)
        for reviewer in (rania, tomas, henrik):
            s.reviews.assign(apps["abidjan"], reviewer, actor=staff)
        for reviewer in (rania, aissatou):
            s.reviews.assign(apps["berlin"], reviewer, actor=staff)
    assignments = {(a.application_id, a.reviewer_id): a for a in s.assignments_of(apps["abidjan"])}
    with clock_at(_at(today - timedelta(days=3), 20)):
        # Rania has a review in progress; Henrik has submitted his.
        s.review(
            assignments[(apps["abidjan"].id, rania.id)],
            [4.5, 4],
            comment="Strong on reducing the care load of market women.",
            submit=False,
        )
        s.review(assignments[(apps["abidjan"].id, henrik.id)], [4, 4, 4.5, 3.5, 4], comment=REVIEW_COMMENTS["en"])
    bogota = _focal(PAST_CITIES["bogota"])
    with clock_at(_at(today - timedelta(days=1), 18)):
        bogota_draft = s.applications.start_application(call, actor=bogota)
        s.applications.save_draft(
            bogota_draft,
            actor=bogota,
            values={
                "language": "es",
                "title": "Escuelas del cuidado para hombres",
                "summary": "Talleres para que los hombres asuman su parte del trabajo de cuidados.",
                "dimensions": ["redistribute"],
                # Medellín is asked at once: its request waits on the partner account's home page.
                "partners": [
                    {"member_id": _member("Medellín").id, "role": "Abre una escuela del cuidado en sus comunas"}
                ],
            },
            expected_version=bogota_draft.version,
        )
    echo(
        f"Open call {call.code}: 3 applications submitted, reviews in progress, a draft of Bogotá "
        "whose partner Medellín is asked to confirm."
    )
    return call


def donor_reports(now, echo=print):
    """A donor report of each donor over the past window's year, unless one exists."""
    staff = _user("staff@fundapp.test")
    start = (now - timedelta(days=400)).astimezone(MADRID).date().replace(day=1)
    end = (now - timedelta(days=1)).astimezone(MADRID).date()
    for donor in db.session.scalars(sa.select(Donor).order_by(Donor.id)):
        if db.session.scalar(sa.select(DonorReport.id).where(DonorReport.donor_id == donor.id)) is None:
            reporting.request_donor_report(
                actor=staff, donor=donor, start=start, end=end, language=donor.reporting_language
            )
            echo(f"Donor report for {donor.short_name}, {start} to {end}.")


def build(*, with_calls=True, echo=print):
    """The whole demo fund (idempotent: what exists is kept, what is missing is added)."""
    now = utcnow().replace(microsecond=0)
    # The replayed history sends some hundred messages: they are in the outbox page, not the console.
    mail_log = logging.getLogger("fundapp.core.mail")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    try:
        _build(now, with_calls, echo)
    finally:
        mail_log.setLevel(level)


def _build(now, with_calls, echo):
    with jobs_in_process():
        base_fund(now, echo)
        if with_calls:
            past_window(now, echo)
            open_window(now, echo)
            donor_reports(now, echo)
        run_due_jobs(current_app._get_current_object())
