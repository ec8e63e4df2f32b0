"""The design system: colour pairs the components use keep WCAG AA contrast, and every asset ships with us."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSS = ROOT / "static" / "css" / "app.css"
AA_TEXT = 4.5
AA_LARGE_OR_UI = 3.0

# (text or mark, background, minimum ratio, where the pair is used)
PAIRS = [
    ("--ink", "--surface", AA_TEXT, "body text on panels"),
    ("--ink", "--canvas", AA_TEXT, "body text on the page"),
    ("--ink-muted", "--surface", AA_TEXT, "hints, captions, meta lines"),
    ("--ink-muted", "--canvas", AA_TEXT, "muted text on the page, table heads"),
    ("--brand", "--surface", AA_TEXT, "links"),
    ("--brand", "--canvas", AA_TEXT, "links on the page (footer)"),
    ("--brand-dark", "--brand-tint", AA_TEXT, "info badges, banners"),
    ("--ok", "--ok-tint", AA_TEXT, "ok badges, flashes"),
    ("--warn", "--warn-tint", AA_TEXT, "warning badges, flashes"),
    ("--bad", "--bad-tint", AA_TEXT, "error badges, error summary"),
    ("--ink-muted", "--canvas", AA_TEXT, "neutral badges"),
    ("#ffffff", "--brand", AA_TEXT, "primary buttons, the pressed view switch"),
    ("#ffffff", "--brand-dark", AA_TEXT, "the header and its menu"),
    ("#ffffff", "--bad", AA_TEXT, "danger buttons"),
    ("--bad", "--surface", AA_TEXT, "field errors, tile figures"),
    ("--warn", "--surface", AA_TEXT, "tile figures"),
    ("--ok", "--surface", AA_TEXT, "better-than-last-week figures"),
    ("--focus", "--brand-dark", AA_LARGE_OR_UI, "focus ring on the header"),
    ("--ink", "--focus", AA_LARGE_OR_UI, "the focus ring's dark halo against its yellow"),
    ("#7a8594", "--surface", AA_LARGE_OR_UI, "input borders"),
]


def tokens() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S).group(1)
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("fore", "back", "minimum", "use"), PAIRS, ids=[p[3] for p in PAIRS])
def test_colour_pairs_meet_wcag_aa(fore, back, minimum, use):
    palette = tokens()
    fore_hex, back_hex = palette.get(fore, fore), palette.get(back, back)
    ratio = contrast(fore_hex, back_hex)
    assert ratio >= minimum, f"{use}: {fore} on {back} is {ratio:.2f}:1, needs {minimum}:1"


def test_the_scale_and_spacing_are_tokens():
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S).group(1)
    assert all(f"--step-{n}" in root for n in ("-1", "0", "1", "2", "3"))
    assert all(f"--space-{n}" in root for n in range(1, 8))


# Scripts, styles, images and frames from another site; links people follow to other sites are fine.
EXTERNAL = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"'](?:https?:)?//"
                      r"|@import\s+(?:url\()?[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//", re.I)


def test_no_page_loads_anything_from_another_site():
    offenders = []
    for path in [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static").rglob("*.css"),
                 *ROOT.joinpath("static").rglob("*.js")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if EXTERNAL.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert offenders == [], "assets must ship with the app (no CDNs):\n" + "\n".join(offenders)
