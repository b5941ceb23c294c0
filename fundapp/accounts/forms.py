from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Optional

from ..core.catalogue import lazy_gettext as _l
from ..core.catalogue import lazy_ngettext
from ..core.forms import EmailAddress, TextLength
from ..core.i18n import LANGUAGE_NAMES, timezone_options
from ..core.inputs import db_int
from .models import ACCESS_TOKEN_DAYS, ACCESS_TOKEN_DEFAULT_DAYS, ACCESS_TOKEN_NAME_MAX, GENDERS, ROLE_LABELS

LANGUAGE_CHOICES = list(LANGUAGE_NAMES.items())


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), TextLength(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), TextLength(max=1000)])


class ForgotPasswordForm(FlaskForm):
    # Only looked up among the accounts: no DNS question in production.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), TextLength(max=254), EmailAddress(deliverable=False)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), TextLength(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), TextLength(max=200)])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), TextLength(max=200)])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = SelectField(_l("Timezone"), choices=[])
    gender = SelectField(_l("Gender (optional)"), choices=[("", "—"), *GENDERS.items()], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_options(self.timezone.data)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), TextLength(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), TextLength(max=254), EmailAddress()])
    name = StringField(_l("Name"), validators=[DataRequired(), TextLength(max=200)])
    role = SelectField(_l("Role"), choices=[])
    member = SelectField(_l("Member city (for a city focal point)"), choices=[], coerce=db_int, validate_choice=False)
    donor = SelectField(_l("Donor (for a donor officer)"), choices=[], coerce=db_int, validate_choice=False)
    language = SelectField(_l("Language of the invitation"), choices=LANGUAGE_CHOICES)


class RolesForm(FlaskForm):
    roles = SelectMultipleField(_l("Roles"), choices=list(ROLE_LABELS.items()))
    member = SelectField(_l("Member city (for a city focal point)"), choices=[], coerce=db_int, validate_choice=False)
    donor = SelectField(_l("Donor (for a donor officer)"), choices=[], coerce=db_int, validate_choice=False)


class ReviewerProfileForm(FlaskForm):
    gender = SelectField(_l("Gender"), choices=list(GENDERS.items()))
    region = SelectField(_l("Region"), choices=[], validate_choice=True)
    country = StringField(_l("Country (ISO code, e.g. ES)"), validators=[Optional(), TextLength(min=2, max=2)])
    languages = SelectMultipleField(_l("Languages read"), choices=LANGUAGE_CHOICES)
    expertise = TextAreaField(_l("Expertise"), validators=[TextLength(max=4000)])
    affiliation = StringField(_l("Affiliation"), validators=[TextLength(max=200)])
    affiliation_member = SelectField(_l("Affiliated member city"), choices=[], coerce=db_int, validate_choice=False)


class MfaCodeForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"), validators=[DataRequired(), TextLength(max=20)]
    )


class AccessTokenForm(FlaskForm):
    """A new personal access token for the API (accounts.operations.create_access_token)."""

    name = StringField(_l("Name of the token"), validators=[DataRequired(), TextLength(max=ACCESS_TOKEN_NAME_MAX)])
    days = SelectField(
        _l("Works for"),
        choices=[(days, lazy_ngettext("%(num)d day", "%(num)d days", days)) for days in ACCESS_TOKEN_DAYS],
        coerce=int,
        default=ACCESS_TOKEN_DEFAULT_DAYS,
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
