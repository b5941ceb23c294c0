from babel import Locale
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..core.catalogue import lazy_gettext as _l
from ..core.forms import CheckboxList, DecimalText, EmailAddress, PlausibleDate, PostedForm, TextLength
from ..core.inputs import db_int
from ..members.models import REGIONS


class DeclarationForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason"),
        validators=[TextLength(max=2000)],
    )


class AssignForm(FlaskForm):
    reviewer = SelectField(_l("Reviewer"), choices=[], coerce=db_int, validate_choice=False)


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), TextLength(max=2000)]
    )


class ConsensusForm(FlaskForm):
    score = DecimalText(_l("Consensus score (0-100)"), validators=[DataRequired(message=_l("Give the score."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), TextLength(max=4000)])


# -- experts' offers -----------------------------------------------------------------------------

# The answers the public form offers, stored as accounts.models.GENDERS keys.
OFFER_GENDERS = [
    ("woman", _l("Woman")),
    ("man", _l("Man")),
    ("other", _l("Another gender")),
    ("undisclosed", _l("I prefer not to say")),
]
LANGUAGE_NAMES = [("en", "English"), ("fr", "Français"), ("es", "Español")]


def country_choices():
    """Every country by its name in the reader's language, sorted by it."""
    locale = get_locale() or Locale("en")
    names = {code: name for code, name in locale.territories.items() if len(code) == 2 and code.isalpha()}
    return [("", _l("Choose your country"))] + sorted(names.items(), key=lambda pair: pair[1])


class ExpertOfferForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(message=_l("Give your name.")), TextLength(max=200)])
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("Give your e-mail address.")), TextLength(max=254), EmailAddress()],
    )
    gender = SelectField(
        _l("Gender"),
        choices=[("", _l("Choose one of the answers")), *OFFER_GENDERS],
        validators=[DataRequired(message=_l("Choose one of the answers."))],
    )
    country = SelectField(_l("Country"), choices=[], validators=[DataRequired(message=_l("Choose your country."))])
    region = SelectField(
        _l("Region"),
        choices=[("", _l("Choose your region"))] + list(REGIONS.items()),
        validators=[DataRequired(message=_l("Choose your region."))],
    )
    languages = CheckboxList(
        _l("Languages you review in"),
        choices=LANGUAGE_NAMES,
        validators=[DataRequired(message=_l("Choose at least one language you review in."))],
    )
    expertise = TextAreaField(
        _l("Your expertise"), validators=[DataRequired(message=_l("Describe your expertise.")), TextLength(max=4000)]
    )
    affiliation = StringField(_l("Affiliation (optional)"), validators=[Optional(), TextLength(max=200)])
    cv = FileField(_l("Your CV (PDF)"), validators=[FileRequired(_l("Upload your CV as a PDF."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class DeclineOfferForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (kept for the programme team)"),
        validators=[DataRequired(message=_l("Give the reason.")), TextLength(max=2000)],
    )


# -- the jury of a call --------------------------------------------------------------------------


class JurorForm(FlaskForm):
    reviewer = SelectField(_l("Reviewer"), choices=[], coerce=db_int, validate_choice=False)
    max_load = IntegerField(
        _l("Maximum load (applications of this call)"),
        default=10,
        validators=[InputRequired(message=_l("Give the maximum load."))],
    )
    unavailable_from = DateField(_l("Unavailable from (optional)"), validators=[Optional(), PlausibleDate()])
    unavailable_until = DateField(_l("Unavailable until (optional)"), validators=[Optional(), PlausibleDate()])


class JurorTermsForm(PostedForm):
    """One row of the jury table: the juror's load and unavailability (fields drawn by hand)."""

    max_load = IntegerField(validators=[InputRequired(message=_l("Give the maximum load."))])
    unavailable_from = DateField(validators=[Optional(), PlausibleDate()])
    unavailable_until = DateField(validators=[Optional(), PlausibleDate()])


class JuryRuleForm(FlaskForm):
    min_women_percent = IntegerField(
        _l("Women: at least (%)"), validators=[InputRequired(message=_l("Give a whole number."))]
    )
    min_men_percent = IntegerField(
        _l("Men: at least (%)"), validators=[InputRequired(message=_l("Give a whole number."))]
    )
    min_regions = IntegerField(_l("Regions: at least"), validators=[InputRequired(message=_l("Give a whole number."))])


class ConfirmJuryForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (needed when the jury does not meet its rule)"), validators=[Optional(), TextLength(max=2000)]
    )
