"""What a city posts in a grantee report and what staff and donors ask for a donor report, read
through WTForms and the shared money field.

The report page draws its fields by hand (one expenditure field per budget line, kept as typed
after a refusal): core.forms.PostedForm.
"""

from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from ..calls.forms import IndicatorFigures
from ..core.forms import MoneyField, PlausibleDate, PostedForm, TextLength, WholeNumber
from ..core.i18n import LANGUAGE_NAMES

REPORT_TEXT_MAX = 10000


class ReportForm(PostedForm):
    # As long as an application's longest field: a report is read by staff, donors and the public.
    progress = TextAreaField(validators=[TextLength(max=REPORT_TEXT_MAX)])
    results = TextAreaField(validators=[TextLength(max=REPORT_TEXT_MAX)])
    difficulties = TextAreaField(validators=[TextLength(max=REPORT_TEXT_MAX)])
    reached_women = WholeNumber()
    reached_men = WholeNumber()
    reached_other = WholeNumber()
    activities_held = WholeNumber()
    dimensions = SelectMultipleField(validate_choice=False)  # the operation knows the dimensions
    indicator_values = IndicatorFigures()  # indicator_values-<indicator id>-<part>: the values reached

    def first_errors(self):
        """{field name: its first message}, an indicator's figure under its own input's name."""
        errors = super().first_errors()
        if self.indicator_values.input_errors:
            errors.pop("indicator_values", None)
            errors.update(self.indicator_values.input_errors)
        return errors

    def values(self):
        values = {name: self[name].data or "" for name in ("progress", "results", "difficulties")}
        values.update(
            {name: self[name].data for name in ("reached_women", "reached_men", "reached_other", "activities_held")}
        )
        values["dimensions"] = self.dimensions.data or []
        if self.indicator_values.raw_data:
            values["indicator_values"] = self.indicator_values.data
        return values

    def spent(self):
        """{budget line id: cents spent} for the lines posted (None for a field left empty: not
        reported yet, which a report cannot be sent with; 0 is typed as 0)."""
        return {
            int(name[6:]): self[name].data for name in self._fields if name.startswith("spent_") and self[name].raw_data
        }


def report_form(report, formdata):
    """The report form with one expenditure field per line of the grant's budget."""

    class Form(ReportForm):
        pass

    for line in report.grant.application.budget_lines:
        setattr(
            Form,
            f"spent_{line.id}",
            MoneyField(validators=[Optional()]),
        )
    return Form(formdata)


class DonorReportForm(PostedForm):
    donor = StringField()  # "fund" or a donor id among those the reader may report on
    period_start = DateField(validators=[Optional(), PlausibleDate()])
    period_end = DateField(validators=[Optional(), PlausibleDate()])
    language = SelectField(choices=list(LANGUAGE_NAMES.items()), validate_choice=False)
