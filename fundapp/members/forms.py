from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .models import MEMBERSHIPS, REGIONS


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    country = StringField(_l("Country (ISO code, e.g. ES)"), validators=[DataRequired(), Length(min=2, max=2)])
    region = SelectField(_l("Metropolis region"), choices=list(REGIONS.items()))
    membership = SelectField(_l("Membership"), choices=list(MEMBERSHIPS.items()))
    dues_paid_through = IntegerField(
        _l("Dues paid through (year)"), validators=[Optional(), NumberRange(min=1900, max=2200)]
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file (columns: name, country, region, membership, optional dues_paid_through)"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
