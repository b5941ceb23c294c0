"""What staff and cities post about decisions, grants and payments, read through WTForms and the
shared money field (amounts typed in any of the three languages, to the cent); the pages draw
these forms by hand, several on one page (core.forms.PostedForm).
"""

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from ..core.catalogue import lazy_gettext as _l
from ..core.forms import MoneyField, PlausibleDate, PostedForm, TextLength
from .models import DECISION_KINDS


class DecisionForm(PostedForm):
    kind = SelectField(choices=list(DECISION_KINDS.items()), validate_choice=False)
    amount = MoneyField(_l("Amount to award (EUR)"), validators=[Optional()])
    conditions = TextAreaField()
    reason = TextAreaField()


class ReserveAwardForm(PostedForm):
    amount = MoneyField(
        _l("Amount to award (EUR)"), validators=[InputRequired(message=_l("Give the amount to award, in euros."))]
    )
    conditions = TextAreaField()
    out_of_rank = BooleanField()


class PaymentForm(PostedForm):
    tranche = StringField()  # a tranche id of this grant: the route looks it up
    paid_on = DateField(
        _l("Paid on"),
        validators=[InputRequired(message=_l("Give the date of the payment.")), PlausibleDate()],
    )
    amount = MoneyField(_l("Amount paid (EUR)"), validators=[Optional()])
    reference = StringField(
        validators=[TextLength(max=100, message=_l("The payment reference is longer than 100 characters."))]
    )

    def validate_paid_on(self, field):
        # A date the browser could not send as a date ("31/12/2026") is refused with the same words.
        if field.data is None:
            field.errors[:] = []
            raise ValidationError(_l("Give the date of the payment."))


class ReasonForm(PostedForm):
    reason = TextAreaField()


class PublicationForm(PostedForm):
    """The lead city's consent to publish its project and the reports staff approved (both
    unticked unless the city ticks them)."""

    publish_project = BooleanField(
        _l(
            "Publish our project on the fund's public page and in its open data: our city, the partner "
            "cities, the title, the summary, the amount, the dates and the status."
        )
    )
    publish_reports = BooleanField(
        _l("Also publish the progress and results of our reports once the programme team has approved them.")
    )


class AcceptanceForm(PublicationForm):
    bank_details = TextAreaField()
