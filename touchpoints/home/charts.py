"""Geometry for the home pages' small charts, drawn by the templates as SVG with a text alternative.

Every chart states its figures in text too (a title and a description on the SVG, and the numbers
beside it on the page), so nothing depends on seeing the shapes or telling colours apart.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from touchpoints.policies.compliance import TrendPoint

SPARK_WIDTH = 320
SPARK_HEIGHT = 96
SPARK_TOP = 18  # room for the figure above the tallest column
SPARK_BOTTOM = 18  # room for the week labels


@dataclass(frozen=True)
class SparkColumn:
    x: float
    y: float
    width: float
    height: float
    value_text: str
    label: str
    has_data: bool
    latest: bool

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Sparkline:
    title: str
    summary: str
    width: int
    height: int
    baseline: float
    columns: list[SparkColumn]


def compliance_sparkline(points: Sequence[TrendPoint], *, title: str) -> Sparkline:
    """Small columns of people out of compliance per week, oldest first, with their figures."""
    highest = max((p.people for p in points if p.people is not None), default=0) or 1
    plot = SPARK_HEIGHT - SPARK_TOP - SPARK_BOTTOM
    slot = SPARK_WIDTH / max(len(points), 1)
    bar = slot * 0.62
    baseline = SPARK_TOP + plot
    known = [p for p in points if p.people is not None]
    last_known = known[-1] if known else None
    columns = []
    for index, point in enumerate(points):
        height = plot * (point.people or 0) / highest
        if point.people:
            height = max(height, 2)  # a small figure still shows as a sliver, not as nothing
        columns.append(SparkColumn(
            index * slot + (slot - bar) / 2, baseline - height, bar, height,
            str(point.people) if point.people is not None else "-", f"{point.week:%-d %b}",
            point.people is not None, point is last_known))
    if known:
        summary = f"{title}: " + "; ".join(f"week of {p.week:%-d %b %Y}, {p.people}" for p in known) + "."
        missing = len(points) - len(known)
        if missing:
            summary += f" {missing} of the {len(points)} weeks have no figures."
    else:
        summary = f"{title}: no figures yet."
    return Sparkline(title, summary, SPARK_WIDTH, SPARK_HEIGHT, baseline, columns)


@dataclass(frozen=True)
class Meter:
    """A 0-100 figure as a filled bar, with its value and verdict in words."""

    value: float | None
    label: str
    verdict: str

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(max(0.0, min(100.0, self.value)))

    @property
    def tone(self) -> str:
        """The design system's badge tone for the figure: ok from 70, warn from 40, bad below."""
        if self.percent is None:
            return "neutral"
        return "ok" if self.percent >= 70 else "warn" if self.percent >= 40 else "bad"


def touch_meter(index: float | None) -> Meter:
    """The human-touch index as a meter with a plain-words verdict."""
    if index is None:
        return Meter(None, "Human-touch index", "No touchpoints logged in the last 90 days yet.")
    value = round(index)
    verdict = ("Most contact is person to person: keep it up." if value >= 70
               else "A mix: some people are going without a real conversation." if value >= 40
               else "Little human contact lately: plan some one-on-ones this week.")
    return Meter(float(value), "Human-touch index", verdict)
