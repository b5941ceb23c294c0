"""Automatic assignment: a panel for each application, balanced, conflict-free and varied.

Hard rules: never a conflicted reviewer, never the same reviewer twice on a panel, the call's
number of reviewers per application. Preferences, in order: balance the load across the pool,
put on each panel at least one reviewer who reads the application's language, mix genders and
regions where the pool allows. The result is deterministic for the same data.
"""

from dataclasses import dataclass, field

from .scoring import conflict_reasons

# Costs of a choice, compared as a whole: one more assignment than the lightest reviewer costs
# more than a panel without a reader of the language; both outweigh gender and region variety.
LOAD = 10
NO_READER = 6
SAME_GENDER = 3
SAME_REGION = 2


@dataclass
class Proposal:
    pairs: list = field(default_factory=list)  # [(application, reviewer user)]
    shortfalls: list = field(default_factory=list)  # [(application, missing, reason)]
    load: dict = field(default_factory=dict)  # reviewer id -> assignments after the proposal

    @property
    def complete(self):
        return not self.shortfalls


def propose(call, applications, reviewers, existing):
    """applications: those needing reviewers; reviewers: active users with a reviewer profile;
    existing: {application_id: [reviewer ids already counted on its panel]}, and load comes from
    existing_load(). Returns a Proposal."""
    needed = call.reviewers_per_application
    load = {r.id: 0 for r in reviewers}
    for reviewer_ids in existing.values():
        for rid in reviewer_ids:
            if rid in load:
                load[rid] += 1
    allowed = {}
    for application in applications:
        allowed[application.id] = [
            r
            for r in reviewers
            if r.id not in existing.get(application.id, [])
            and not conflict_reasons(r.reviewer_profile, application, call.conflict_same_country)
        ]
    proposal = Proposal()
    by_id = {r.id: r for r in reviewers}
    # The most constrained applications choose first.
    order = sorted(applications, key=lambda a: (len(allowed[a.id]), a.number or 0, a.id))
    for application in order:
        panel = [by_id[rid] for rid in existing.get(application.id, []) if rid in by_id]
        missing = needed - len(panel)
        candidates = list(allowed[application.id])
        readers = [r for r in candidates if application.language in r.reviewer_profile.language_list]
        for _ in range(max(missing, 0)):
            if not candidates:
                break
            lightest = min(load[r.id] for r in candidates)
            has_reader = any(application.language in r.reviewer_profile.language_list for r in panel)

            def cost(reviewer):
                profile = reviewer.reviewer_profile
                value = (load[reviewer.id] - lightest) * LOAD
                if not has_reader and readers and application.language not in profile.language_list:
                    value += NO_READER
                if any(p.reviewer_profile.gender == profile.gender for p in panel):
                    value += SAME_GENDER
                if any(p.reviewer_profile.region == profile.region for p in panel):
                    value += SAME_REGION
                return (value, load[reviewer.id], reviewer.id)

            chosen = min(candidates, key=cost)
            candidates.remove(chosen)
            panel.append(chosen)
            load[chosen.id] += 1
            proposal.pairs.append((application, chosen))
        short = needed - len(panel)
        if short > 0:
            proposal.shortfalls.append((application, short, len(allowed[application.id])))
    proposal.load = load
    return proposal
