"""An application's whole life, walked through the real operations, one step per function.

The demo fund (`flask fund demo`) and the test factories (tests/factories.py) build every state
with these steps, so what they show is what real use produces: no state column is ever set by
hand. Each step takes the person who acts, as the pages would, and returns what it made.
Wrap steps in `core.timeutil.clock_at(instant)` to replay them at a past instant.
"""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from .accounts import operations as accounts
from .applications import operations as applications
from .applications.models import Application
from .awards import operations as awards
from .calls import operations as calls
from .core import pdf
from .core.jobs import jobs_in_process
from .extensions import db
from .reporting import operations as reporting
from .reviews import operations as reviews
from .reviews.jury import juror_of
from .reviews.models import Assignment, ExpertOffer


@dataclass
class Proposal:
    """What a city types into its application, in its own language."""

    title: str
    summary: str
    problem: str
    objectives: str
    activities: str
    target_groups: str
    language: str = "en"
    dimensions: list = field(default_factory=lambda: ["recognise", "redistribute"])
    women: int = 1200
    men: int = 300
    other: int = 20
    duration_months: int = 18
    milestones: str = ""
    risks: str = ""
    # [(category, description, requested EUR cents, co-funding EUR cents)]
    budget: list = field(default_factory=list)
    # [(member, role)]
    partners: list = field(default_factory=list)
    # The person who leads the project in the city, and their gender (None: not given).
    lead_name: str = ""
    lead_gender: str | None = None
    # The targets for the call's indicators, in their order ({part: number} each); None: set from the
    # people the project expects to reach (indicator_targets()).
    targets: list | None = None

    @property
    def requested_cents(self):
        return sum(line[2] for line in self.budget)


def person(email, name, *roles, member=None, donor=None, language="en", password=None, timezone=None):
    """An account (a focal point, a reviewer, staff, a donor officer); a random password unless given."""
    user = accounts.create_user(
        email=email,
        name=name,
        language=language,
        password=password or secrets.token_urlsafe(18),
        roles=[(r, member if r == "applicant" else None, donor if r == "donor" else None) for r in roles],
    )
    if timezone:
        accounts.update_profile(user, name=user.name, language=user.language, timezone=timezone, actor=user)
    return user


def reviewer(email, name, *, gender, region, country, languages, expertise="", affiliation="", language="en", **kw):
    user = person(email, name, "reviewer", language=language, **kw)
    accounts.update_reviewer_profile(
        user,
        actor=None,
        gender=gender,
        region=region,
        country=country,
        languages=languages,
        expertise=expertise,
        affiliation=affiliation,
    )
    return user


def open_call(actor, values, funding, criteria, indicators=()):
    """A call saved with its envelope {contribution id: cents}, criteria [values] and indicators
    [values], then published."""
    call = calls.save_call(None, actor=actor, values=values, funding=funding)
    for criterion in criteria:
        calls.save_criterion(call, None, actor=actor, values=criterion)
    for indicator in indicators:
        calls.save_indicator(call, None, actor=actor, values=indicator)
    return calls.publish_call(call, actor=actor)


def indicator_targets(call, proposal):
    """{indicator id: {part: target}} for the call's indicators: the proposal's own targets, else a
    tenth of the people it expects to reach (by gender when the indicator is counted so) and, for
    any other indicator, ten per person."""
    targets = {}
    for n, indicator in enumerate(call.indicators):
        if proposal.targets is not None and n < len(proposal.targets):
            targets[str(indicator.id)] = dict(proposal.targets[n])
        elif indicator.by_gender:
            targets[str(indicator.id)] = {
                "women": proposal.women // 10,
                "men": proposal.men // 10,
                "other": proposal.other // 10,
            }
        else:
            targets[str(indicator.id)] = {"total": 10 * (proposal.women + proposal.men + proposal.other)}
    return targets


def document_pdf(title, text):
    """A small real PDF, as a city would attach (a letter of support, a budget)."""
    return pdf.render([pdf.para(title, "title"), pdf.para(text)], title=title)


def draft(call, focal, proposal, *, documents=True):
    """A focal point starts an application and fills it in (and attaches the required documents)."""
    application = applications.start_application(call, actor=focal)
    earliest, _latest = call.start_window()
    values = {
        "language": proposal.language,
        "title": proposal.title,
        "summary": proposal.summary,
        "problem": proposal.problem,
        "objectives": proposal.objectives,
        "activities": proposal.activities,
        "target_groups": proposal.target_groups,
        "dimensions": list(proposal.dimensions),
        "beneficiaries_women": proposal.women,
        "beneficiaries_men": proposal.men,
        "beneficiaries_other": proposal.other,
        "lead_name": proposal.lead_name,
        "lead_gender": proposal.lead_gender,
        "start_date": earliest,
        "duration_months": proposal.duration_months,
        "milestones": proposal.milestones,
        "risks": proposal.risks,
        "budget": [
            {"category": c, "description": d, "requested_cents": r, "cofunding_cents": f}
            for c, d, r, f in proposal.budget
        ],
        "partners": [{"member_id": m.id, "role": role} for m, role in proposal.partners],
    }
    if call.indicators:
        values["indicator_targets"] = indicator_targets(call, proposal)
    errors = applications.save_draft(application, actor=focal, values=values, expected_version=application.version)
    if errors:
        raise ValueError(f"draft of {focal.member.name} not saved: {errors}")
    if documents:
        attach_required_documents(application, focal)
    return application


def attach_required_documents(application, focal):
    for requirement in application.call.required_documents:
        data = document_pdf(requirement, f"{application.member.name}: {application.title}")
        applications.upload_document(
            application, actor=focal, requirement=requirement, filename=f"{requirement}.pdf", data=data
        )


def submit(application, focal):
    return applications.submit(application, actor=focal)


def partner_row(application, focal):
    """The partner row of `application` that `focal` (a partner city's focal point) answers for."""
    return next(p for p in application.partners if p.member_id in focal.member_ids())


def confirm_partnership(application, focal, *, letter=True):
    """A partner city's focal point confirms its part, with a signed letter of commitment (a PDF)."""
    partner = partner_row(application, focal)
    data = None
    if letter:
        data = document_pdf(
            "Letter of commitment",
            f"{partner.member.name} takes part in the project of {application.member.name}: {partner.role}.",
        )
    return applications.confirm_partnership(
        partner, actor=focal, filename="letter-of-commitment.pdf" if letter else None, data=data
    )


def decline_partnership(application, focal, reason):
    return applications.decline_partnership(partner_row(application, focal), actor=focal, reason=reason)


def apply(call, focal, proposal):
    """Draft and submit in one go."""
    application = draft(call, focal, proposal)
    submit(application, focal)
    return application


def screen(application, staff, action="mark_eligible", *, reason=None, sections=(), **kwargs):
    applications.screen(application, action, actor=staff, reason=reason, sections=sections, **kwargs)
    return application


def answer_more_info(application, focal, values):
    """The city changes what staff reopened, then sends the changes."""
    errors = applications.save_draft(application, actor=focal, values=values, expected_version=application.version)
    if errors:
        raise ValueError(f"answer not saved: {errors}")
    return applications.submit(application, actor=focal)


def offer_to_review(name, email, *, expertise, language="en", **profile):
    """An expert offers to review from the public page, with a one-page CV; `profile`: gender,
    country, region, languages (a list) and affiliation."""
    existing = db.session.scalar(sa.select(ExpertOffer).where(ExpertOffer.email == email))
    if existing is not None:
        return existing
    cv = pdf.render([pdf.para(name, "title"), pdf.para(expertise)], title=f"CV {name}")
    return reviews.offer_to_review(
        name=name, email=email, expertise=expertise, cv=("cv.pdf", cv), language=language, **profile
    )


def seat_jury(call, staff, reviewers, **terms):
    """Staff put reviewers of the pool on the call's jury (those not on it yet), as the jury page does."""
    for reviewer in reviewers:
        if juror_of(call, reviewer) is None:
            reviews.add_juror(call, reviewer, actor=staff, **terms)
    return call


def assign(application, reviewer, staff):
    """Staff put a reviewer on an application's panel, seating them on the call's jury first."""
    seat_jury(application.call, staff, [reviewer])
    return reviews.assign(application, reviewer, actor=staff)


def assign_panels(call, staff):
    """The automatic, balanced proposal of the review page, confirmed as staff would."""
    proposal = reviews.proposal_for(call)
    return reviews.confirm_proposal(call, [(a.id, r.id) for a, r in proposal.pairs], actor=staff)


def assignments_of(application):
    return db.session.scalars(
        sa.select(Assignment).where(Assignment.application_id == application.id).order_by(Assignment.id)
    ).all()


def review(
    assignment, values, *, recommendation="fund", comment="", staff_comment="", submit=True, criterion_comments=None
):
    """The reviewer declares no conflict, then scores each criterion (None: "cannot judge")."""
    actor = assignment.reviewer
    if assignment.awaiting_declaration:
        reviews.declare(assignment, "accept", actor=actor)
    criteria = assignment.application.call.criteria
    comments = criterion_comments or {}
    scores = {
        c.id: (None if v is None else Decimal(str(v)), v is None, comments.get(i, ""))
        for i, (c, v) in enumerate(zip(criteria, values))
    }
    errors = reviews.save_review(
        assignment,
        actor=actor,
        scores=scores,
        comment_applicant=comment,
        comment_staff=staff_comment,
        recommendation=recommendation,
        submit=submit,
    )
    if errors:
        raise ValueError(f"review not saved: {errors}")
    return assignment


def review_all(application, values, **kwargs):
    """Every reviewer of the panel submits the same marks (for tests whose subject is later)."""
    for assignment in assignments_of(application):
        if assignment.is_scoring or assignment.awaiting_declaration:
            review(assignment, values, **kwargs)
    return application


def send_letter(decision, staff):
    """Staff send the decision letter, and the worker's letter job hands it to the outbox (run here,
    at once, as the embedded default does): from then the city sees the decision and may accept."""
    with jobs_in_process():
        return awards.send_letter(decision, actor=staff)


def award(application, staff, amount_cents=None, *, letter=True, **kwargs):
    decision = awards.decide(
        application, "award", actor=staff, amount_cents=amount_cents or application.requested_cents, **kwargs
    )
    if letter:
        send_letter(decision, staff)
    return decision


def reserve(application, staff, *, letter=True):
    decision = awards.decide(application, "reserve", actor=staff)
    if letter:
        send_letter(decision, staff)
    return decision


def reject(application, staff, reason, *, letter=True):
    decision = awards.decide(application, "reject", actor=staff, reason=reason)
    if letter:
        send_letter(decision, staff)
    return decision


def award_from_reserve(application, staff, amount_cents=None, *, letter=True, **kwargs):
    """Money returned: staff award the reserve list's next application, and its letter goes out."""
    decision = awards.award_from_reserve(
        application, actor=staff, amount_cents=amount_cents or application.requested_cents, **kwargs
    )
    if letter:
        send_letter(decision, staff)
    return decision


def decline(decision, focal, reason):
    """The city declines the grant it was offered (before accepting it): the money returns to its lines."""
    awards.decline_grant(decision.grant, actor=focal, reason=reason)
    return decision.grant


def accept(
    decision, focal, bank_details="IBAN ES91 2100 0418 4502 0005 1332", *, publish_project=False, publish_reports=False
):
    """The city accepts its grant; it consents to publishing the project (and its approved reports)
    only when told."""
    awards.accept_grant(
        decision.grant,
        actor=focal,
        bank_details=bank_details,
        publish_project=publish_project,
        publish_reports=publish_reports,
    )
    return decision.grant


def set_publication(grant, focal, *, publish_project, publish_reports=False):
    """The lead city gives or withdraws its consent to publish the project (and approved reports)."""
    return awards.set_publication(grant, actor=focal, publish_project=publish_project, publish_reports=publish_reports)


def pay_due(grant, staff, *, paid_on=None, reference=None):
    """Pay every tranche that is due, in full."""
    payments = []
    for tranche in grant.tranches:
        if tranche.is_due:
            payments.append(
                awards.record_payment(
                    grant,
                    tranche,
                    actor=staff,
                    amount_cents=tranche.outstanding_cents,
                    paid_on=paid_on or grant.application.call_today(),  # the call's day, as staff see it
                    reference=reference or f"{grant.application.reference}-T{tranche.position}",
                )
            )
    return payments


def report(grant, focal, kind, *, progress, results="", difficulties="", reached=(0, 0, 0), spent_share=Decimal("0.4")):
    """The city writes and sends a report: the narrative, people reached, spending on each budget line."""
    duty = next(r for r in grant.reports if r.kind == kind)
    lines = grant.application.budget_lines
    spent = {line.id: int(line.requested_cents * spent_share) for line in lines}
    reporting.save_report(
        duty,
        actor=focal,
        values={
            "progress": progress,
            "results": results,
            "difficulties": difficulties,
            "reached_women": reached[0],
            "reached_men": reached[1],
            "reached_other": reached[2],
            "activities_held": 4,
            "dimensions": list(grant.application.dimensions),
            # Against each target of the call's indicators, the share of it reached so far.
            "indicator_values": {
                key: {part: int((target or 0) * spent_share) for part, target in figures.items()}
                for key, figures in (grant.application.indicator_targets or {}).items()
            },
        },
        spent=spent,
    )
    reporting.submit_report(duty, actor=focal)
    return duty


def approve(report, staff):
    reporting.approve_report(report, actor=staff)
    return report


def get_application(application_id):
    return db.session.get(Application, application_id)
