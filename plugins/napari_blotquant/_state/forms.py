"""Dock fields described from the parameter models (no Qt).

A dock shows a parameter as a spin box, a combo box, a check box or a text
field.  Everything such a widget needs -- the choices, the default, the
smallest and largest accepted value, the unit and the tooltip -- is read
here from the one declaration in :class:`~blotquant.blot.params.BlotParams` /
:class:`~blotquant.ihc.params.IHCParams` (``spec(name)``, ``defaults()``,
``spec.check``), so the plugin holds no default and no range of its own.
Bounds are found by asking the model's own check which values it accepts.
A parameter whose default is ``None`` ("automatic") gets a special first
value ``auto``.

Examples
--------
>>> from blotquant.blot.params import BlotParams
>>> f = field_spec(BlotParams, "sensitivity")
>>> f.kind, f.default, f.minimum, f.maximum
('float', 0.5, 0.01, 1.0)
>>> field_spec(BlotParams, "background").options[:2]
('lane-fit', 'lane-minima')
>>> lanes = field_spec(BlotParams, "lanes")
>>> lanes.kind, lanes.auto, lanes.minimum
('int', True, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldSpec", "field_spec", "accepts", "value_of", "UI_MAX"]

#: Largest value a spin box offers when the model sets no upper bound.
UI_MAX = {"float": 1e6, "int": 100000}
#: Smallest step a spin box uses for floats whose model bound is open (> 0).
_EPS = 0.01


@dataclass(frozen=True)
class FieldSpec:
    """How a dock shows one parameter.

    Attributes
    ----------
    name : str
        The model field.
    kind : str
        ``"choice"``, ``"float"``, ``"int"``, ``"bool"`` or ``"text"``.
    default : object
        The model's default (``None``: automatic).
    options : tuple or None
        Choices (``kind == "choice"``).
    minimum, maximum : float or None
        Accepted range of a number (``maximum`` capped at :data:`UI_MAX`).
    auto : bool
        ``None`` is accepted and means "automatic".
    tooltip : str
        The model's help text (and unit).
    unit : str
        Unit shown after the number.
    """

    name: str
    kind: str
    default: Any
    options: tuple | None
    minimum: float | None
    maximum: float | None
    auto: bool
    tooltip: str
    unit: str


def accepts(model, name: str, value) -> bool:
    """Whether the model's check for ``name`` accepts ``value``."""
    check = model.spec(name).check
    if check is None:
        return True
    try:
        check(value)
    except (ValueError, TypeError):
        return False
    except Exception:  # a ParameterError from a nested model
        return False
    return True


def _number_kind(model, name: str, default) -> str | None:
    if isinstance(default, bool):
        return None
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if default is None:
        check = model.spec(name).check
        try:
            v = check(3)
        except Exception:
            return None
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return "int"
        if isinstance(v, float):
            return "float"
    return None


def field_spec(model, name: str) -> FieldSpec:
    """Describe the dock widget of parameter ``name`` of ``model`` (a Params class).

    Parameters
    ----------
    model : type
        ``BlotParams``, ``IHCParams`` or ``CellParams``.
    name : str
        A field of the model.

    Returns
    -------
    FieldSpec
    """
    spec = model.spec(name)
    default = model.defaults()[name]
    options = getattr(spec.check, "options", None)
    auto = default is None or _none_is_auto(model, name)
    tip = spec.help[0].upper() + spec.help[1:] if spec.help else name
    if spec.unit:
        tip += f" ({spec.unit})"
    if options is not None:
        return FieldSpec(name, "choice", default, tuple(options), None, None, auto, tip,
                         spec.unit)
    if isinstance(default, bool):
        return FieldSpec(name, "bool", default, None, None, None, False, tip, spec.unit)
    kind = _number_kind(model, name, default)
    if kind is None:
        return FieldSpec(name, "text", default, None, None, None, auto, tip, spec.unit)
    lo, hi = _bounds(model, name, kind)
    return FieldSpec(name, kind, default, None, lo, hi, auto, tip, spec.unit)


def _none_is_auto(model, name: str) -> bool:
    check = model.spec(name).check
    try:
        return check is None or check(None) is None
    except Exception:
        return False


def _bisect(ok, good, bad, kind: str):
    """The accepted value closest to ``bad`` between ``good`` (accepted) and ``bad``."""
    for _ in range(60):
        if (kind == "int" and abs(bad - good) <= 1) or abs(bad - good) < 1e-9:
            break
        mid = (good + bad) // 2 if kind == "int" else (good + bad) / 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _bounds(model, name: str, kind: str):
    """Smallest and largest value the model's check accepts (an interval is assumed)."""
    def ok(v):
        return accepts(model, name, v)

    top = UI_MAX[kind]
    inside = next((v for v in (1, 10, 100, 0.5, 0.1) if ok(int(v) if kind == "int" else v)),
                  None)
    if inside is None:
        return (0, top) if kind == "int" else (0.0, float(top))
    if ok(0):
        lo = 0
    else:
        lo = _bisect(ok, inside, 0, kind)
        lo = max(1, lo) if kind == "int" else max(_EPS, math.ceil(lo * 100 - 1e-6) / 100)
    hi = top if ok(top) else _bisect(ok, inside, top, kind)
    if kind == "float":
        return float(lo), float(round(hi, 6))
    return int(lo), int(hi)


def value_of(spec: FieldSpec, widget_value):
    """A widget's value as the model expects it (``auto`` -> ``None``)."""
    if spec.auto and (widget_value is None or widget_value == "auto" or widget_value == ""):
        return None
    if spec.kind in ("int", "float") and spec.auto and spec.minimum is not None \
            and widget_value < spec.minimum:
        return None
    if spec.kind == "int":
        return int(widget_value)
    if spec.kind == "float":
        return float(widget_value)
    return widget_value
