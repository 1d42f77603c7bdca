"""The 30-day mood chart, drawn on the server as SVG (no JavaScript needed): its
geometry (`mood_chart`) and its markup (`draw`), with the same data as a table and a
sentence for screen readers and anyone who prefers text. Looks come from nuzzle.css.

The markup is built here in one pass, not by a template: a chart is some 60 points,
ten ticks and 30 table rows, and a template loop over them (each number and date
through the localisation machinery) was most of the dashboard page's rendering time.

The drawn chart (`mood_chart_html`) is a pure function of its 30 days of moods and
the two names, so it is drawn once per set of those and reused: once per couple and
day, and again only when a mood of the window changes. It is kept per process, like
`nuzzle.lib.fragments`; nothing in it depends on the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import mean

from django.utils.html import escape
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
        name = escape(self.name)
        hole = self.key != "mine"
        parts = []
        for point in self.points:
            d = point.d
            parts.append(
                f'<path d="{d}" class="series__under"/><path d="{d}" class="series__marker">'
                f"<title>{name}, {escape(point.label)}</title></path>"
            )
            if hole:
                parts.append(f'<path d="{d}" class="series__hole"/>')
        return SafeString("".join(parts))


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
                day=f"{day.date:%a} {day.date.day} {day.date:%b}",
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


_SWATCH_HOLE = '<path d="M20,7h0" class="series__hole"/>'
_LAST_TICK = ' class="axis__last"'


def _svg(chart: MoodChart) -> str:
    """The drawing. It is shifted right by 36 units and given 22 more at the bottom, so
    mood labels and dates have room when a phone shrinks the chart and the CSS enlarges
    its text. The two series differ in more than colour: yours is a solid line with
    round dots, your partner's a dashed line with hollow squares (drawn first, so a
    shared day shows a dot in a square). Markers are zero-length strokes with round or
    square caps: with a non-scaling stroke they keep their shape and size however the
    CSS stretches the chart (taller on a phone)."""
    left, right = chart.plot_left, chart.plot_right
    grid = "".join(f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>' for y, _ in chart.y_ticks)
    y_axis = "".join(
        f'<text x="{left - 10}" y="{y}">{escape(label)}</text>' for y, label in chart.y_ticks
    )
    last = len(chart.x_ticks) - 1
    x_axis = "".join(
        f'<text x="{x}" y="{chart.height + 10}"{_LAST_TICK if i == last else ""}>'
        f"{escape(label)}</text>"
        for i, (x, label) in enumerate(chart.x_ticks)
    )
    series = "".join(
        f'<g class="series series--{s.key}">'
        + "".join(f'<polyline points="{line}" class="series__line"/>' for line in s.lines)
        + s.markers
        + "</g>"
        for s in reversed(chart.series)
    )
    return (
        f'<svg viewBox="0 0 {chart.width + 36} {chart.height + 22}" class="mood-chart__svg" '
        'role="img" aria-labelledby="mood-chart-title mood-chart-desc" '
        'preserveAspectRatio="none">'
        '<title id="mood-chart-title">Mood over the last 30 days</title>'
        f'<desc id="mood-chart-desc">{escape(chart.summary)}</desc>'
        '<g transform="translate(36 0)">'
        f'<g class="mood-chart__grid">{grid}</g>'
        f'<g class="axis axis--y">{y_axis}</g>'
        f'<g class="axis axis--x">{x_axis}</g>'
        f"{series}</g></svg>"
    )


def _legend(chart: MoodChart) -> str:
    return (
        '<ul class="legend">'
        + "".join(
            f'<li class="legend__item"><svg class="legend__swatch series--{s.key}" '
            'viewBox="0 0 40 14" aria-hidden="true" focusable="false">'
            '<polyline points="2,7 38,7" class="series__line"/>'
            '<path d="M20,7h0" class="series__under"/><path d="M20,7h0" class="series__marker"/>'
            f"{'' if s.key == 'mine' else _SWATCH_HOLE}"
            f"</svg><span>{escape(s.summary)}</span></li>"
            for s in chart.series
        )
        + "</ul>"
    )


def _table(chart: MoodChart) -> str:
    """The same moods as a table, for screen readers and anyone who prefers text."""
    names = "".join(
        f'<th scope="col"><span dir="auto">{escape(s.name)}</span></th>' for s in chart.series
    )
    rows = "".join(
        f'<tr><th scope="row">{row.day}</th><td>{row.mine}</td>'
        f"{f'<td>{row.partner}</td>' if chart.paired else ''}</tr>"
        for row in chart.rows
    )
    return (
        '<details class="mood-table"><summary>Show as a table</summary>'
        '<div class="table-scroll"><table>'
        '<caption class="visually-hidden">Mood by day, newest first</caption>'
        f'<thead><tr><th scope="col">Day</th>{names}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></details>"
    )


_NOTHING_YET = "Moods will gather here as you check in."


def draw(chart: MoodChart) -> SafeString:
    """The chart's markup: the drawing, a legend and, once there is a mood, the table.
    Built here in one pass rather than in a template: a template loop over the
    chart's points, ticks and rows was most of the dashboard page's rendering time.
    Every word that is not ours (the names, and the summaries that hold them) is
    escaped."""
    drawn = any(s.points for s in chart.series)
    empty = "" if drawn else f'<p class="mood-chart__empty">{_NOTHING_YET}</p>'
    table = _table(chart) if drawn else ""
    return SafeString(f'<div class="mood-chart">{_svg(chart)}{empty}{_legend(chart)}{table}</div>')


def _drawn(days: tuple[MoodDay, ...], my_name: str, partner_name: str | None) -> SafeString:
    return draw(mood_chart(list(days), my_name=my_name, partner_name=partner_name))


# Two entries a day for each couple seen (one per partner). A drawn chart is 5-15 kB:
# 512 of them at most some 7 MB per worker. An evicted one is only drawn again (0.5 ms).
_drawn_once = lru_cache(maxsize=512)(_drawn)


def mood_chart_html(
    days: Sequence[MoodDay], *, my_name: str, partner_name: str | None
) -> SafeString:
    """The chart as the dashboard shows it (`draw`), drawn once per set of days, moods
    and names, and reused."""
    return _drawn_once(tuple(days), my_name, partner_name)
