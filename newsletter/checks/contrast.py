"""The palette's colour pairs the templates really use, held to WCAG 2.1 AA in light and dark."""

from __future__ import annotations

import functools
import math

from ..source.config import Config, Palette
from ..source.yamlsource import load_yaml
from .findings import Finding, finding
from .registry import CHECK, PREFLIGHT, CheckContext, rule

# WCAG 2.1 AA, success criterion 1.4.3: normal-size text needs 4.5:1.
MINIMUM = 4.5

# (foreground, background, where the templates put that foreground on that background).
PAIRS = (
    ("text", "surface", "text on the cards"),
    ("text", "background", "text on the page background"),
    ("muted", "surface", "labels and editor's notes on the cards"),
    ("muted", "background", "the masthead and the footer"),
    ("accent", "surface", "links on the cards"),
    ("accent", "background", "links in the masthead, the footer and the web archive"),
    ("accent_text", "accent", "the 'Read the full piece' buttons"),
    ("warning_text", "warning_background", "content warnings"),
)


def check_contrast(config: Config) -> list[Finding]:
    """An error for each used pair below 4.5:1, at the foreground colour's line in the YAML."""
    lines = _key_lines(config)
    findings = []
    for mode in ("light", "dark"):
        palette: Palette = getattr(config.brand, mode)
        for fg_key, bg_key, what in PAIRS:
            fg, bg = getattr(palette, fg_key), getattr(palette, bg_key)
            ratio = contrast_ratio(fg, bg)
            if ratio >= MINIMUM:
                continue
            fg_name, bg_name = f"brand.{mode}.{fg_key}", f"brand.{mode}.{bg_key}"
            line = lines(("brand", mode, fg_key))
            where = config.path.name + (f":{line}" if line else "")
            passing = nearest_passing(fg, bg)
            darker = _luminance(fg) <= _luminance(bg)
            if darker == (_luminance(passing) <= _luminance(fg)):
                fix = (f"{'darken' if darker else 'lighten'} {fg_name} or "
                       f"{'lighten' if darker else 'darken'} {bg_name}; {passing} is the "
                       f"nearest {fg_key} that passes")
            else:  # only a foreground on the other side of the background passes
                fix = (f"{'lighten' if darker else 'darken'} {bg_name}, or make {fg_name} "
                       f"{'light' if darker else 'dark'}: {passing} is the nearest {fg_key} "
                       "that passes")
            findings.append(finding(
                "error", where,
                f"{fg_name} {fg} on {bg_name} {bg} ({what}) has a contrast of "
                f"{_shown(ratio)}:1 in {mode} mode, below WCAG AA's {MINIMUM}:1 for normal text",
                fix,
                "contrast"))
    return findings


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours, from 1.0 to 21.0."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def nearest_passing(fg: str, bg: str) -> str:
    """`fg` mixed just enough towards black or white to pass; the way away from `bg` first.

    Black or white passes on any background (one of them reaches at least 4.58:1).
    """
    rgb = _rgb(fg)
    black, white = (0, 0, 0), (255, 255, 255)
    for target in (black, white) if _luminance(fg) <= _luminance(bg) else (white, black):
        for step in range(1, 101):
            mixed = "#" + "".join(f"{round(c + (t - c) * step / 100):02x}"
                                  for c, t in zip(rgb, target, strict=True))
            if contrast_ratio(mixed, bg) >= MINIMUM:
                return mixed
    raise AssertionError(f"neither black nor white passes on {bg}")


def _luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance. (Its 0.03928 and sRGB's 0.04045 agree on 8-bit values.)"""
    channels = [c / 255 for c in _rgb(colour)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _shown(ratio: float) -> str:
    """Two decimals, rounded down: 4.499 must not read as a passing 4.50."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def _key_lines(config: Config):
    """key path -> its line in newsletter.yaml (0 when the file cannot be read again).

    The file is read again only when asked, that is only when a pair fails.
    """

    @functools.cache
    def lines() -> dict:
        try:
            doc, _ = load_yaml(config.path.read_text(encoding="utf-8"), config.path)
        except (OSError, UnicodeDecodeError):
            doc = None
        return doc.lines if doc is not None else {}

    return lambda key: lines().get(key, 0)


@rule("contrast", stages=(PREFLIGHT, CHECK), order=80)
def _contrast(context: CheckContext) -> list[Finding]:
    return check_contrast(context.project.config)
