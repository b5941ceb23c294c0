"""Award and decision letters (PDF) in the application's language."""

from functools import lru_cache

import sqlalchemy as sa
from babel.lists import format_list
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _

from ..applications.models import Application
from ..calls.models import ReportStep
from ..core import pdf
from ..core.money import format_eur
from ..extensions import db
from ..funding.models import CallFunding, Contribution, Donor
from ..reviews.models import Assignment, Review
from .models import DECISION_KINDS, TRANCHE_CONDITIONS, Allocation, Decision, Grant, Tranche


def _reviewer_comments(application):
    """What reviewers wrote for the applicant: no names, nothing confidential."""
    comments = db.session.scalars(
        sa.select(Review.comment_applicant)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(
            Assignment.application_id == application.id,
            Review.submitted_at.is_not(None),
            Review.comment_applicant != "",
        )
        .order_by(Assignment.id)
    ).all()
    return comments


@lru_cache(maxsize=1)
def _grant_statements():
    """The two statements an award letter reads its grant with, built once: the tranches and the
    donors' names of the grant of decision :decision_id, plain columns, whatever the number of
    tranches and allocations (the grant's relationships would take a lazy load for the tranches,
    the allocations and each donor)."""
    grant_id = sa.select(Grant.id).where(Grant.decision_id == sa.bindparam("decision_id")).scalar_subquery()
    # The interim reports the call's schedule sets, carried on each tranche's row (no query of its own).
    interim_reports = (
        sa.select(sa.func.count(ReportStep.id))
        .join(Application, Application.call_id == ReportStep.call_id)
        .join(Decision, Decision.application_id == Application.id)
        .where(Decision.id == sa.bindparam("decision_id"), ReportStep.kind == "interim")
        .scalar_subquery()
    )
    tranches = (
        sa.select(Tranche.position, Tranche.condition, Tranche.amount_cents, interim_reports.label("interim_reports"))
        .where(Tranche.grant_id == grant_id)
        .order_by(Tranche.position)
    )
    donors = (
        sa.select(Donor.name, Donor.name_translations)
        .join(Contribution, Contribution.donor_id == Donor.id)
        .join(CallFunding, CallFunding.contribution_id == Contribution.id)
        .join(Allocation, Allocation.call_funding_id == CallFunding.id)
        .where(Allocation.grant_id == grant_id)
    )
    return tranches, donors


def _schedule_and_donors(decision, language="en"):
    """The grant's payment schedule as (position, label, amount in cents), its donors' names in
    `language`, sorted, and the number of interim reports the call sets: all an award letter prints
    of its grant."""
    tranches, donors = _grant_statements()
    params = {"decision_id": decision.id}
    rows = db.session.execute(tranches, params).all()
    schedule = [
        # The label as Tranche.condition_label gives it.
        (t.position, TRANCHE_CONDITIONS.get(t.condition, t.condition), t.amount_cents)
        for t in rows
    ]
    interim_reports = rows[0].interim_reports if rows else 1
    names = {((translations or {}).get(language) or name) for name, translations in db.session.execute(donors, params)}
    return schedule, sorted(names), interim_reports


def _reporting_sentence(interim):
    """What the grant's reports will be: `interim` reports, as the call's schedule sets them, and a final one."""
    if not interim:
        return _(
            "The city reports on the project's progress in a final report, with its expenditure per budget "
            "line, the value reached for each of the call's indicators and the people reached, by gender."
        )
    return ngettext(
        "The city reports on the project's progress in %(num)d interim report and a final report, with its "
        "expenditure per budget line, the value reached for each of the call's indicators and the people "
        "reached, by gender.",
        "The city reports on the project's progress in %(num)d interim reports and a final report, with its "
        "expenditure per budget line, the value reached for each of the call's indicators and the people "
        "reached, by gender.",
        interim,
    )


def _letter_story(decision):
    application, call = decision.application, decision.application.call
    language = application.language
    story = [
        pdf.para(format_date(decision.decided_at.date(), "long"), "right"),
        pdf.para(application.member.name, "h2"),
        pdf.para(_("Reference: %(reference)s", reference=application.reference)),
        pdf.para(_("Project: %(title)s", title=application.title)),
        pdf.para(call.title_in(language), "small"),
    ]
    if decision.kind == "award":
        schedule, donors, interim_reports = _schedule_and_donors(decision, language)
        amount = format_eur(decision.amount_cents)
        story += [
            pdf.para(_("Award of a grant"), "title"),
            pdf.para(
                _(
                    "We are pleased to inform you that the International Fund for Metropolises awards %(city)s "
                    "a grant of %(amount)s for the project above.",
                    city=application.member.name,
                    amount=amount,
                )
            ),
            pdf.para(_("Amount awarded: %(amount)s", amount=amount), "h2"),
        ]
        if decision.conditions:
            story += [pdf.para(_("Conditions"), "h2"), pdf.para(decision.conditions)]
        story.append(pdf.para(_("Payment schedule"), "h2"))
        story.append(
            pdf.table(
                [[_("Tranche"), _("When"), _("Amount")]]
                + [[str(position), str(label), format_eur(cents)] for position, label, cents in schedule],
                col_widths=[60, 260, 150],
            )
        )
        story += [
            pdf.para(_("Reporting"), "h2"),
            pdf.para(_reporting_sentence(interim_reports)),
            pdf.para(_("Acknowledgement"), "h2"),
            pdf.para(
                _(
                    "This grant is made possible by the contributions of %(donors)s.",
                    donors=format_list(list(donors), locale=get_locale()),  # "A y B", "A et B"
                )
            ),
            pdf.para(
                _("Please accept the grant on your fundapp home page, confirming the bank details for the payments.")
            ),
        ]
    else:
        story += [pdf.para(str(DECISION_KINDS[decision.kind]), "title")]
        if decision.kind == "reserve":
            story.append(
                pdf.para(
                    _(
                        "Your application is on the reserve list: it may be funded if money becomes "
                        "available in this call. We will write to you again."
                    )
                )
            )
        else:
            story.append(pdf.para(_("We regret that your application will not be funded in this call.")))
            if decision.reason:
                story.append(pdf.para(decision.reason))
        comments = _reviewer_comments(application)
        if comments:
            story.append(pdf.para(_("What the reviewers wrote for you"), "h2"))
            for number, comment in enumerate(comments, start=1):
                story.append(pdf.para(_("Reviewer %(n)d: %(comment)s", n=number, comment=comment)))
    story += [
        pdf.para(" "),
        pdf.para(_("For the International Fund for Metropolises")),
        pdf.para(_("Metropolis Secretariat General, Barcelona"), "small"),
    ]
    return story


def letter_pdf(decision):
    application = decision.application
    language = application.language
    # The story is handed over, not kept here: each flowable is freed once drawn.
    return pdf.render(
        _letter_story(decision),
        title=f"{application.reference}",
        language=language,
        footer=application.reference,
        page_label=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
    )


# What a decision letter's file is called for its reader ("IFM-2026-0042-carta-de-concesion.pdf"):
# the stored name, attached to the e-mail, is "<reference>-<kind>-letter.pdf".
_LETTER_WORDS = {
    "award": {"en": "award-letter", "fr": "lettre-d-attribution", "es": "carta-de-concesion"},
    "reserve": {"en": "reserve-letter", "fr": "lettre-liste-de-reserve", "es": "carta-lista-de-reserva"},
    "reject": {"en": "reject-letter", "fr": "lettre-de-decision", "es": "carta-de-decision"},
}


def letter_download_name(decision, language):
    """The decision letter's file name in the reader's language."""
    words = _LETTER_WORDS.get(decision.kind, {})
    word = words.get(language) or words.get("en") or f"{decision.kind}-letter"
    return f"{decision.application.reference}-{word}.pdf"
