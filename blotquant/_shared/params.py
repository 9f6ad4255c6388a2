"""One parameter model per engine: the machinery behind ``BlotParams`` and ``IHCParams``.

A parameter model is a frozen dataclass whose fields are declared with
:func:`param`.  Each field carries its default, a one-line help text, a check
(validate and normalise one value, raising :class:`~blotquant.errors.ParameterError`
with a message a user can act on) and, for the command line, a text parser.
Everything an edge needs is derived from that one declaration:

* the Python API validates in ``__post_init__`` (``BlotParams(radius=-1)`` fails);
* :meth:`Params.from_mapping` turns a dict (a sample-sheet row, a sidecar, a
  ``params.json``) into a model and names unknown keys;
* :meth:`Params.add_arguments` adds one ``--option`` per field to an argparse
  parser, with the default and the unit in the help, and
  :meth:`Params.from_namespace` reads back only what the user gave;
* :meth:`Params.to_dict` and :attr:`Params.hash` give provenance: the same
  analysis has the same ``params_hash`` whatever edge ran it.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo(Params):
...     radius: float = param(50.0, "ball radius", check=positive_float, unit="px")
>>> Demo().radius, Demo(radius="12").radius
(50.0, 12.0)
>>> Demo(radius=-1)
Traceback (most recent call last):
...
blotquant.errors.ParameterError: radius: must be a positive number, got -1
>>> Demo.from_mapping({"radus": 3})
Traceback (most recent call last):
...
blotquant.errors.ParameterError: unknown parameter 'radus' (did you mean 'radius'?); known: radius
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Collection, Mapping, Self

import numpy as np

from ..errors import ParameterError
from ..provenance import jsonable, params_hash


__all__ = [
    "Params", "param", "positive_float", "positive_int", "nonneg_float", "nonneg_int",
    "fraction", "open_fraction", "choice", "optional", "names", "counts", "boolean",
    "number_tuple", "parse_list",
]


# ----------------------------------------------------------------------------- checks
# A check takes a value (already parsed from text when it came from text) and
# returns the normalised value, or raises ValueError with a short reason; the
# model turns that into a ParameterError that names the field.
def _num(value, kind=float):
    if isinstance(value, bool) or value is None:
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, str):
        value = value.strip()
    try:
        v = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, got {value!r}") from None
    if kind is float and not math.isfinite(v):
        raise ValueError(f"must be a finite number, got {value!r}")
    if kind is int and float(value) != v:
        raise ValueError(f"must be a whole number, got {value!r}")
    return v


def positive_float(value: Any) -> float:
    """A finite number > 0.

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    float
        The value as a float.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value)
    if not v > 0:
        raise ValueError(f"must be a positive number, got {value!r}")
    return v


def nonneg_float(value: Any) -> float:
    """A finite number >= 0.

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    float
        The value as a float.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value)
    if v < 0:
        raise ValueError(f"must be >= 0, got {value!r}")
    return v


def positive_int(value: Any) -> int:
    """A whole number >= 1.

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    int
        The value as an int (``"3"`` and ``3.0`` give ``3``).

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value, int)
    if v < 1:
        raise ValueError(f"must be a whole number >= 1, got {value!r}")
    return v


def nonneg_int(value: Any) -> int:
    """A whole number >= 0.

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    int
        The value as an int.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value, int)
    if v < 0:
        raise ValueError(f"must be a whole number >= 0, got {value!r}")
    return v


def fraction(value: Any) -> float:
    """A number in [0, 1].

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    float
        The value as a float.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value)
    if not 0 <= v <= 1:
        raise ValueError(f"must be in [0, 1], got {value!r}")
    return v


def open_fraction(value: Any) -> float:
    """A number in (0, 1].

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    float
        The value as a float.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    v = _num(value)
    if not 0 < v <= 1:
        raise ValueError(f"must be in (0, 1], got {value!r}")
    return v


def boolean(value: Any) -> bool:
    """True/False (also the texts yes/no, true/false, on/off, 1/0).

    Parameters
    ----------
    value : Any
        The value to check; text such as ``"12"`` is accepted.

    Returns
    -------
    bool
        The value as a bool; the integers 0 and 1 are accepted too.

    Raises
    ------
    ValueError
        If the value is not accepted (the model turns this into a
        :class:`~blotquant.errors.ParameterError` naming the field).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"must be true or false, got {value!r}")


def choice(*options: Any) -> Callable[[Any], Any]:
    """A check that accepts one of ``options`` (exact strings or values).

    Parameters
    ----------
    *options : Any
        The accepted values. A value matches when it is equal and of the same
        type; text is stripped first.

    Returns
    -------
    callable
        The check. It returns the matching option or raises :class:`ValueError`;
        its ``options`` attribute holds ``options`` (the CLI uses it for
        ``choices``).

    Examples
    --------
    >>> check = choice("rolling_ball", "none")
    >>> check(" none ")
    'none'
    >>> check.options
    ('rolling_ball', 'none')
    """
    def check(value):
        if isinstance(value, str):
            value = value.strip()
        for o in options:
            if value == o and type(value) is type(o):
                return o
        raise ValueError(f"must be one of {', '.join(map(str, options))}; got {value!r}")
    check.options = options
    return check


def optional(check: Callable[[Any], Any],
             none_words: tuple[str, ...] = ("none", "auto", "")) -> Callable[[Any], Any]:
    """``None`` (or the text ``none``/``auto``) or what ``check`` accepts.

    Parameters
    ----------
    check : callable
        The check applied to every other value.
    none_words : tuple of str, optional
        Texts (compared stripped and lower-cased) that mean ``None``.

    Returns
    -------
    callable
        The check. Its ``options`` attribute is the ``options`` of ``check``
        (``None`` when it has none).

    Examples
    --------
    >>> check = optional(positive_float)
    >>> check("auto") is None, check("2")
    (True, 2.0)
    """
    def opt(value):
        if value is None or (isinstance(value, str) and value.strip().lower() in none_words):
            return None
        return check(value)
    opt.options = getattr(check, "options", None)
    return opt


def parse_list(value: Any) -> tuple:
    """``"a, b"`` -> ``("a", "b")``; lists and tuples pass as tuples.

    Parameters
    ----------
    value : Any
        Text separated by commas or semicolons, a list, tuple or array, or a
        single value.

    Returns
    -------
    tuple
        The items: stripped non-empty texts for text, the elements for a
        sequence or array, ``(value,)`` for anything else.

    Examples
    --------
    >>> parse_list("a; b,,c ")
    ('a', 'b', 'c')
    >>> parse_list(3)
    (3,)
    """
    if isinstance(value, str):
        return tuple(t.strip() for t in value.replace(";", ",").split(",") if t.strip())
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def names(value: Any) -> tuple[str, ...]:
    """Distinct non-empty names, as a tuple; text ``"ASNS,ACTB"`` is split.

    Parameters
    ----------
    value : Any
        Text or a sequence of names (see :func:`parse_list`).

    Returns
    -------
    tuple of str
        The names, stripped.

    Raises
    ------
    ValueError
        If there is no name, a name is empty, or a name is repeated.
    """
    items = tuple(str(v).strip() for v in parse_list(value))
    if not items or any(not v for v in items):
        raise ValueError(f"must be non-empty names, got {value!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"names must be distinct, got {value!r}")
    return items


def counts(value: Any) -> int | tuple[int, ...]:
    """One whole number >= 1, or one per strip (``"10,9"`` -> ``(10, 9)``).

    Parameters
    ----------
    value : Any
        A number, text, or a list/tuple/array of numbers.

    Returns
    -------
    int or tuple of int
        A single int when ``value`` holds one number and is not a list, tuple
        or array; otherwise a tuple with one count per strip.

    Raises
    ------
    ValueError
        If there is no count or one is not a whole number >= 1.

    Examples
    --------
    >>> counts("10"), counts("10,9"), counts([10])
    (10, (10, 9), (10,))
    """
    items = parse_list(value)
    if not items:
        raise ValueError(f"must be a count or one count per strip, got {value!r}")
    try:
        out = tuple(positive_int(v) for v in items)
    except ValueError:
        raise ValueError(f"must be a whole number >= 1 or one per strip "
                         f"(e.g. 10 or 10,9), got {value!r}") from None
    return out[0] if len(out) == 1 and not isinstance(value, (list, tuple, np.ndarray)) else out


def number_tuple(lengths: tuple[int, ...] = (1, 3), *, increasing: bool = False,
                 positive: bool = False) -> Callable[[Any], tuple[float, ...]]:
    """A tuple of finite numbers of one of ``lengths``; text ``"0.2,0.4"`` is split.

    Parameters
    ----------
    lengths : tuple of int, optional
        The accepted numbers of items.
    increasing : bool, optional
        Require strictly increasing numbers.
    positive : bool, optional
        Require numbers > 0.

    Returns
    -------
    callable
        The check: it returns the numbers as a tuple of floats or raises
        :class:`ValueError`.

    Examples
    --------
    >>> number_tuple((3,), increasing=True)("0.2,0.4,0.6")
    (0.2, 0.4, 0.6)
    """
    def check(value):
        items = parse_list(value)
        try:
            t = tuple(_num(v) for v in items)
        except ValueError:
            raise ValueError(f"must be numbers, e.g. {','.join(['0.2'] * lengths[-1])}; "
                             f"got {value!r}") from None
        if len(t) not in lengths:
            raise ValueError(f"must be {' or '.join(map(str, lengths))} numbers, got {len(t)}")
        if positive and any(v <= 0 for v in t):
            raise ValueError(f"must be positive, got {t}")
        if increasing and any(b <= a for a, b in zip(t, t[1:])):
            raise ValueError(f"must be strictly increasing, got {t}")
        return t
    return check


# ----------------------------------------------------------------------------- fields
@dataclass(frozen=True)
class Spec:
    """What an edge needs to know about one parameter.

    Attributes
    ----------
    help : str
        One-line help text.
    check : callable or None
        Validates and normalises a value (raises :class:`ValueError`).
    unit : str
        Unit shown in the CLI help.
    cli : bool
        Whether the CLI has an option for the parameter.
    metavar : str or None
        Metavar of the CLI option.
    group : str
        Name of the group the parameter belongs to.
    """

    help: str
    check: Callable[[Any], Any] | None = None
    unit: str = ""
    cli: bool = True
    metavar: str | None = None
    group: str = ""


def param(default: Any, help: str, *, check: Callable[[Any], Any] | None = None,
          unit: str = "", cli: bool = True, metavar: str | None = None,
          group: str = "") -> Any:
    """Declare one parameter: its default, help text, check and CLI exposure.

    Parameters
    ----------
    default : Any
        The default value; it must be immutable (a tuple, not a list).
    help : str
        One-line help text (the CLI adds the default and the unit to it unless
        it already mentions "default").
    check : callable, optional
        Validates and normalises a value, raising :class:`ValueError`.
        ``None``: any value is accepted as is.
    unit : str, optional
        Unit shown in the CLI help (``"px"``).
    cli : bool, optional
        Whether :meth:`Params.add_arguments` adds an option for it.
    metavar : str, optional
        Metavar of the CLI option.
    group : str, optional
        Name of the group the parameter belongs to.

    Returns
    -------
    dataclasses.Field
        The dataclass field, with the :class:`Spec` in its metadata.

    Raises
    ------
    TypeError
        If ``default`` is a list, dict or set.
    """
    spec = Spec(help=help, check=check, unit=unit, cli=cli, metavar=metavar, group=group)
    if isinstance(default, (list, dict, set)):
        raise TypeError("parameter defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata={"spec": spec})


def _copy_json(value):
    """A copy of a plain-JSON structure (new dicts and lists, the same scalars)."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _suggest(key, known):
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Params:
    """Base of the parameter models: validation, dict/CLI round trips, hash."""

    #: Name used in messages ("blot", "ihc").
    domain: ClassVar[str] = ""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            spec = f.metadata.get("spec")
            if spec is None or spec.check is None:
                continue
            value = getattr(self, f.name)
            try:
                new = spec.check(value)
            except ValueError as exc:
                raise ParameterError(f"{f.name}: {exc}") from None
            if new is not value:
                object.__setattr__(self, f.name, new)
        self._check_together()

    def _check_together(self) -> None:
        """Checks that involve more than one field (override)."""

    # ------------------------------------------------------------------ dicts
    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of all parameters, in declaration order.

        Returns
        -------
        tuple of str
            The field names.
        """
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{name: default}`` of every parameter.

        Returns
        -------
        dict
            The default of every field, keyed by name.
        """
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @classmethod
    def spec(cls, name: str) -> Spec:
        """The :class:`Spec` of one parameter.

        Parameters
        ----------
        name : str
            Name of the parameter.

        Returns
        -------
        Spec
            Its help text, check, unit and CLI settings.

        Raises
        ------
        KeyError
            If there is no parameter ``name``.
        """
        for f in dataclasses.fields(cls):
            if f.name == name:
                return f.metadata["spec"]
        raise KeyError(name)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None = None, *,
                     ignore: Collection[str] = (), **overrides: Any) -> Self:
        """Build from a dict (sheet row, sidecar, ``params.json``) plus overrides.

        Unknown keys raise :class:`~blotquant.errors.ParameterError` naming the
        closest known key; keys in ``ignore`` (recorded outputs) are dropped.
        ``None`` values (in ``mapping`` or the overrides) mean "not given"
        (the default applies), except for parameters whose default is ``None``.

        Parameters
        ----------
        mapping : Mapping, optional
            Parameter values keyed by name.
        ignore : collection of str, optional
            Keys to drop instead of rejecting.
        **overrides : Any
            Values that take precedence over ``mapping``.

        Returns
        -------
        Params
            A validated model of this class.

        Raises
        ------
        ParameterError
            If a key is unknown or a value fails its check.
        """
        data = {}
        for src in (mapping or {}), overrides:
            for k, v in src.items():
                if k in ignore:
                    continue
                data[k] = v
        known = cls.names()
        unknown = [k for k in data if k not in known]
        if unknown:
            k = unknown[0]
            raise ParameterError(f"unknown parameter {k!r}{_suggest(k, known)}; "
                                 f"known: {', '.join(known)}")
        given = {k: v for k, v in data.items() if v is not None or cls.defaults()[k] is None}
        return cls(**given)

    def replace(self, **changes: Any) -> Self:
        """A copy with some parameters changed (validated).

        Parameters
        ----------
        **changes : Any
            New values keyed by parameter name.

        Returns
        -------
        Params
            The new model (``self`` itself when there is no change).

        Raises
        ------
        ParameterError
            If a name is unknown or a value fails its check.
        """
        if not changes:
            return self
        known = self.names()
        for k in changes:
            if k not in known:
                raise ParameterError(f"unknown parameter {k!r}{_suggest(k, known)}; "
                                     f"known: {', '.join(known)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every parameter as plain JSON types (tuples become lists).

        Returns
        -------
        dict
            Every parameter keyed by name; nested models are converted with
            their own ``to_dict``.
        """
        # a model is frozen: the dict is made once, and every call gets its own copy
        # (an edge may change the dict it was given)
        cached = self.__dict__.get("_as_dict")
        if cached is None:
            cached = {}
            for f in dataclasses.fields(self):
                v = getattr(self, f.name)
                cached[f.name] = v.to_dict() if isinstance(v, Params) else jsonable(v)
            object.__setattr__(self, "_as_dict", cached)
        return _copy_json(cached)

    @property
    def hash(self) -> str:
        """``params_hash`` of :meth:`to_dict`."""
        return params_hash(self.to_dict())

    def changed(self) -> dict[str, Any]:
        """Only the parameters that differ from the defaults.

        Returns
        -------
        dict
            The entries of :meth:`to_dict` that differ from those of a model
            built with the defaults.
        """
        d = self.to_dict()
        ref = type(self)().to_dict()
        return {k: v for k, v in d.items() if ref.get(k) != v}

    # ------------------------------------------------------------------ CLI
    @classmethod
    def cli_fields(cls) -> list[tuple[str, str, Spec, Any]]:
        """``(name, option, spec, default)`` of the parameters the CLI exposes.

        Returns
        -------
        list of tuple
            One ``(name, "--option-name", spec, default)`` per field declared
            with ``cli=True``, in declaration order.
        """
        out = []
        for f in dataclasses.fields(cls):
            spec = f.metadata.get("spec")
            if spec is None or not spec.cli:
                continue
            out.append((f.name, "--" + f.name.replace("_", "-"), spec, f.default))
        return out

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *,
                      exclude: Collection[str] = ()) -> None:
        """Add one ``--option`` per CLI parameter (default: not given).

        The parser stores raw text; :meth:`from_namespace` validates it through
        the same checks as the Python API, so the CLI cannot accept a value the
        engine would refuse, nor refuse one it would accept.

        Parameters
        ----------
        parser : argparse.ArgumentParser
            The parser; the options go into one argument group.
        exclude : collection of str, optional
            Names of parameters not to add.
        """
        title = f"{cls.domain} analysis parameters" if cls.domain else "analysis parameters"
        grp = parser.add_argument_group(title)
        for name, opt, spec, default in cls.cli_fields():
            if name in exclude:
                continue
            options = getattr(spec.check, "options", None)
            unit = f" {spec.unit}" if spec.unit else ""
            shown = "automatic" if default is None else (
                ",".join(map(str, default)) if isinstance(default, tuple) else default)
            text = spec.help if "default" in spec.help else \
                f"{spec.help} (default: {shown}{unit if default is not None else ''})"
            kw = dict(default=None, dest=name, help=text.replace("%", "%%"),
                      metavar=spec.metavar)
            if options is not None and all(isinstance(o, str) for o in options):
                kw["choices"] = options
                kw.pop("metavar")
            grp.add_argument(opt, **kw)

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace, base: Params | None = None,
                       **overrides: Any) -> Self:
        """A model from the options the user gave (others: ``base`` or defaults).

        Parameters
        ----------
        ns : argparse.Namespace
            Parsed arguments of a parser set up by :meth:`add_arguments`;
            options left at ``None`` count as not given.
        base : Params, optional
            Model whose values apply to the options not given (default: the
            defaults of this class).
        **overrides : Any
            Values that take precedence over the options.

        Returns
        -------
        Params
            The validated model.

        Raises
        ------
        ParameterError
            If a value fails its check.
        """
        given = {name: getattr(ns, name) for name, *_ in cls.cli_fields()
                 if getattr(ns, name, None) is not None}
        given.update(overrides)
        if base is None:
            return cls.from_mapping(given)
        return base.replace(**given)
