"""The demo fund's call: Local Care Systems, as Metropolis describes its first window."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..core.timeutil import utcnow

CODE = "LCS-2025"

TEXTS = {
    "title": {
        "en": "Local Care Systems 2025",
        "fr": "Systèmes locaux de soins 2025",
        "es": "Sistemas Locales de Cuidados 2025",
    },
    "summary": {
        "en": "Grants of up to EUR 100,000 for member cities building local care systems that recognise, "
        "reduce, redistribute, reward and represent care work.",
        "fr": "Des subventions jusqu’à 100 000 EUR pour les villes membres qui construisent des systèmes locaux "
        "de soins qui reconnaissent, réduisent, redistribuent, rémunèrent et représentent le travail de soin.",
        "es": "Subvenciones de hasta 100.000 EUR para ciudades miembro que construyen sistemas locales de cuidados "
        "que reconocen, reducen, redistribuyen, remuneran y representan el trabajo de cuidados.",
    },
    "body": {
        "en": "The International Fund for Metropolises supports member cities that put care at the centre of "
        "urban policy. Care work, paid and unpaid, falls mostly on women; local governments can change "
        "that through services, infrastructure, time policies and the recognition of care workers.\n\n"
        "Projects should strengthen a local care system: map care needs and services, create or extend "
        "care services, improve the conditions of care workers, or give carers a voice in local decisions. "
        "Partnerships with other member cities are welcome.\n\n"
        "The fund is financed by the Swiss Agency for Development and Cooperation and the Open Society "
        "Foundations.",
        "fr": "Le Fonds international pour les métropoles soutient les villes membres qui placent le soin au "
        "cœur des politiques urbaines. Le travail de soin, rémunéré ou non, repose surtout sur les femmes ; "
        "les gouvernements locaux peuvent changer cela par des services, des infrastructures, des politiques "
        "du temps et la reconnaissance des travailleuses et travailleurs du soin.\n\n"
        "Les projets doivent renforcer un système local de soins : cartographier les besoins et les services, "
        "créer ou étendre des services, améliorer les conditions des personnes qui prennent soin, ou leur "
        "donner une voix dans les décisions locales. Les partenariats entre villes membres sont bienvenus.\n\n"
        "Le Fonds est financé par la Direction du développement et de la coopération suisse et les Open "
        "Society Foundations.",
        "es": "El Fondo Internacional para las Metrópolis apoya a las ciudades miembro que sitúan los cuidados en "
        "el centro de la política urbana. El trabajo de cuidados, remunerado o no, recae sobre todo en las "
        "mujeres; los gobiernos locales pueden cambiarlo con servicios, infraestructuras, políticas del "
        "tiempo y el reconocimiento de quienes cuidan.\n\n"
        "Los proyectos deben reforzar un sistema local de cuidados: mapear necesidades y servicios, crear o "
        "ampliar servicios, mejorar las condiciones de las personas cuidadoras o darles voz en las decisiones "
        "locales. Las alianzas con otras ciudades miembro son bienvenidas.\n\n"
        "El Fondo está financiado por la Agencia Suiza para el Desarrollo y la Cooperación y las Open Society "
        "Foundations.",
    },
}

CRITERIA = [
    (
        {
            "en": "Relevance for the local care system",
            "fr": "Pertinence pour le système local de soins",
            "es": "Pertinencia para el sistema local de cuidados",
        },
        Decimal(25),
    ),
    (
        {
            "en": "Recognising, reducing and redistributing care work",
            "fr": "Reconnaître, réduire et redistribuer le travail de soin",
            "es": "Reconocer, reducir y redistribuir el trabajo de cuidados",
        },
        Decimal(25),
    ),
    (
        {
            "en": "Gender equality and inclusion",
            "fr": "Égalité de genre et inclusion",
            "es": "Igualdad de género e inclusión",
        },
        Decimal(20),
    ),
    ({"en": "Feasibility and budget", "fr": "Faisabilité et budget", "es": "Viabilidad y presupuesto"}, Decimal(15)),
    (
        {
            "en": "Sustainability and learning between cities",
            "fr": "Durabilité et apprentissage entre villes",
            "es": "Sostenibilidad y aprendizaje entre ciudades",
        },
        Decimal(15),
    ),
]

REQUIRED_DOCUMENTS = ["Letter of support from the mayor or city government", "Detailed budget"]
DOCUMENT_TRANSLATIONS = {
    "fr": ["Lettre de soutien du maire ou du gouvernement de la ville", "Budget détaillé"],
    "es": ["Carta de apoyo de la alcaldía o del gobierno de la ciudad", "Presupuesto detallado"],
}
THEME_TRANSLATIONS = {"fr": "Systèmes locaux de soins", "es": "Sistemas locales de cuidados"}


def demo_dates(timezone="Europe/Madrid"):
    """Open since this morning, closing at 17:00 eight weeks from now, in the call's timezone."""
    zone = ZoneInfo(timezone)
    today = utcnow().astimezone(zone).date()
    opens = datetime.combine(today, time(0, 0), zone)
    closes = datetime.combine(today + timedelta(weeks=8), time(17, 0), zone)
    return opens, closes


def titles(year):
    """The call's title in each language, for the window of `year`."""
    return {code: text.replace("2025", str(year)) for code, text in TEXTS["title"].items()}


def call_values(timezone="Europe/Madrid", **overrides):
    opens, closes = demo_dates(timezone)
    values = dict(
        code=CODE,
        theme="Local care systems",
        theme_translations=dict(THEME_TRANSLATIONS),
        contact_email="fund@metropolis.org",
        title=dict(TEXTS["title"]),
        summary=dict(TEXTS["summary"]),
        body=dict(TEXTS["body"]),
        opens_at=opens,
        closes_at=closes,
        timezone=timezone,
        cap_cents=100_000_00,
        min_grant_cents=None,
        duration_min_months=6,
        duration_max_months=24,
        min_cofunding_pct=Decimal(10),
        eligible_memberships=["full"],
        eligible_regions=[],
        dues_required=True,
        one_application_per_lead=True,
        partners_allowed=True,
        required_documents=list(REQUIRED_DOCUMENTS),
        document_translations={code: list(names) for code, names in DOCUMENT_TRANSLATIONS.items()},
        overall_threshold=Decimal(60),
        reviewers_per_application=3,
    )
    values.update(overrides)
    return values


def criterion_values(name, weight):
    return dict(
        name=dict(name),
        guidance={},
        weight=weight,
        scale_min=Decimal(0),
        scale_max=Decimal(5),
        scale_step=Decimal("0.5"),
        threshold=None,
        position=0,
    )
