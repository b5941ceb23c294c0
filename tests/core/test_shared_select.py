"""The partner rows' selects share one escaped list of member cities and mark each row's choice."""

from wtforms import Form, SelectField

from fundapp.core.forms import SharedChoices, SharedSelect


class Row(Form):
    member = SelectField("Partner city", choices=[], coerce=int, validate_choice=False, widget=SharedSelect())


def test_each_row_marks_its_own_city_and_names_are_escaped():
    choices = SharedChoices([(0, "—"), (7, "Medellín"), (9, "Tunis <Grand>"), (12, "Montréal")])
    first, second = Row(data={"member": 7}, prefix="p0-"), Row(data={"member": 12}, prefix="p1-")
    first.member.choices = second.member.choices = choices

    one, two = str(first.member()), str(second.member())

    assert one.startswith('<select id="p0-member" name="p0-member">')
    assert '<option selected value="7">Medellín</option>' in one and "selected" not in one.replace(
        'selected value="7"', ""
    )
    assert '<option selected value="12">Montréal</option>' in two and '<option value="7">Medellín</option>' in two
    assert '<option value="9">Tunis &lt;Grand&gt;</option>' in one
    assert choices.rendered is not None  # escaped once, for both rows


def test_a_row_with_no_city_chosen_selects_nothing():
    row = Row(prefix="p2-")
    row.member.choices = SharedChoices([(0, "—"), (7, "Medellín")])
    assert "selected" not in str(row.member())
