"""Server-rendered SVG geometry for the 30-day mood chart (no JavaScript needed).

The template draws what this computes; the same data is offered as a table and a
sentence for screen readers and anyone who prefers text.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

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


@dataclass(frozen=True)
class Series:
    key: str  # "mine" or "partner": also the CSS class suffix
    name: str
    points: list[Point]
    lines: list[str]  # SVG polyline `points` strings, one per run of consecutive days
    summary: str


@dataclass(frozen=True)
class MoodChart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    days: list[MoodDay]
    summary: str
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT


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
    if points:
        average = mean(point.mood for point in points)
        summary = (
            f"{name}: {len(points)} check-in{'s' if len(points) != 1 else ''}, "
            f"mostly {Mood(round(average)).label.lower()}"
        )
    else:
        summary = f"{name}: no check-ins in these 30 days"
    return Series(key=key, name=name, points=points, lines=lines, summary=summary)


def mood_chart(days: list[MoodDay], *, my_name: str, partner_name: str | None) -> MoodChart:
    series = [_series("mine", my_name, days)]
    if partner_name is not None:
        series.append(_series("partner", partner_name, days))
    x_ticks = [
        (_x(index, len(days)), f"{day.date:%-d %b}")
        for index, day in enumerate(days)
        if index % 7 == len(days) % 7 - 1 or index == len(days) - 1
    ]
    return MoodChart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        y_ticks=[(_y(value), label) for value, label in Mood.choices],
        x_ticks=x_ticks,
        days=days,
        summary="Mood over the last 30 days. " + "; ".join(s.summary for s in series) + ".",
    )
