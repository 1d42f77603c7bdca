"""Server-rendered SVG geometry for the 30-day mood chart (no JavaScript needed).

The template draws what this computes; the same data is offered as a table and a
sentence for screen readers and anyone who prefers text. Coordinates and labels
arrive as ready-made strings: formatting some 400 numbers and dates in the template
(each through the localisation machinery) was most of the dashboard page's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from checkins.models import Mood
from checkins.selectors import MoodDay

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 86  # room for the mood labels
PAD_RIGHT = 12
PAD_TOP = 14
PAD_BOTTOM = 30


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    mood: int
    label: str  # e.g. "21 Nov: Good"

    @property
    def d(self) -> str:
        """The SVG path of its marker: a zero-length stroke at the point."""
        return f"M{self.x},{self.y}h0"


@dataclass(frozen=True)
class Series:
    key: str  # "mine" or "partner": also the CSS class suffix
    name: str
    points: list[Point]
    lines: list[str]  # SVG polyline `points` strings, one per run of consecutive days
    summary: str

    @property
    def markers(self) -> SafeString:
        """Each point's marker: a halo, the mark with its title (name, day, mood) and,
        for the partner, a hole. Built here rather than in a template loop: up to 60
        points, three elements each, were the page's largest loop."""
        hole = self.key != "mine"
        return format_html_join(
            "",
            '<path d="{}" class="series__under"/><path d="{}" class="series__marker">'
            "<title>{}, {}</title></path>{}",
            (
                (
                    point.d,
                    point.d,
                    self.name,
                    point.label,
                    format_html('<path d="{}" class="series__hole"/>', point.d) if hole else "",
                )
                for point in self.points
            ),
        )


@dataclass(frozen=True)
class TableRow:
    day: str  # e.g. "Mon 21 Nov"
    mine: str  # mood label, or "—"
    partner: str


@dataclass(frozen=True)
class MoodChart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[str, str]]  # (y, label)
    x_ticks: list[tuple[str, str]]  # (x, label)
    days: list[MoodDay]
    summary: str
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT

    @property
    def paired(self) -> bool:
        return len(self.series) > 1

    @property
    def rows(self) -> list[TableRow]:
        """The table: days with a check-in, newest first."""
        return [
            TableRow(
                day=date_format(day.date, "D j M"),
                mine=_label(day.mine),
                partner=_label(day.partner),
            )
            for day in reversed(self.days)
            if day.mine or day.partner
        ]


def _label(mood: int | None) -> str:
    return Mood(mood).label if mood else "—"


def _x(index: int, count: int) -> float:
    span = WIDTH - PAD_LEFT - PAD_RIGHT
    return round(PAD_LEFT + span * index / max(count - 1, 1), 1)


def _y(mood: int) -> float:
    span = HEIGHT - PAD_TOP - PAD_BOTTOM
    return round(PAD_TOP + span * (5 - mood) / 4, 1)


def _series(key: str, name: str, days: list[MoodDay]) -> Series:
    points: list[Point] = []
    lines: list[str] = []
    run: list[str] = []
    for index, day in enumerate(days):
        mood = getattr(day, key)
        if mood is None:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
            continue
        point = Point(
            x=_x(index, len(days)),
            y=_y(mood),
            mood=mood,
            label=f"{day.date:%-d %b}: {Mood(mood).label}",
        )
        points.append(point)
        run.append(f"{point.x},{point.y}")
    if len(run) > 1:
        lines.append(" ".join(run))
    # The name is a bidi isolate (FSI ... PDI, the plain-text dir="auto"): these sentences
    # go where markup can't (the SVG's description), and a right-to-left name followed by
    # ": 1 check-in" would otherwise pull the number and colon to its side.
    who = f"\u2068{name}\u2069"
    if points:
        average = mean(point.mood for point in points)
        summary = (
            f"{who}: {len(points)} check-in{'s' if len(points) != 1 else ''}, "
            f"mostly {Mood(round(average)).label.lower()}"
        )
    else:
        summary = f"{who}: no check-ins in these 30 days"
    return Series(key=key, name=name, points=points, lines=lines, summary=summary)


def mood_chart(days: list[MoodDay], *, my_name: str, partner_name: str | None) -> MoodChart:
    series = [_series("mine", my_name, days)]
    if partner_name is not None:
        series.append(_series("partner", partner_name, days))
    x_ticks = [
        (str(_x(index, len(days))), f"{day.date:%-d %b}")
        for index, day in enumerate(days)
        if index % 7 == len(days) % 7 - 1 or index == len(days) - 1
    ]
    return MoodChart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        y_ticks=[(str(_y(value)), label) for value, label in Mood.choices],
        x_ticks=x_ticks,
        days=days,
        summary="Mood over the last 30 days. " + "; ".join(s.summary for s in series) + ".",
    )
