"""Package attributes imported on first use, so ``blotquant.blot.params`` stays light.

The command line builds its options from the parameter models; importing a
model must not import every engine (scipy.signal alone takes a second).

Examples
--------
>>> getattr_, dir_ = lazy_exports("blotquant.blot", {"Lane": "model"})
>>> getattr_("Lane").__name__, "Lane" in dir_()
('Lane', True)
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable

__all__ = ["lazy_exports", "lazy_module"]


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Module ``__getattr__`` and ``__dir__`` for a package's public names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        Public name -> submodule (relative to ``package``) that defines it.

    Returns
    -------
    (callable, callable)
        Assign them to the package's ``__getattr__`` and ``__dir__``.
    """
    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)      # later lookups are plain attributes
        return value

    def __dir__():
        return sorted(set(exports) | set(vars(sys.modules[package])))

    return __getattr__, __dir__


class _LazyModule:
    """Stands for a module until an attribute is first looked up (then imports it)."""

    def __init__(self, name: str):
        self.__dict__["_name"] = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__dict__["_name"]), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_name']!r}>"


def lazy_module(name: str):
    """A stand-in for ``import name`` whose import waits for the first attribute use.

    For modules that need a heavy library in a few functions only (pandas in the
    table writers): the whole-slide command line then starts scoring tiles
    without waiting for the import.

    Parameters
    ----------
    name : str
        The module's full name.

    Returns
    -------
    object
        Attribute lookups (``pd.DataFrame``) import the module and return its
        attribute.

    Examples
    --------
    >>> json = lazy_module("json")
    >>> json.dumps([1])
    '[1]'
    """
    return _LazyModule(name)
