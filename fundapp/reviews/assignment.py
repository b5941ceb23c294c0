"""Automatic assignment: a panel for each application, balanced, conflict-free and varied.

Hard rules: only the call's jury, never a conflicted reviewer, never the same reviewer twice on a
panel, the call's number of reviewers per application, never a juror unavailable on the day nor
beyond their maximum load in the call. Preferences, in order: balance the load across the pool,
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
class Shortfall:
    """An application the jury cannot give a full panel, and why: the jurors each reason keeps out."""

    application: object
    missing: int
    jury: int
    conflicts: int
    unavailable: int
    full: int
    on_panel: int
    proposed: int = 0
    off: int = 0  # declined it, or taken off its panel by staff


@dataclass
class Proposal:
    pairs: list = field(default_factory=list)  # [(application, reviewer user)]
    shortfalls: list = field(default_factory=list)  # [Shortfall]
    load: dict = field(default_factory=dict)  # reviewer id -> assignments after the proposal

    @property
    def complete(self):
        return not self.shortfalls


def propose(call, applications, reviewers, existing, *, max_load=None, unavailable=(), load=None, past=None):
    """applications: those needing reviewers; reviewers: the call's jurors (active reviewers with a
    profile); existing: {application_id: [reviewer ids already counted on its panel]};
    past: {application_id: {reviewer id: state}} of the assignments that no longer count (a
    conflict the reviewer declared, a review declined, a reviewer taken off): never proposed again;
    max_load: {reviewer id: most applications of the call}; unavailable: the ids of jurors
    unavailable today; load: {reviewer id: applications of the call already counted} (from the
    panels in `existing` when not given). Returns a Proposal."""
    needed = call.reviewers_per_application
    max_load = max_load or {}
    if load is None:
        load = {r.id: 0 for r in reviewers}
        for reviewer_ids in existing.values():
            for rid in reviewer_ids:
                if rid in load:
                    load[rid] += 1
    else:
        load = {r.id: load.get(r.id, 0) for r in reviewers}

    def has_room(reviewer):
        return reviewer.id not in max_load or load[reviewer.id] < max_load[reviewer.id]

    past = past or {}
    conflicted = {}
    off = {}
    allowed = {}
    for application in applications:
        before = past.get(application.id, {})
        conflicted[application.id] = {
            r.id for r in reviewers if conflict_reasons(r.reviewer_profile, application, call.conflict_same_country)
        } | {rid for rid, state in before.items() if state == "conflict"}
        off[application.id] = {rid for rid, state in before.items() if state != "conflict"}
        allowed[application.id] = [
            r
            for r in reviewers
            if r.id not in existing.get(application.id, [])
            and r.id not in conflicted[application.id]
            and r.id not in off[application.id]
            and r.id not in unavailable
        ]
    by_id = {r.id: r for r in reviewers}
    proposed = {a.id: [] for a in applications}  # application id -> reviewers proposed
    missing = {a.id: max(needed - len(existing.get(a.id, [])), 0) for a in applications}
    # The most constrained applications choose first.
    order = sorted(applications, key=lambda a: (len(allowed[a.id]), a.number or 0, a.id))
    for application in order:
        panel = [by_id[rid] for rid in existing.get(application.id, []) if rid in by_id]
        candidates = list(allowed[application.id])
        readers = [r for r in candidates if application.language in r.reviewer_profile.language_list]
        while missing[application.id] > 0:
            candidates = [r for r in candidates if has_room(r)]
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
            proposed[application.id].append(chosen)
            missing[application.id] -= 1
            load[chosen.id] += 1
    _repair(order, allowed, proposed, missing, load, has_room)

    proposal = Proposal()
    for application in order:
        proposal.pairs.extend((application, r) for r in proposed[application.id])
    for application in order:
        if missing[application.id] > 0:
            already = set(existing.get(application.id, []))
            others = [r for r in reviewers if r.id not in already and r not in proposed[application.id]]
            gone = off[application.id] - conflicted[application.id]
            proposal.shortfalls.append(
                Shortfall(
                    application=application,
                    missing=missing[application.id],
                    jury=len(reviewers),
                    conflicts=sum(1 for r in others if r.id in conflicted[application.id]),
                    off=sum(1 for r in others if r.id in gone),
                    unavailable=sum(
                        1
                        for r in others
                        if r.id in unavailable and r.id not in conflicted[application.id] and r.id not in gone
                    ),
                    full=sum(
                        1
                        for r in others
                        if r.id not in unavailable
                        and r.id not in conflicted[application.id]
                        and r.id not in gone
                        and not has_room(r)
                    ),
                    on_panel=len([r for r in reviewers if r.id in already]),
                    proposed=len(proposed[application.id]),
                )
            )
    proposal.load = load
    return proposal


def _repair(order, allowed, proposed, missing, load, has_room):
    """Where the balanced choice left an application short while jurors have room elsewhere, move
    proposals along an augmenting path (as in a bipartite matching with capacities): the short
    application takes a juror who is full, the application that juror leaves takes another, and so
    on to a juror with room. A shortfall that remains is one no choice avoids."""
    for application in order:
        while missing[application.id] > 0:
            parent = {("a", application.id): None}
            queue, found = [application.id], None
            while queue and found is None:
                app_id = queue.pop(0)
                taken = {r.id for r in proposed[app_id]}
                for reviewer in allowed[app_id]:
                    node = ("r", reviewer.id)
                    if reviewer.id in taken or node in parent:
                        continue
                    parent[node] = ("a", app_id, reviewer)
                    if has_room(reviewer):
                        found = node
                        break
                    for other_id, others in proposed.items():
                        if ("a", other_id) not in parent and any(r.id == reviewer.id for r in others):
                            parent[("a", other_id)] = ("r", reviewer.id, reviewer)
                            queue.append(other_id)
            if found is None:
                break
            # Walk back: each application on the path takes the juror after it and gives up the one before.
            node = found
            load[found[1]] += 1
            while node is not None:
                link = parent[node]
                if link is None:
                    break
                _kind, app_id, reviewer = link
                proposed[app_id].append(reviewer)
                given = parent[("a", app_id)]
                if given is None:
                    break
                _rk, gone_id, _gone = given
                proposed[app_id] = [r for r in proposed[app_id] if r.id != gone_id]
                node = ("r", gone_id)
            missing[application.id] -= 1
