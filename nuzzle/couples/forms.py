"""HTML forms for accounts and couples. They parse input; services validate and act."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm

from nuzzle.couples.models import User
from nuzzle.lib.forms import WordsField
from nuzzle.lib.text import one_line
from nuzzle.lib.timezones import timezone_choices
from nuzzle.lib.validators import validate_single_line


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=timezone_choices, **kwargs)


class SignupForm(forms.Form):
    display_name = WordsField(
        label="Your name",
        max_length=50,
        validators=[validate_single_line],
        help_text="How your partner will see you.",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False,
        help_text="At least 8 characters; not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    timezone = TimezoneField(
        initial="UTC",
        help_text="Guessed from your browser; your days and reminders follow it.",
        widget=forms.Select(attrs={"data-guess-timezone": "true"}),
    )

    def clean_password(self) -> str:
        # Checked here too (the service checks again) so that a weak password is
        # reported together with every other mistake, not one round-trip later.
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for email login, with one message for every
    failure so it never tells whether an email has an account."""

    error_messages = {
        "invalid_login": "Email or password is incorrect.",
        "inactive": "Email or password is incorrect.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's, with the person's name for the email as one line of plain text (a
    name saved before names had to be one line must not add lines to the email)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        context = {**context, "name": one_line(context["user"].display_name)}
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class ProfileForm(forms.Form):
    display_name = WordsField(label="Your name", max_length=50, validators=[validate_single_line])
    timezone = TimezoneField(help_text="Your own days and reminders follow this zone.")
    allow_sensitive_questions = forms.BooleanField(
        label="Include sensitive questions",
        required=False,
        help_text="Intimacy, money worries, family wounds. Asked only when you have both "
        "switched this on; your partner doesn't see your choice.",
    )


SHARED_ZONE_HELP = (
    "Your days as a couple follow this zone: the daily question changes at its midnight, "
    "and each of your own days pairs with the day here that it overlaps most. Check-ins "
    "and reminders keep each person's own zone."
)


class CoupleTimezoneForm(forms.Form):
    timezone = TimezoneField(label="Our shared time zone", help_text=SHARED_ZONE_HELP)


class InviteAcceptForm(forms.Form):
    """Accepting an invite: the person joining confirms the couple's shared zone (the
    inviter's, offered first) or picks theirs or another."""

    # Not required: a post without it (an older page) keeps the inviter's zone.
    timezone = TimezoneField(
        label="Our shared time zone", help_text=SHARED_ZONE_HELP, required=False
    )

    def __init__(self, *args: Any, inviter: User, joiner: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"timezone": inviter.timezone})
        super().__init__(*args, **kwargs)
        ours = {inviter.timezone: f"{inviter.display_name}'s"}
        ours[joiner.timezone] = "yours" if joiner.timezone != inviter.timezone else "you both"
        first = [(zone, f"{zone.replace('_', ' ')} ({whose})") for zone, whose in ours.items()]
        rest = [choice for choice in timezone_choices() if choice[0] not in ours]
        field = self.fields["timezone"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared above)
        field.choices = [("Your zones", first), ("All zones", rest)]


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Invite code",
        max_length=64,
        help_text="Looks like ABCD-EFGH-JKMN-PQRS-TVWX; dashes and case don't matter.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        help_text="To be sure it is you.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
