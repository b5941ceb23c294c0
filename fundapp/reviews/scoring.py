"""Conflicts of interest, score checks and aggregation: plain functions over plain values.

Scores are Decimals throughout: a review's score is the weighted mean of its judged criteria, each
put on 0-100 from its own scale; "cannot judge" leaves a criterion out rather than counting zero.
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from ..calls.models import localized
from ..core.catalogue import lazy_gettext as _l
from ..core.i18n import lazy_decimal, lazy_in_language

TWO = Decimal("0.01")
HUNDRED = Decimal(100)


def q2(value):
    return None if value is None else Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP)


# -- conflicts --------------------------------------------------------------------------------


def conflict_reasons(profile, application, same_country_rule):
    """Why this reviewer may not review this application (empty: no automatic conflict)."""
    if profile is None:
        return []
    reasons = []
    cities = [application.member] + [p.member for p in application.partners]
    if profile.affiliation_member_id and profile.affiliation_member_id in {m.id for m in cities}:
        which = next(m for m in cities if m.id == profile.affiliation_member_id)
        reasons.append(
            _l("The reviewer is affiliated with %(city)s, which takes part in the application.", city=which.name)
        )
    if same_country_rule and profile.country and profile.country in {m.country for m in cities}:
        reasons.append(_l("The reviewer is from the same country as a city of the application."))
    return reasons


def _name_in(names, language):
    return localized(names, language)[0]


# -- one criterion score ------------------------------------------------------------------------


def check_score(criterion, value):
    """None if the value is on the criterion's scale and grid, else the reason."""
    if value < criterion.scale_min or value > criterion.scale_max:
        return _l(
            "Scores for this criterion go from %(min)s to %(max)s.",
            min=lazy_decimal(Decimal(criterion.scale_min)),
            max=lazy_decimal(Decimal(criterion.scale_max)),
        )
    if (value - criterion.scale_min) % criterion.scale_step != 0:
        # In the reader's language when shown ("0,5" in French and Spanish), as the hint beside it.
        return _l(
            "Scores for this criterion go in steps of %(step)s.", step=lazy_decimal(Decimal(criterion.scale_step))
        )
    return None


def on_100(criterion, value):
    return (Decimal(value) - criterion.scale_min) * HUNDRED / (criterion.scale_max - criterion.scale_min)


def review_score(pairs):
    """Weighted mean on 0-100 of [(criterion, score or None for cannot judge)]; None if nothing judged."""
    judged = [(c, s) for c, s in pairs if s is not None]
    total_weight = sum((c.weight for c, _s in judged), Decimal(0))
    if not judged or total_weight == 0:
        return None
    return q2(sum(on_100(c, s) * c.weight for c, s in judged) / total_weight)


# -- an application's aggregate -------------------------------------------------------------------


@dataclass(slots=True)
class Aggregate:
    application: object
    scores: list  # review scores on 0-100, in whole hundredths
    criterion_means: dict  # criterion id -> mean raw score (on its own scale), judged reviews only
    mean: Decimal | None = None
    spread: Decimal | None = None
    disagreement: bool = False
    failures: list = field(default_factory=list)
    consensus: object = None
    # The score normalised per reviewer is computed when read (it is shown, never ranked by):
    # from the call's Normalisation and this application's (reviewer id, score in hundredths).
    normalisation: object = None
    reviews: list = field(default_factory=list)

    @property
    def normalised(self):
        if self.normalisation is None:
            return None
        return self.normalisation.score_of(self.application.id, self.reviews)

    @property
    def ranking_score(self):
        """The panel's consensus when recorded, otherwise the mean of the reviews."""
        return self.consensus.score if self.consensus is not None else self.mean

    @property
    def passes(self):
        return self.mean is not None and not self.failures


@dataclass(frozen=True)
class Rules:
    """What a call's aggregates are judged by, read from the call once for all its applications."""

    thresholds: tuple  # (criterion id, threshold, why failing it fails) for criteria with one
    disagreement: Decimal
    overall: Decimal | None
    criterion_ids: tuple  # in their order: the ties are broken by them
    below_overall: object = None  # why failing the overall threshold fails

    @classmethod
    def of(cls, call):
        # The reasons are made once per call, shared by every application that fails (a large
        # call has a thousand), and translated when shown.
        criteria = list(call.criteria)
        overall = call.overall_threshold
        return cls(
            thresholds=tuple(
                (
                    c.id,
                    c.threshold,
                    # Kept with the call's rules: the criterion's names, shown in the reader's language.
                    _l("Below the threshold on “%(criterion)s”.", criterion=lazy_in_language(_name_in, dict(c.name))),
                )
                for c in criteria
                if c.threshold is not None
            ),
            disagreement=call.disagreement_threshold,
            overall=overall,
            criterion_ids=tuple(c.id for c in criteria),
            below_overall=(
                None
                if overall is None
                else _l("Below the overall threshold of %(score)s.", score=lazy_decimal(Decimal(overall)))
            ),
        )


def aggregate(application, rules, scores, criterion_means, consensus=None):
    """rules: Rules.of(the application's call), read once for all its applications;
    scores: the submitted reviews' scores on 0-100 in whole hundredths (7313 for 73.13; None for a
    review that judged nothing): a large call has thousands, added up as integers;
    criterion_means: {criterion id: mean raw score over the reviews that judged it} (q2)."""
    scores = [s for s in scores if s is not None]
    result = Aggregate(application=application, scores=scores, criterion_means=criterion_means, consensus=consensus)
    if scores:
        result.mean = mean_of_hundredths(sum(scores), len(scores))
        result.spread = _from_hundredths(max(scores) - min(scores))
        result.disagreement = result.spread > rules.disagreement
        for criterion_id, threshold, reason in rules.thresholds:
            mean = criterion_means.get(criterion_id)
            if mean is not None and mean < threshold:
                result.failures.append(reason)
        score = result.ranking_score
        if rules.overall is not None and score < rules.overall:
            result.failures.append(rules.below_overall)
    return result


def mean_of_hundredths(total_hundredths, count):
    """The mean (q2) of `count` scores of two decimals that add up to `total_hundredths` / 100: the
    sum is taken in SQL as an integer, so the mean is exact on PostgreSQL and SQLite alike."""
    total, count = int(total_hundredths), int(count)
    if total < 0:  # no scale goes below zero today; kept exact if one does
        return q2(Decimal(total) / (100 * count))
    # Rounded half up to whole hundredths in integers: q2 of the exact quotient, without Decimal
    # division (a large call has tens of thousands of these).
    return _from_hundredths((2 * total + count) // (2 * count))


@lru_cache(maxsize=100_01)
def _from_hundredths(hundredths):
    """Decimal("h.hh") of a whole number of hundredths. A call's means and spreads take a few
    hundred values (0 to 100 has 10,001), each shared, never mutated: made once."""
    return Decimal(hundredths).scaleb(-2)


class Normalisation:
    """Per-reviewer z-scores rescaled onto the panel's own mean and spread: a harsh reviewer's 60
    and a lenient reviewer's 80 may say the same thing; this puts them side by side.

    Made from every submitted score of the call, by reviewer ({reviewer id: [scores as floats]}):
    their means and spreads. An application's normalised score (the mean of its reviews' rescaled
    scores, q2) is computed when asked: the ranking shows a page of them and the decision board
    none, so a call of thousands of applications does not compute them all for each page.
    """

    def __init__(self, per_reviewer):
        everything = [score for scores in per_reviewer.values() for score in scores]
        self.overall = _mean_and_sd(everything) if len(everything) >= 2 else None
        self.reviewers = {reviewer_id: _mean_and_sd(scores) for reviewer_id, scores in per_reviewer.items()}
        self._scores = {}

    def rescaled(self, reviewer_id, score):
        """The reviewer's `score` (a float) as a z-score among their own, put on the panel's scale."""
        overall_mean, overall_sd = self.overall
        mean, sd = self.reviewers[reviewer_id]
        z = (score - mean) / sd if sd else 0.0
        return min(100.0, max(0.0, overall_mean + z * overall_sd))

    def score_of(self, key, reviews):
        """q2 mean of the rescaled scores of `reviews` [(reviewer id, score in hundredths or None)]
        (None with fewer than two scores in the call, or none in `reviews`); kept under `key`."""
        if self.overall is None:
            return None
        if key not in self._scores:
            # hundredths / 100 is the double nearest the score, as float(Decimal(score)) is; each
            # rescaled double enters the mean as the Decimal of its shortest repr.
            values = [
                Decimal(str(self.rescaled(reviewer_id, hundredths / 100)))
                for reviewer_id, hundredths in reviews
                if hundredths is not None
            ]
            self._scores[key] = q2(sum(values) / len(values)) if values else None
        return self._scores[key]


def _mean_and_sd(values):
    """Mean and population standard deviation of floats, with math.fsum's exact sums: the
    statistics module's pstdev computes with fractions, a hundred times slower on a large call."""
    mean = math.fsum(values) / len(values)
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


NOTHING = Decimal(-1)  # below any score: no score, or a criterion nobody judged


def in_rank_order(results, criterion_ids):
    """`results` sorted: higher score first; ties broken by the criteria in order (their ids,
    Rules.criterion_ids), then by earlier submission.

    Two stable sorts, the second descending: the same order as one sort on negated scores, without
    a new Decimal for each of a large call's thousands of scores."""
    ordered = sorted(results, key=_submission_order)
    ordered.sort(key=lambda r: _scores_key(r, criterion_ids), reverse=True)
    return ordered


def _submission_order(result):
    return result.application.first_submitted_at, result.application.id


def _scores_key(result, criterion_ids):
    means = result.criterion_means
    return (result.ranking_score or NOTHING, *[means.get(criterion_id, NOTHING) for criterion_id in criterion_ids])
