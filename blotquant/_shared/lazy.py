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

__all__ = ["lazy_exports"]


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
