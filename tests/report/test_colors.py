"""One colour code: every colour is a valid hex, distinct, and used by the figures."""

from __future__ import annotations

import re

import numpy as np

from blotquant.report import colors as C
from blotquant.report.ihc_overlay import CLASS_COLORS

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def test_names_are_hex_and_distinct():
    blot = [C.LANE, C.BAND, C.SATURATED, C.NOT_DETECTED, C.REFERENCE, C.LADDER]
    assert all(HEX.match(c) for c in blot + list(C.IHC_CLASSES.values()))
    assert len({c.upper() for c in blot}) == len(blot)
    assert list(C.IHC_CLASSES) == ["negative", "1+", "2+", "3+"]


def _contrast(a, b) -> float:
    """WCAG contrast ratio of two colours."""
    def lum(c):
        v = np.array(C.rgb01(c))
        v = np.where(v <= 0.03928, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_blot_colours_show_on_white_and_on_black_blots():
    # QC figures show dark-on-light blots on white and light-on-dark ones on black
    for c in (C.LANE, C.BAND, C.SATURATED, C.NOT_DETECTED, C.REFERENCE):
        assert _contrast(c, "#FFFFFF") >= 1.8, c
        assert _contrast(c, "#000000") >= 4.0, c


def test_overlay_uses_the_ihc_class_colours():
    for i, name in enumerate(C.IHC_CLASS_NAMES):
        assert tuple(CLASS_COLORS[i + 1]) == C.rgb255(C.IHC_CLASSES[name])


def test_legend_names_every_colour():
    for word in ("lane", "band", "saturated", "not detected", "reference", "negative",
                 "1+", "2+", "3+"):
        assert word in C.LEGEND
    for c in (C.LANE, C.BAND, C.SATURATED, C.NOT_DETECTED, C.REFERENCE):
        assert C.COLOR_NAMES[c] in C.LEGEND_BLOT
