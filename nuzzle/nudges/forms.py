"""The nudge-preferences form. It parses input; `services.preferences_update` decides
what is allowed (e.g. a nudge time inside quiet hours) and its errors land on fields."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms

from nuzzle.nudges.kinds import CATALOGUE
from nuzzle.nudges.models import MAX_DAILY_CAP, Channels

if TYPE_CHECKING:
    from nuzzle.nudges.selectors import PreferencesView

WEEKDAYS = (
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
)
# Browsers send "HH:MM" from <input type="time"> (with seconds when asked for them).
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
KIND_PREFIX = "kind_"


def _time_field(label: str, **kwargs: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        **kwargs,
    )


class NudgePreferencesForm(forms.Form):
    nudge_time = _time_field(
        "Nudge time", help_text="When a nudge may arrive on the days you choose."
    )
    days = forms.TypedMultipleChoiceField(
        label="Days",
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="No days ticked means no nudges at all.",
    )
    quiet_start = _time_field("From")
    quiet_end = _time_field("Until")
    paused_until = forms.DateField(
        label="Pause until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="No nudges up to and including this day. Leave it empty to get them as usual.",
    )
    daily_cap = forms.TypedChoiceField(
        label="At most this many nudges a day",
        choices=[(n, str(n)) for n in range(1, MAX_DAILY_CAP + 1)],
        coerce=int,
        help_text="One is plenty for most people.",
    )
    channels = forms.ChoiceField(
        label="How nudges reach you",
        choices=Channels.choices,
        required=False,  # left out (an older form): unchanged
        widget=forms.RadioSelect,
        help_text="A notification goes only to the devices where you turned notifications "
        "on. With none, nudges come by email whatever you choose here.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in CATALOGUE:
            self.fields[KIND_PREFIX + spec.kind.value] = forms.BooleanField(
                label=spec.kind.label, required=False, help_text=spec.description
            )

    @property
    def kind_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(KIND_PREFIX)]

    def kinds(self) -> dict[str, bool]:
        """{kind: on} from the cleaned data."""
        return {
            name.removeprefix(KIND_PREFIX): bool(value)
            for name, value in self.cleaned_data.items()
            if name.startswith(KIND_PREFIX)
        }

    @staticmethod
    def initial_from(prefs: PreferencesView, *, today: date) -> dict[str, Any]:
        """Initial values from `selectors.preferences_get` (a pause already over shows
        as no pause)."""
        initial: dict[str, Any] = {
            "nudge_time": prefs.nudge_time,
            "days": prefs.days,
            "quiet_start": prefs.quiet_start,
            "quiet_end": prefs.quiet_end,
            "paused_until": prefs.pause_on(today),
            "daily_cap": prefs.daily_cap,
            "channels": prefs.channels_choice,
        }
        initial.update({KIND_PREFIX + kind: on for kind, on in prefs.kinds.items()})
        return initial
