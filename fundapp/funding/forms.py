from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..core.catalogue import lazy_gettext as _l
from ..core.forms import DecimalText, EmailAddress, MoneyField, PlausibleDate, TextLength
from ..core.i18n import LANGUAGE_NAMES
from ..members.models import REGIONS


class DonorForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), TextLength(max=200)])
    name_fr = StringField(_l("Name (French)"), validators=[Optional(), TextLength(max=200)])
    name_es = StringField(_l("Name (Spanish)"), validators=[Optional(), TextLength(max=200)])
    short_name = StringField(_l("Short name"), validators=[DataRequired(), TextLength(max=20)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), TextLength(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), TextLength(max=254), EmailAddress()])
    reporting_language = SelectField(_l("Language of reports"), choices=list(LANGUAGE_NAMES.items()))
    reporting_notes = TextAreaField(_l("Reporting notes"), validators=[TextLength(max=4000)])


class ContributionForm(FlaskForm):
    amount = MoneyField(
        _l("Amount as pledged"), in_euros=False, validators=[InputRequired(message=_l("Give the amount."))]
    )
    currency = StringField(
        _l("Currency (ISO code)"), default="EUR", validators=[DataRequired(), TextLength(min=3, max=3)]
    )
    # Ten decimals: a dong or a rupiah is worth a few hundred-thousandths of a euro.
    rate_to_eur = DecimalText(
        _l("Exchange rate: EUR for one unit of the currency (1 for EUR)"),
        places=10,
        digits=8,
        default=None,
        validators=[Optional()],
    )
    pledged_on = DateField(_l("Pledged on"), validators=[PlausibleDate(), Optional()])
    received_on = DateField(_l("Received on"), validators=[PlausibleDate(), Optional()])
    restriction_theme = StringField(
        _l("Restricted to the theme (optional)"), validators=[Optional(), TextLength(max=100)]
    )
    restriction_region = SelectField(
        _l("Restricted to the region (optional)"), choices=[("", "—")] + list(REGIONS.items())
    )
    note = TextAreaField(_l("Note"), validators=[TextLength(max=2000)])


class RemoveContributionForm(FlaskForm):
    """A contribution recorded by mistake, taken back with a reason the audit log keeps."""

    reason = TextAreaField(_l("Why remove it?"), validators=[TextLength(max=2000)])
