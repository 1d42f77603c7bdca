"""HTML forms for accounts and couples. They parse input; services validate and act."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from nuzzle.lib.forms import WordsField
from nuzzle.lib.timezones import timezone_choices


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=timezone_choices, **kwargs)


class SignupForm(forms.Form):
    display_name = WordsField(
        label="Your name",
        max_length=50,
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


class ProfileForm(forms.Form):
    display_name = WordsField(label="Your name", max_length=50)
    timezone = TimezoneField(help_text="Your own days and reminders follow this zone.")
    allow_sensitive_questions = forms.BooleanField(
        label="Include sensitive questions",
        required=False,
        help_text="Intimacy, money worries, family wounds. Asked only when you have both "
        "switched this on; your partner doesn't see your choice.",
    )


class CoupleTimezoneForm(forms.Form):
    timezone = TimezoneField(
        label="Our shared time zone",
        help_text="The daily question changes at midnight in this zone.",
    )


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
