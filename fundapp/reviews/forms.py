from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import DecimalText
from ..core.inputs import db_int


class DeclarationForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class AssignForm(FlaskForm):
    reviewer = SelectField(_l("Reviewer"), choices=[], coerce=db_int, validate_choice=False)


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), Length(max=2000)])


class ConsensusForm(FlaskForm):
    score = DecimalText(_l("Consensus score (0-100)"), validators=[DataRequired(message=_l("Give the score."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
