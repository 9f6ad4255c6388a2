"""The CLI's background import during the tiles (``cli._slide._Preload``)."""

from __future__ import annotations

import sys

import pytest

from blotquant.cli._slide import _Preload


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """A module that records the switch interval in force while it is imported."""
    name = "_blotquant_preload_probe"
    (tmp_path / f"{name}.py").write_text("import sys\nINTERVAL = sys.getswitchinterval()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    yield name
    sys.modules.pop(name, None)


def test_preload_imports_with_a_short_switch_interval_then_sets_it_back(probe_module):
    before = sys.getswitchinterval()
    p = _Preload("_blotquant_no_such_module_", probe_module, switch_interval=1e-4)
    p.join()                                   # not started: nothing to wait for
    p.start()
    p.start()                                  # once
    p.join()
    assert probe_module in sys.modules         # the missing module did not stop it
    assert sys.modules[probe_module].INTERVAL == pytest.approx(1e-4, rel=0.05)
    assert sys.getswitchinterval() == before


def test_preload_never_lengthens_the_interval(probe_module):
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(2e-5)
        p = _Preload(probe_module, switch_interval=1e-3)
        p.start()
        p.join()
        assert sys.modules[probe_module].INTERVAL == pytest.approx(2e-5, rel=0.05)
        assert sys.getswitchinterval() == pytest.approx(2e-5, rel=0.05)
    finally:
        sys.setswitchinterval(before)
