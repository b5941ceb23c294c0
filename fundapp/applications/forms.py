from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from ..accounts.models import GENDERS
from ..calls.forms import IndicatorFigures
from ..core.catalogue import lazy_gettext as _l
from ..core.forms import CheckboxList, MoneyField, PlausibleDate, PostedForm, SharedSelect, TextLength, WholeNumber
from ..core.i18n import LANGUAGE_NAMES
from ..core.inputs import db_int
from .models import BUDGET_CATEGORIES, DIMENSIONS, MESSAGE_MAX_LENGTH, SECTIONS


class BudgetLineForm(Form):
    category = SelectField(_l("Category"), choices=[("", "—")] + list(BUDGET_CATEGORIES.items()), validate_choice=False)
    description = StringField(_l("Description"), validators=[TextLength(max=500)])
    requested = MoneyField(_l("Requested from the fund (EUR)"), validators=[Optional()])
    cofunding = MoneyField(_l("Co-funding (EUR)"), validators=[Optional()])


class PartnerForm(Form):
    # Its choices (every member city) are given when the editor is shown: SharedChoices, rendered once a page.
    member = SelectField(_l("Partner city"), choices=[], coerce=db_int, validate_choice=False, widget=SharedSelect())
    role = StringField(_l("Its role in the project"), validators=[TextLength(max=300)])


class ApplicationForm(FlaskForm):
    version = HiddenField()
    language = SelectField(_l("Language of the application"), choices=list(LANGUAGE_NAMES.items()))
    title = StringField(_l("Project title"), validators=[TextLength(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[TextLength(max=3000)])
    problem = TextAreaField(_l("Problem and context"), validators=[TextLength(max=10000)])
    objectives = TextAreaField(_l("Objectives"), validators=[TextLength(max=10000)])
    activities = TextAreaField(_l("Activities"), validators=[TextLength(max=20000)])
    dimensions = CheckboxList(_l("Care-system dimensions the project addresses"), choices=list(DIMENSIONS.items()))
    target_groups = TextAreaField(_l("Target groups"), validators=[TextLength(max=5000)])
    beneficiaries_women = WholeNumber(
        _l("Direct beneficiaries: women"),
        validators=[Optional(), NumberRange(min=0, message=_l("Cannot be negative."))],
    )
    beneficiaries_men = WholeNumber(
        _l("Direct beneficiaries: men"), validators=[Optional(), NumberRange(min=0, message=_l("Cannot be negative."))]
    )
    beneficiaries_other = WholeNumber(
        _l("Direct beneficiaries: other or undisclosed"),
        validators=[Optional(), NumberRange(min=0, message=_l("Cannot be negative."))],
    )
    lead_name = StringField(_l("Project lead (the person who leads it in the city)"), validators=[TextLength(max=200)])
    lead_gender = SelectField(
        _l("Project lead’s gender (optional, counted in the fund’s figures)"),
        choices=[("", "—"), *GENDERS.items()],
        validate_choice=False,
    )
    start_date = DateField(_l("Start date"), validators=[PlausibleDate(), Optional()])
    duration_months = IntegerField(_l("Duration (months)"), validators=[Optional()])
    milestones = TextAreaField(_l("Milestones"), validators=[TextLength(max=10000)])
    risks = TextAreaField(_l("Risks and how they are handled"), validators=[TextLength(max=10000)])
    partners = FieldList(FormField(PartnerForm), min_entries=0)
    budget = FieldList(FormField(BudgetLineForm), min_entries=0)
    # indicator_targets-<indicator id>-<part>: the target for each indicator of the call
    indicator_targets = IndicatorFigures()


class UploadForm(FlaskForm):
    requirement = SelectField(_l("Which document"), choices=[])
    file = FileField(_l("File (PDF, image or office document)"), validators=[FileRequired(_l("Choose a file."))])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), TextLength(max=4000)]
    )


class ScreeningForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason or message to the city"), validators=[TextLength(max=4000)])
    sections = CheckboxList(_l("Parts the city may change"), choices=list(SECTIONS.items()))
    reply_by = DateField(_l("Reply by"), validators=[PlausibleDate(), Optional()])


class AmountRangeForm(PostedForm):
    """The range of amounts requested that filters the staff list (read from the query string)."""

    min = MoneyField(validators=[Optional()])
    max = MoneyField(validators=[Optional()])


class MessageForm(FlaskForm):
    """A message to the other side of the application's thread (checked by operations.post_message)."""

    body = TextAreaField(_l("Your message"))
    max_length = MESSAGE_MAX_LENGTH


class BulkForm(FlaskForm):
    """The staff list's selection and the action chosen for it. `shown`: the applications the page
    listed, which "all on this page" selects without JavaScript."""

    application = SelectMultipleField(_l("Select"), coerce=db_int, validate_choice=False)
    shown = SelectMultipleField(coerce=db_int, validate_choice=False)
    all_on_page = BooleanField(_l("Select all on this page"))
    action = HiddenField()
    reason = TextAreaField(
        _l("Reason for ineligibility (one for all, shown to each city)"), validators=[TextLength(max=4000)]
    )

    def selected_ids(self):
        """The ids ticked (or every one the page showed, with "all on this page"), in order, once each."""
        ids = (self.shown.data or []) if self.all_on_page.data else (self.application.data or [])
        return list(dict.fromkeys(ids))


class PartnerConfirmForm(FlaskForm):
    """A partner city confirms its part, with its letter of commitment if it attaches one."""

    letter = FileField(_l("Letter of commitment (PDF, optional)"))


class PartnerDeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why does your city decline?"),
        validators=[DataRequired(message=_l("Say why your city declines.")), TextLength(max=4000)],
    )
