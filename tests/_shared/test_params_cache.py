"""A parameter model makes its dict once: every caller still gets a dict of its own."""

from __future__ import annotations

import pickle

from blotquant.blot.params import BlotParams
from blotquant.ihc.params import IHCParams


def test_to_dict_copies_are_independent_and_the_hash_holds():
    p = BlotParams(rows=("ASNS", "ACTB"), lanes=(3, 4))
    h, qh = p.hash, p.quantify_hash
    d = p.to_dict()
    d["rows"].append("GAPDH")
    d["lanes"][0] = 99
    d["sensitivity"] = 0.01
    q = p.quantify_dict()
    q["rows"].clear()
    assert p.to_dict() == BlotParams(rows=("ASNS", "ACTB"), lanes=(3, 4)).to_dict()
    assert p.to_dict()["rows"] == ["ASNS", "ACTB"] and p.to_dict()["lanes"] == [3, 4]
    assert (p.hash, p.quantify_hash) == (h, qh)
    assert p.to_dict() is not p.to_dict()


def test_cached_dict_follows_copies_pickles_and_nested_models():
    p = BlotParams(sensitivity=0.7)
    p.to_dict()
    r = p.replace(sensitivity=0.3)
    assert r.to_dict()["sensitivity"] == 0.3 and p.to_dict()["sensitivity"] == 0.7
    assert pickle.loads(pickle.dumps(p)).to_dict() == p.to_dict()
    assert p == BlotParams(sensitivity=0.7) and hash(p) == hash(BlotParams(sensitivity=0.7))
    i = IHCParams()
    d = i.to_dict()
    d["cell"]["__probe__"] = 1          # the nested model's dict is a copy too
    assert "__probe__" not in i.to_dict()["cell"]
    assert i.to_dict() == IHCParams().to_dict() and i.hash == IHCParams().hash
