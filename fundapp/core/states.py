"""Workflows as data: one transition table per workflow, the only way a state changes.

Each row says: from this state, this action leads to that state, for these roles, with the
label staff see and the label applicants see. Operations call Workflow.apply(); it checks the
row exists and the actor holds one of its roles, sets the new state and writes the audit entry.
Nothing else compares state names: code asks the workflow (`is_final`, `allowed_actions`).
"""

from dataclasses import dataclass, field

from . import audit
from .catalogue import lazy_gettext as _l


class TransitionError(Exception):
    """An action that this state does not allow, or this actor may not take. The message says why."""


@dataclass(frozen=True)
class State:
    name: str
    staff_label: object
    applicant_label: object
    final: bool = False
    # What holds in this state ("public", "editable", ...): code asks for a flag, never a name.
    flags: frozenset = frozenset()


# A transition's target that means "back to the state the object came from" (Hypha's
# "more information" loop): the state is the one remembered by a `remember_source` transition.
RETURN = "<return>"


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset
    label: object  # the button staff (or the actor) see
    needs_reason: bool = False
    remember_source: bool = False  # keep the source in obj.return_state, for a later RETURN


@dataclass
class Workflow:
    name: str
    states: list
    transitions: list
    _by_key: dict = field(init=False, repr=False)

    def __post_init__(self):
        names = {s.name for s in self.states}
        self._states = {s.name: s for s in self.states}
        self._by_key = {}
        for t in self.transitions:
            if t.source not in names or (t.target not in names and t.target != RETURN):
                raise ValueError(f"{self.name}: transition {t.action} uses an unknown state")
            if (t.source, t.action) in self._by_key:
                raise ValueError(f"{self.name}: two transitions for {t.action} from {t.source}")
            self._by_key[(t.source, t.action)] = t
        audit.name_actions({f"{self.name}.{t.action}": t.label for t in self.transitions}, keep_existing=True)

    @property
    def initial(self):
        return self.states[0].name

    def state(self, name):
        return self._states[name]

    def state_names(self):
        return [s.name for s in self.states]

    def staff_label(self, name):
        return self._states[name].staff_label

    def applicant_label(self, name):
        return self._states[name].applicant_label

    def is_final(self, name):
        return self._states[name].final

    def has(self, name, flag):
        return flag in self._states[name].flags

    def states_with(self, flag):
        """Names of the states carrying `flag`, for SQL filters (`state IN (...)`)."""
        return [s.name for s in self.states if flag in s.flags]

    def states_allowing(self, action, roles):
        """Names of the states from which `roles` may take `action`, for SQL filters (what waits
        for staff to approve, to screen...)."""
        return [name for name in self.state_names() if self.can(name, action, roles)]

    def allowed_actions(self, state, roles):
        roles = set(roles)
        return [t for t in self.transitions if t.source == state and t.roles & roles]

    def can(self, state, action, roles):
        t = self._by_key.get((state, action))
        return t is not None and bool(t.roles & set(roles))

    def transition(self, state, action):
        return self._by_key.get((state, action))

    def apply(self, obj, action, actor, *, roles=None, reason=None, attr="state", summary=None, details=None):
        """Move obj through `action`, checking the table; writes the audit entry (with `details`, a
        dict of what else the action recorded). Returns the transition."""
        current = getattr(obj, attr)
        t = self._by_key.get((current, action))
        if t is None:
            raise TransitionError(_l("This cannot be done while it is “%(state)s”.", state=self.staff_label(current)))
        held = set(roles if roles is not None else actor_roles(actor))
        if not (t.roles & held):
            raise TransitionError(_l("You are not allowed to do this."))
        if t.needs_reason and not (reason and reason.strip()):
            raise TransitionError(_l("A reason is required."))
        target = t.target
        if target == RETURN:
            target = getattr(obj, "return_state", None)
            if target not in self._states:
                raise TransitionError(_l("There is no earlier state to return to."))
            obj.return_state = None
        if t.remember_source:
            obj.return_state = current
        setattr(obj, attr, target)
        audit.record(
            f"{self.name}.{action}",
            obj,
            before={attr: current},
            after={attr: target, **({"reason": reason} if reason else {}), **(details or {})},
            summary=summary or f"{self.name}: {current} → {target}",
            actor=actor,
        )
        return t


def actor_roles(actor):
    if actor is None:
        return {"system"}
    return set(getattr(actor, "role_names", lambda: set())())


SYSTEM = "system"
