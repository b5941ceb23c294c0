from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from ..core.catalogue import lazy_gettext as _l
from ..core.forms import TextLength
from ..core.i18n import timezone_options
from .models import MEMBERSHIPS, REGIONS


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), TextLength(max=160)])
    # No maxlength: "Colombia" typed is refused beside the field, not cut to "Co" without a word.
    country = StringField(_l("Country (ISO code, e.g. ES)"), validators=[DataRequired(), TextLength(min=2, max=2)])
    region = SelectField(_l("Metropolis region"), choices=list(REGIONS.items()))
    membership = SelectField(_l("Membership"), choices=list(MEMBERSHIPS.items()))
    dues_paid_through = IntegerField(
        _l("Dues paid through (year)"), validators=[Optional(), NumberRange(min=1900, max=2200)]
    )
    # Not posted: the zone follows from the country; a zone not on the list is refused by the operation.
    timezone = SelectField(_l("Timezone"), choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [("", _l("From the country"))] + timezone_options(self.timezone.data)


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file (columns: name, country, region, membership, optional dues_paid_through and timezone)"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
