"""The batch HTML report is self-contained and every picture decodes."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blotquant.report.html import bar_chart_with_points, render_report, write_report


# keep module fixtures on one xdist worker (make test: -n 2 --dist loadgroup)
pytestmark = pytest.mark.xdist_group("report")

class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.refs, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        d = dict(attrs)
        if tag == "img":
            self.imgs.append(d)
        for k in ("src", "href", "srcset", "action", "data", "poster"):
            if k in d:
                self.refs.append((tag, k, d[k]))


def check_self_contained(text: str) -> list[dict]:
    """Assert no external resource is referenced; return the <img> attributes."""
    from PIL import Image as PILImage

    p = _Collect()
    p.feed(text)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    assert "url(" not in text and "@import" not in text
    for tag, attr, val in p.refs:
        assert tag == "img" and attr == "src", (tag, attr, val)
        assert val.startswith("data:image/png;base64,"), val[:60]
    for d in p.imgs:
        raw = base64.b64decode(d["src"].split(",", 1)[1], validate=True)
        im = PILImage.open(io.BytesIO(raw))
        im.load()  # decodes every pixel
        assert im.size[0] > 10 and im.size[1] > 10
        assert d.get("alt")
    return p.imgs


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    import tifffile
    from PIL import Image as PILImage

    from blotquant.batch import run_batch
    from blotquant.synthetic import make_blot, make_ihc

    src = tmp_path_factory.mktemp("src")
    for i in range(3):
        tifffile.imwrite(src / f"b{i}.tif", make_blot(i, shape=(120, 200), n_lanes=4,
                                                      saturate=(i == 2)).image)
    PILImage.fromarray(make_ihc(seed=1, shape=(128, 128)).image).save(src / "tumour.png")
    (src / "broken.tif").write_bytes(b"II*\x00\x08\x00\x00\x00" + b"\xff" * 20)
    (src / "sheet.csv").write_text(
        "file,condition,replicate\n"
        "b0.tif,ctrl,1\nb1.tif,ctrl,2\nb2.tif,drug,1\ntumour.png,drug,1\nbroken.tif,ctrl,3\n")
    out = tmp_path_factory.mktemp("out")
    res = run_batch(src / "sheet.csv", out, workers=0, progress=False, qc=False)
    return res, out


def test_report_is_self_contained_and_images_decode(batch_out):
    res, out = batch_out
    text = (out / "report.html").read_text(encoding="utf-8")
    imgs = check_self_contained(text)
    # one thumbnail per analysed image + charts
    names = [d["alt"] for d in imgs]
    for n in ("b0.tif", "b1.tif", "b2.tif", "tumour.png"):
        assert n in names
    assert len(imgs) >= 4 + 2
    assert "broken.tif" in text and "FAILED" in text  # failed file listed
    assert res.n_failed == 1


def test_report_warns_about_saturated_bands(batch_out):
    res, out = batch_out
    text = (out / "report.html").read_text(encoding="utf-8")
    bands = res.tables["bands"]
    # the demo-style batch holds a blot made with clipping: its bands must be flagged
    assert bands["saturated"].astype(str).str.lower().eq("true").any()
    assert "Saturated bands (" in text and "saturated band(s)" in text


def test_report_escapes_text():
    errors = pd.DataFrame({"file": ["<script>alert(1)</script>.tif"],
                           "error_type": ["ImageReadError"], "message": ["bad & <b>"]})
    text = render_report(tables={}, errors=errors, images=[
        {"index": 0, "name": "<script>alert(1)</script>.tif", "ok": False,
         "error_type": "ImageReadError", "message": "bad & <b>"}],
        warnings=["<img src=x>"], title="a <title>")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<img src=x>" not in text
    check_self_contained(text)


def test_bar_chart_is_mean_and_sd_of_replicates():
    df = pd.DataFrame({"condition": ["a"] * 4 + ["b"] * 3,
                       "replicate": [1, 1, 2, 3, 1, 2, 3],
                       "image": ["i1", "i1", "i2", "i3", "i4", "i5", "i6"],
                       "v": [1.0, 3.0, 4.0, 6.0, 10.0, 12.0, 17.0]})
    fig = bar_chart_with_points(df, "v")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    # replicate 1 of "a" has two technical repeats: (1 + 3) / 2 = 2 -> mean(2, 4, 6) = 4
    assert heights == pytest.approx([4.0, 13.0], abs=1e-12)
    segs = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"][0]
    lengths = [abs(s[1][1] - s[0][1]) / 2 for s in segs.get_segments()]
    assert lengths == pytest.approx([np.std([2, 4, 6], ddof=1), np.std([10, 12, 17], ddof=1)])


def test_write_report_atomic_and_extra_sections(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([1, 2], [3, 4])
    p = write_report(tmp_path / "r.html", tables={}, errors=pd.DataFrame(), images=[],
                     extra=[("Statistics", [fig, "<p>note</p>"])])
    text = Path(p).read_text()
    assert "<h2>Statistics</h2>" in text and "<p>note</p>" in text
    assert len(check_self_contained(text)) == 1
    assert not list(tmp_path.glob(".*.part"))
