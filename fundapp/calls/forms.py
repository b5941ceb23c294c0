from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from ..core.catalogue import lazy_gettext as _l
from ..core.forms import CheckboxList, DecimalText, EmailAddress, MoneyField, PlausibleDate, TextLength
from ..core.i18n import parse_count, timezone_options
from ..members.models import MEMBERSHIPS, REGIONS
from .models import DUE_MODES, INDICATOR_PARTS, UNIT_MAX
from .operations import fund_max_grant_cents, fund_maximum_message


class WithinFundMaximum:
    """Validator: a cap no higher than the fund's largest grant (the operation checks it again)."""

    def __call__(self, form, field):
        if field.data is not None and field.data > fund_max_grant_cents():
            raise ValidationError(fund_maximum_message())


LANGUAGE_LABELS = {"en": _l("English"), "fr": _l("French"), "es": _l("Spanish")}


class CallForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), TextLength(max=30)])
    theme = StringField(_l("Theme (English)"), validators=[DataRequired(), TextLength(max=100)])
    theme_fr = StringField(_l("Theme (French)"), validators=[TextLength(max=100)])
    theme_es = StringField(_l("Theme (Spanish)"), validators=[TextLength(max=100)])
    contact_email = EmailField(
        _l("Contact address for applicants"),
        validators=[DataRequired(), TextLength(max=254), EmailAddress()],
    )
    title_en = StringField(_l("Title (English)"), validators=[TextLength(max=300)])
    title_fr = StringField(_l("Title (French)"), validators=[TextLength(max=300)])
    title_es = StringField(_l("Title (Spanish)"), validators=[TextLength(max=300)])
    summary_en = TextAreaField(_l("Summary (English)"), validators=[TextLength(max=2000)])
    summary_fr = TextAreaField(_l("Summary (French)"), validators=[TextLength(max=2000)])
    summary_es = TextAreaField(_l("Summary (Spanish)"), validators=[TextLength(max=2000)])
    body_en = TextAreaField(_l("Full text (English)"), validators=[TextLength(max=50000)])
    body_fr = TextAreaField(_l("Full text (French)"), validators=[TextLength(max=50000)])
    body_es = TextAreaField(_l("Full text (Spanish)"), validators=[TextLength(max=50000)])
    opens_at = DateTimeLocalField(
        _l("Opens (in the call's timezone)"),
        format="%Y-%m-%dT%H:%M",
        validators=[PlausibleDate(), DataRequired(message=_l("Give the date and time."))],
    )
    closes_at = DateTimeLocalField(
        _l("Closes (in the call's timezone)"),
        format="%Y-%m-%dT%H:%M",
        validators=[PlausibleDate(), DataRequired(message=_l("Give the date and time."))],
    )
    timezone = SelectField(_l("Timezone of the call"), choices=[])
    cap = MoneyField(
        _l("Grant cap (EUR)"), validators=[InputRequired(message=_l("Give the cap in euros.")), WithinFundMaximum()]
    )
    min_grant = MoneyField(_l("Minimum grant (EUR, optional)"), validators=[Optional()])
    duration_min_months = IntegerField(_l("Shortest project (months)"), validators=[NumberRange(min=1, max=120)])
    duration_max_months = IntegerField(_l("Longest project (months)"), validators=[NumberRange(min=1, max=120)])
    min_cofunding_pct = DecimalText(
        _l("Minimum co-funding share (percentage of the project cost, optional)"), validators=[Optional()]
    )
    eligible_memberships = CheckboxList(_l("Who may apply"), choices=list(MEMBERSHIPS.items()))
    eligible_regions = CheckboxList(_l("Regions (none ticked: every region)"), choices=list(REGIONS.items()))
    dues_required = BooleanField(_l("Membership dues must be paid"))
    one_application_per_lead = BooleanField(_l("One application per lead city"))
    partners_allowed = BooleanField(_l("Partner cities allowed"))
    partners_must_confirm = BooleanField(_l("Every partner city must confirm its part before the lead can submit"))
    partners_dues_required = BooleanField(_l("Partner cities’ membership dues must be paid"))
    required_documents = TextAreaField(
        _l("Required documents, in English (one per line)"), validators=[TextLength(max=5000)]
    )
    required_documents_fr = TextAreaField(
        _l("Required documents, in French (same order)"), validators=[TextLength(max=5000)]
    )
    required_documents_es = TextAreaField(
        _l("Required documents, in Spanish (same order)"), validators=[TextLength(max=5000)]
    )
    overall_threshold = DecimalText(_l("Overall threshold (score out of 100, optional)"), validators=[Optional()])
    project_start_earliest = DateField(
        _l("Projects start at the earliest on (optional)"), validators=[PlausibleDate(), Optional()]
    )
    project_start_latest = DateField(
        _l("Projects start at the latest on (optional)"), validators=[PlausibleDate(), Optional()]
    )
    conflict_same_country = BooleanField(_l("A reviewer from the lead's or a partner's country has a conflict"))
    reviewers_see_others = BooleanField(_l("Reviewers see the other scores once theirs is submitted"))
    disagreement_threshold = DecimalText(
        _l("Flag a disagreement when review scores differ by more than (points)"), validators=[Optional()]
    )
    review_due_at = DateTimeLocalField(
        _l("Reviews due (in the call's timezone, optional)"),
        format="%Y-%m-%dT%H:%M",
        validators=[PlausibleDate(), Optional()],
    )
    tranche_schedule = StringField(
        _l("Payment tranches (condition:percent, empty for 40/40/20)"), validators=[Optional(), TextLength(max=200)]
    )
    reviewers_per_application = IntegerField(_l("Reviewers per application"), validators=[NumberRange(min=1, max=20)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_options(self.timezone.data)

    def fund_fields(self):
        return [f for f in self if f.name.startswith("fund_")]


def call_form_class(contributions):
    """CallForm with one amount field per contribution that can fund the envelope."""
    attrs = {}
    for contribution in contributions:
        attrs[f"fund_{contribution.id}"] = MoneyField(
            _l("From %(donor)s (contribution #%(id)d)", donor=contribution.donor.short_name, id=contribution.id),
            validators=[Optional()],
        )
    return type("CallFormWithFunding", (CallForm,), attrs)


class CriterionForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[TextLength(max=200)])
    name_fr = StringField(_l("Name (French)"), validators=[TextLength(max=200)])
    name_es = StringField(_l("Name (Spanish)"), validators=[TextLength(max=200)])
    guidance_en = TextAreaField(_l("Guidance for reviewers (English)"), validators=[TextLength(max=4000)])
    guidance_fr = TextAreaField(_l("Guidance for reviewers (French)"), validators=[TextLength(max=4000)])
    guidance_es = TextAreaField(_l("Guidance for reviewers (Spanish)"), validators=[TextLength(max=4000)])
    weight = DecimalText(_l("Weight"), validators=[InputRequired(message=_l("Give a weight."))])
    scale_min = DecimalText(_l("Scale from"), validators=[InputRequired(message=_l("Give the bottom of the scale."))])
    scale_max = DecimalText(_l("Scale to"), validators=[InputRequired(message=_l("Give the top of the scale."))])
    scale_step = DecimalText(_l("Step"), validators=[InputRequired(message=_l("Give the step."))])
    threshold = DecimalText(_l("Threshold (optional)"), validators=[Optional()])
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0, max=100)])


class StateForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[TextLength(max=2000)])


class GiveBackForm(FlaskForm):
    """A decided call's envelope: what no grant holds goes back to the donors' contributions."""

    reason = TextAreaField(_l("Why give it back now?"), validators=[TextLength(max=2000)])


class ReportStepForm(FlaskForm):
    """An interim report of the call's schedule: halfway, at a month of the project, or on a date."""

    due_mode = RadioField(_l("When is it due?"), choices=list(DUE_MODES.items()), default="half")
    due_month = IntegerField(_l("Month of the project"), validators=[Optional()])
    due_on = DateField(_l("Due on"), validators=[PlausibleDate(), Optional()])


class FinalReportForm(FlaskForm):
    months_after_end = IntegerField(
        _l("Months after the project's end"), validators=[InputRequired(message=_l("Give a number of months."))]
    )


class IndicatorForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[TextLength(max=200)])
    name_fr = StringField(_l("Name (French)"), validators=[TextLength(max=200)])
    name_es = StringField(_l("Name (Spanish)"), validators=[TextLength(max=200)])
    unit_en = StringField(
        _l("Unit (English, such as people, hours of care, EUR)"), validators=[TextLength(max=UNIT_MAX)]
    )
    unit_fr = StringField(_l("Unit (French)"), validators=[TextLength(max=UNIT_MAX)])
    unit_es = StringField(_l("Unit (Spanish)"), validators=[TextLength(max=UNIT_MAX)])
    by_gender = BooleanField(_l("Counted by gender (women, men, other or undisclosed)"))
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0, max=100)])


class IndicatorFigures(Field):
    """The figures given for a call's indicators (a target, or a value reached), posted one input per
    figure as `<field name>-<indicator id>-<part>`. data: {indicator id (str): {part: whole number or
    None}}; `typed` keeps what was typed and `input_errors` says, per input, what could not be read."""

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.object_data = data
        self.input_errors = {}
        self.typed = {}
        self.data = dict(data) if isinstance(data, dict) else {}
        self.raw_data = []
        if formdata is None:
            return
        prefix = f"{self.name}-"
        figures = {}
        for key in formdata:
            if not key.startswith(prefix):
                continue
            indicator_id, _sep, part = key[len(prefix) :].partition("-")
            if not indicator_id.isdigit() or part not in INDICATOR_PARTS:
                continue
            text = (formdata.get(key) or "").strip()
            self.typed[key] = text
            self.raw_data.append(text)
            value = None
            if text:
                try:
                    value = parse_count(text)
                except ValueError:
                    value = None
                if value is None or abs(value) >= 10**9:
                    self.input_errors[key] = _l("Enter a whole number.")
                    continue
            figures.setdefault(indicator_id, {})[part] = value
        if self.raw_data or not self.data:
            self.data = figures
        if self.input_errors:
            self.process_errors.append(next(iter(self.input_errors.values())))

    def value_of(self, indicator_id, part):
        """What the input shows: what was typed, else the stored figure."""
        key = f"{self.name}-{indicator_id}-{part}"
        if key in self.typed:
            return self.typed[key]
        value = (self.data.get(str(indicator_id)) or {}).get(part)
        return "" if value is None else value
