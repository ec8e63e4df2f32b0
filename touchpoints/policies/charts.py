"""Geometry for the weekly compliance trend, drawn by the template as an accessible SVG.

Each week is a labelled column with its figure written above it (never colour alone); a week
without a snapshot is an outlined empty column labelled "no data"; the current week is marked
"now" in text. The template adds a title, a description and a table of the same figures.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from touchpoints.policies.compliance import TrendPoint

WIDTH = 640
PLOT_LEFT = 44
PLOT_TOP = 24
PLOT_HEIGHT = 160
BOTTOM = 44


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str
    has_data: bool
    live: bool

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Gridline:
    y: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    title: str
    summary: str
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    columns: list[Column]
    gridlines: list[Gridline]


def _nice_top(value: int) -> int:
    """A round axis maximum at or above value (1, 2, 5, 10, 20, 50 ...)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def trend_chart(points: Sequence[TrendPoint], *, title: str) -> TrendChart:
    """Columns of people out of compliance per week, oldest first."""
    highest = max((p.people for p in points if p.people is not None), default=0)
    top = _nice_top(max(highest, 1))
    plot_width = WIDTH - PLOT_LEFT - 12
    slot = plot_width / max(len(points), 1)
    bar = slot * 0.6
    bottom = PLOT_TOP + PLOT_HEIGHT
    columns = []
    for index, point in enumerate(points):
        height = PLOT_HEIGHT * (point.people or 0) / top
        x = PLOT_LEFT + index * slot + (slot - bar) / 2
        columns.append(Column(x, bottom - height, bar, height,
                              "now" if point.live else point.label,
                              str(point.people) if point.people is not None else "no data",
                              point.people is not None, point.live))
    gridlines = [Gridline(bottom - PLOT_HEIGHT * fraction, f"{round(top * fraction):g}")
                 for fraction in (0, 0.5, 1)]
    known = [p for p in points if p.people is not None]
    if known:
        figures = [f"week of {p.week:%-d %b %Y}: {p.people}{' (this week, live)' if p.live else ''}"
                   for p in known]
        summary = f"{title}, {len(points)} weeks: " + "; ".join(figures) + "."
        missing = len(points) - len(known)
        if missing:
            summary += f" {missing} week{'s have' if missing != 1 else ' has'} no snapshot."
    else:
        summary = f"{title}: no figures yet."
    return TrendChart(title, summary, WIDTH, int(bottom + BOTTOM), PLOT_LEFT, bottom, columns, gridlines)
