"""Geometry for the accessible SVG charts: bars, trend lines and a scatter of teams.

Templates draw what these functions lay out. Every chart carries a title and a text summary,
labels its values in text (never by colour alone) and sits next to a table of the same figures.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 210
BAR_HEIGHT = 22
BAR_GAP = 10
MAX_LABEL_CHARS = 30


def short(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """Text cut to fit a chart label, with an ellipsis when cut (the full text is in the table)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Bar:
    label: str
    full_label: str
    value_text: str
    y: float
    width: float
    shown: bool


@dataclass
class BarChart:
    title: str
    summary: str
    height: float
    plot_left: float
    plot_width: float
    bars: list[Bar]
    ticks: list[Tick]
    reference: Tick | None = None

    @property
    def width(self) -> int:
        return WIDTH


def bar_chart(title: str, items: Sequence[tuple[str, float | None, str]], *, low: float, high: float,
              ticks: Sequence[float], reference: tuple[float, str] | None = None, unit: str = "") -> BarChart:
    """Horizontal bars for (label, value or None when hidden, value text) on a fixed scale."""
    plot_left, plot_width = LABEL_WIDTH, WIDTH - LABEL_WIDTH - 70
    span = high - low

    def x(value: float) -> float:
        return plot_width * (min(max(value, low), high) - low) / span

    bars = []
    for index, (label, value, text) in enumerate(items):
        y = 10 + index * (BAR_HEIGHT + BAR_GAP)
        width = x(value) if value is not None else 0
        bars.append(Bar(short(label), label, text, y, width, value is not None))
    shown = [(label, text) for label, value, text in items if value is not None]
    hidden = len(items) - len(shown)
    summary = f"{title}. " + "; ".join(f"{label}: {text}{unit}" for label, text in shown) + "."
    if hidden:
        summary += f" {hidden} group{'s are' if hidden != 1 else ' is'} hidden to protect anonymity."
    height = 10 + len(items) * (BAR_HEIGHT + BAR_GAP) + 24
    ref = Tick(x(reference[0]), reference[1]) if reference else None
    return BarChart(title, summary, height, plot_left, plot_width, bars,
                    [Tick(x(t), f"{t:g}") for t in ticks], ref)


@dataclass
class Point:
    x: float
    y: float
    label: str
    value_text: str
    label_y: float = 0.0


@dataclass
class LineChart:
    title: str
    summary: str
    height: int
    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    segments: list[list[Point]]
    points: list[Point]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    reference: Tick | None = None
    last: Point | None = None

    @property
    def width(self) -> int:
        return WIDTH

    @staticmethod
    def path(segment: list[Point]) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(segment))


def line_chart(title: str, points: Sequence[tuple[str, float | None, str]], *, low: float, high: float,
               y_ticks: Sequence[float], reference: tuple[float, str] | None = None) -> LineChart:
    """One series over rounds; hidden rounds leave a gap rather than a guessed line."""
    plot_left, plot_top, plot_width, plot_height = 48.0, 16.0, WIDTH - 48.0 - 24, 180.0
    count = len(points)

    def px(index: int) -> float:
        return plot_left + (plot_width * index / (count - 1) if count > 1 else plot_width / 2)

    def py(value: float) -> float:
        return plot_top + plot_height * (1 - (min(max(value, low), high) - low) / (high - low))

    segments: list[list[Point]] = []
    drawn: list[Point] = []
    current: list[Point] = []
    for index, (label, value, text) in enumerate(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        point = Point(px(index), py(value), label, text)
        current.append(point)
        drawn.append(point)
    if current:
        segments.append(current)
    step = max(1, count // 8)
    x_ticks = [Tick(px(i), points[i][0]) for i in range(0, count, step)]
    if count > 1 and (count - 1) % step:
        x_ticks.append(Tick(px(count - 1), points[-1][0]))
    shown = [(label, text) for label, value, text in points if value is not None]
    summary = f"{title}, {count} round{'s' if count != 1 else ''}. "
    if shown:
        summary += "; ".join(f"{label}: {text}" for label, text in shown) + "."
    hidden = count - len(shown)
    if hidden:
        summary += f" {hidden} round{'s are' if hidden != 1 else ' is'} hidden to protect anonymity."
    ref = Tick(py(reference[0]), reference[1]) if reference else None
    return LineChart(title, summary, int(plot_top + plot_height + 40), plot_left, plot_top, plot_width,
                     plot_height, segments, drawn, x_ticks, [Tick(py(t), f"{t:g}") for t in y_ticks], ref,
                     drawn[-1] if drawn else None)


@dataclass
class ScatterChart:
    title: str
    summary: str
    height: int
    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    points: list[Point] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_label: str = ""
    y_label: str = ""

    @property
    def width(self) -> int:
        return WIDTH


def scatter_chart(title: str, points: Sequence[tuple[str, float, float, str]], *,
                  x_range: tuple[float, float], y_range: tuple[float, float],
                  x_ticks: Sequence[float], y_ticks: Sequence[float],
                  x_label: str, y_label: str) -> ScatterChart:
    """Each team a labelled point: x against y (e.g. human-touch index against connection)."""
    plot_left, plot_top, plot_width, plot_height = 56.0, 16.0, WIDTH - 56.0 - 150, 240.0

    def px(value: float) -> float:
        lo, hi = x_range
        return plot_left + plot_width * (min(max(value, lo), hi) - lo) / (hi - lo)

    def py(value: float) -> float:
        lo, hi = y_range
        return plot_top + plot_height * (1 - (min(max(value, lo), hi) - lo) / (hi - lo))

    drawn = [Point(px(x), py(y), short(label, 22), text) for label, x, y, text in points]
    # Labels of nearby points would overprint: nudge each below the one above it when they touch.
    placed: list[Point] = []
    for point in sorted(drawn, key=lambda p: (p.y, p.x)):
        point.label_y = point.y + 4
        for other in placed:
            if abs(other.x - point.x) < 120 and abs(other.label_y - point.label_y) < 14:
                point.label_y = other.label_y + 14
        placed.append(point)
    summary = f"{title}. " + ("; ".join(f"{label}: {text}" for label, _, _, text in points) + "."
                              if points else "No team has enough answers to show.")
    return ScatterChart(title, summary, int(plot_top + plot_height + 48), plot_left, plot_top, plot_width,
                        plot_height, drawn, [Tick(px(t), f"{t:g}") for t in x_ticks],
                        [Tick(py(t), f"{t:g}") for t in y_ticks], x_label, y_label)
