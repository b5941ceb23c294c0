"""The refusal every operation raises when a business rule says no."""


class Refused(Exception):
    """A rule refused the change. `message` is shown to the user, next to `field` when given.

    Nothing has been written when this is raised: operations check before they change rows,
    and the caller's transaction is rolled back.
    """

    def __init__(self, message, field=None, errors=None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.errors = errors or []

    @property
    def problems(self):
        """[(message, field)]: every problem named, or this refusal's one."""
        return self.errors or [(self.message, self.field)]

    def apply_to(self, form):
        """Put the message next to its field in a WTForms form; returns True when it found one."""
        field = getattr(form, self.field, None) if self.field else None
        if field is None:
            return False
        field.errors = list(field.errors) + [self.message]
        return True
