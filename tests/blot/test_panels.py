"""Figure pages: membrane pieces as 2-D regions (blotquant/blot/panels.py and quantify_blot).

Synthetic figures (``make_figure``: make_blot panels pasted on a flat page with frame
lines, text-like print, arrowheads and a chart) are checked against the generator's
truth: the pieces' boxes, the lanes per piece, ladders, and band volumes, which must be
the same as those of each panel analysed on its own.  A single membrane (no page) must
give exactly what ``pieces="off"`` gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blotquant.blot import pair_blots, quantify_blot
from blotquant.blot.panels import find_pieces, page_level, reading_order
from blotquant.errors import ParameterError
from blotquant.synthetic import make_blot, make_figure

#: make_figure seeds whose four panels the lane engine also gets right on their own
#: (seed 0's first right panel alone gives two strips of 9: a lanes.py matter).
SEEDS = (1, 2)


@pytest.fixture(scope="module")
def figure():
    f = make_figure(1)
    return f, quantify_blot(f.to_image())


def _tables_equal(a, b):
    pd.testing.assert_frame_equal(a.lanes, b.lanes)
    pd.testing.assert_frame_equal(a.bands.drop(columns=["params_hash"]),
                                  b.bands.drop(columns=["params_hash"]))


# ----------------------------------------------------------------------------- page test
def test_page_level_flat_page_and_noisy_backgrounds():
    page = np.full((300, 400), 255, np.uint8)
    page[50:150, 40:200] = 200
    assert page_level(page) == 255.0
    rng = np.random.default_rng(0)
    # a nearly flat membrane background with noise (a chemiluminescence image at 251 +- 1)
    noisy = np.clip(np.rint(rng.normal(251, 0.8, (300, 400))), 0, 255).astype(np.uint8)
    assert page_level(noisy) is None
    camera = rng.normal(400, 30, (300, 400)).astype(np.uint16)
    assert page_level(camera) is None
    assert find_pieces(noisy) == [] and find_pieces(camera) == []


def test_bands_on_a_flat_noise_free_background_are_no_pieces():
    # a noise-free (or background-subtracted) blot is a "page" by the page test, but its
    # bands have no membrane background of their own: one membrane, as with pieces="off"
    img = np.full((200, 240), 1000, np.uint16)
    yy, xx = np.mgrid[:200, :240]
    for k, x in enumerate((40, 100, 160, 220)):
        img += (3000 * (k + 1) * np.exp(-0.5 * ((yy - 60) / 4) ** 2)
                * (abs(xx - x) < 20)).astype(np.uint16)
    assert page_level(img) == 1000.0 and find_pieces(img) == []
    r = quantify_blot(img)
    assert r.params["pieces_found"] is None and len(r.lanes) == 4


def test_reading_order_is_column_by_column():
    # left column two pieces, right column three at other heights
    boxes = [(300, 400, 600, 900), (10, 200, 10, 300), (10, 120, 600, 900),
             (250, 330, 10, 300), (150, 280, 600, 900)]
    assert reading_order(boxes) == [1, 3, 2, 4, 0]
    # a 2 x 2 grid A B / C D is read A, C, B, D
    grid = [(0, 10, 0, 10), (0, 10, 20, 30), (20, 30, 0, 10), (20, 30, 20, 30)]
    assert reading_order(grid) == [0, 2, 1, 3]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kw", [{}, {"page_level": 225.0},
                                {"polarity": "light-on-dark", "page_level": 0.0}])
def test_pieces_are_the_panels(seed, kw):
    f = make_figure(seed, **kw)
    got = find_pieces(f.image)
    want = [tuple(int(v) for v in r) for r in f.pieces[["r0", "r1", "c0", "c1"]].to_numpy()]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        # frames, labels, arrowheads and the chart (markers, flat bars) are not pieces;
        # a piece's box is the panel's (a touching frame line trimmed off)
        assert max(abs(a - b) for a, b in zip(g, w)) <= 4, (g, w)


# ----------------------------------------------------------------------------- lanes, volumes
@pytest.mark.parametrize("seed", SEEDS)
def test_lanes_per_piece_ladders_and_volumes(seed):
    f = make_figure(seed)
    r = quantify_blot(f.to_image())
    pcs = r.params["pieces_found"]
    assert [p["strips"] for p in pcs] == [[1], [2], [3], [4]]   # one strip per piece
    for p, truth in zip(pcs, f.pieces.itertuples()):
        assert (p["top"], p["bottom"] + 1, p["left"], p["right"]) == (truth.r0, truth.r1,
                                                                     truth.c0, truth.c1)
        lanes = r.lanes[r.lanes["strip"] == p["strips"][0]].sort_values("x")
        tl = f.lanes[f.lanes["piece"] == truth.piece].sort_values("x")
        assert lanes["is_ladder"].tolist() == tl["is_ladder"].tolist()
        pitch = float(np.median(np.diff(tl["x"])))
        assert np.max(np.abs(lanes["x"].to_numpy() - tl["x"].to_numpy())) < 0.25 * pitch
        # lanes are numbered left to right within a piece, on from the previous piece
        assert lanes["lane"].tolist() == sorted(lanes["lane"])
    # volumes: against the exact truth, and the same as each panel analysed alone
    errs = []
    for i, (p, panel) in enumerate(zip(pcs, f.panels)):
        alone = quantify_blot(panel.to_image())
        mine = r.bands[r.bands["strip"] == p["strips"][0]]
        np.testing.assert_allclose(mine["volume"].to_numpy(), alone.bands["volume"].to_numpy(),
                                   rtol=1e-9)
        lanes = r.lanes[(r.lanes["strip"] == p["strips"][0]) & ~r.lanes["is_ladder"]]
        tl = f.lanes[(f.lanes["piece"] == i + 1) & ~f.lanes["is_ladder"]]
        rows = list(dict.fromkeys(mine.sort_values("y")["row"]))
        trows = list(dict.fromkeys(f.bands[f.bands["piece"] == i + 1].sort_values("y")["row"]))
        assert len(rows) == len(trows)
        for row, trow in zip(rows, trows):
            for ln, tln in zip(lanes.sort_values("x")["lane"], tl.sort_values("x")["lane"]):
                got = mine[(mine["lane"] == ln) & (mine["row"] == row)]["volume"].sum()
                want = f.bands[(f.bands["piece"] == i + 1) & (f.bands["lane"] == tln)
                               & (f.bands["row"] == trow)]["volume"].iloc[0]
                errs.append(abs(got / want - 1))
    assert np.median(errs) < 0.02 and np.percentile(errs, 90) < 0.06, np.percentile(errs, [50, 90])


@pytest.mark.parametrize("empty", [1, 5])
def test_empty_end_lane_taken_from_the_stacked_control_panel(empty):
    # a "-" lane at the end of the target panel: alone, the panel's empty end lane is
    # dropped (4 lanes); on the figure the loading-control panel below shows all 5
    f = make_figure(2, target_empty_lanes=(empty,))
    assert len(quantify_blot(f.panels[0].to_image()).lanes) == 4
    r = quantify_blot(f.to_image())
    lanes = r.lanes[r.lanes["strip"] == 1].sort_values("x")
    tl = f.lanes[f.lanes["piece"] == 1].sort_values("x")
    assert len(lanes) == 5
    assert np.max(np.abs(lanes["x"].to_numpy() - tl["x"].to_numpy())) < 2.0
    empty_lane = int(lanes["lane"].iloc[empty - 1])
    flags = r.bands.loc[r.bands["lane"] == empty_lane, "flags"].astype(str)
    assert len(flags) == 1 and "not_detected" in flags.iloc[0]


def test_figure_page_levels_and_polarities_give_the_same_lanes():
    counts = []
    for kw in ({}, {"page_level": 225.0}, {"polarity": "light-on-dark", "page_level": 0.0},
               {"dtype": "uint16"}):
        r = quantify_blot(make_figure(2, **kw).to_image())
        counts.append(r.lanes.groupby("strip")["is_ladder"].agg(["count", "sum"]).values.tolist())
    assert all(c == [[5, 0], [5, 0], [9, 1], [8, 0]] for c in counts), counts


def test_colour_figure_with_a_coloured_mark(figure):
    # an RGB figure (channels unequal: converted to luma) with a red annotation on the page
    f, r = figure
    rgb = np.repeat(f.image[..., None], 3, axis=2)
    rgb[20:40, 600:700] = [220, 30, 30]
    c = quantify_blot(rgb)
    assert [p["strips"] for p in c.params["pieces_found"]] == [[1], [2], [3], [4]]
    assert c.lanes.groupby("strip")["lane"].count().tolist() == \
        r.lanes.groupby("strip")["lane"].count().tolist()


# ----------------------------------------------------------------------------- unchanged
def test_single_membrane_is_unchanged():
    b = make_blot(3, dtype="uint8", polarity="dark-on-light", ladder=True)
    auto, off = quantify_blot(b.to_image()), quantify_blot(b.to_image(), pieces="off")
    assert auto.params["pieces_found"] is None
    _tables_equal(auto, off)


def test_one_panel_on_a_page_is_analysed_as_the_whole_image():
    # one piece is no figure of pieces: the whole image is analysed, as with pieces="off"
    b = make_blot(4, shape=(300, 500), n_lanes=6, dtype="uint8", polarity="dark-on-light")
    page = np.full((500, 800), 255, np.uint8)
    page[100:400, 150:650] = b.image
    page[30:44, 150:400:9] = 0   # a printed header
    auto, off = quantify_blot(page), quantify_blot(page, pieces="off")
    assert auto.params["pieces_found"] is None
    _tables_equal(auto, off)


def test_pieces_off_analyses_the_page_as_one_membrane(figure):
    f, r = figure
    off = quantify_blot(f.to_image(), pieces="off")
    assert off.params["pieces_found"] is None
    assert r.params["pieces"] == "auto" and off.params["pieces"] == "off"


# ----------------------------------------------------------------------------- parameters
def test_lane_counts_per_piece_per_strip_and_wrong(figure):
    f, r = figure
    per_strip = tuple(int(v) for v in r.lanes.groupby("strip")["lane"].count())
    given = quantify_blot(f.to_image(), lanes=per_strip)   # one count per piece = per strip
    assert given.lanes.groupby("strip")["lane"].count().tolist() == list(per_strip)
    with pytest.raises(ParameterError, match=r"figure page with 4 membrane pieces .* one per "
                                             r"piece \(4\) or one per strip \(4\)"):
        quantify_blot(f.to_image(), lanes=(5, 5, 9))


def test_rows_named_over_all_strips(figure):
    f, r = figure
    assert r.rows == [f"row{i}" for i in range(1, 7)]   # 1 + 1 + 2 + 2 rows
    names = ["TGT", "CTRL", "P1a", "P2a", "P1b", "P2b"]
    named = quantify_blot(f.to_image(), rows=names)
    assert named.rows == names
    assert named.bands.groupby("row")["strip"].unique().map(list).to_dict() == {
        "TGT": [1], "CTRL": [2], "P1a": [3], "P2a": [3], "P1b": [4], "P2b": [4]}
    with pytest.raises(ParameterError, match=r"6 band row\(s\) found \(strip 1: y~\d+ in 5/5 lanes"):
        quantify_blot(f.to_image(), rows=["A", "B"])


def test_review_round_trip_is_the_panels_round_trip(figure):
    # lanes and boxes handed back (the plugin's review) are measured piece by piece,
    # exactly as each panel's own lanes and boxes are on the panel alone
    f, r = figure
    again = quantify_blot(f.to_image(), lane_geometry=r.lane_geometry, band_boxes=r.band_boxes())
    assert again.params["pieces_found"] == r.params["pieces_found"]
    assert again.bands[["strip", "lane", "row"]].equals(r.bands[["strip", "lane", "row"]])
    for p, panel in zip(r.params["pieces_found"], f.panels):
        alone = quantify_blot(panel.to_image())
        alone2 = quantify_blot(panel.to_image(), lane_geometry=alone.lane_geometry,
                               band_boxes=alone.band_boxes())
        mine = again.bands[again.bands["strip"] == p["strips"][0]]
        np.testing.assert_allclose(mine["volume"].to_numpy(), alone2.bands["volume"].to_numpy(),
                                   rtol=1e-9)
        np.testing.assert_allclose(mine["left"].to_numpy() - p["left"],
                                   alone2.bands["left"].to_numpy(), atol=1e-9)
    # band boxes with detected lanes (no lane geometry) name the same lanes
    boxes_only = quantify_blot(f.to_image(), band_boxes=r.band_boxes())
    np.testing.assert_allclose(boxes_only.bands["volume"].to_numpy(),
                               again.bands["volume"].to_numpy(), rtol=1e-9)


def test_two_image_pairing_on_figures():
    target, control = make_figure(2), make_figure(2, page_level=250.0)
    rt, rc = quantify_blot(target.to_image()), quantify_blot(control.to_image())
    p = pair_blots(rt, rc, target="row1", control="row1")
    # the same panels in both images: every lane pairs with itself, every ratio is 1
    assert sorted(p.registrations) == [1, 2, 3, 4]
    assert np.allclose(p.table["ratio"].dropna(), 1.0)
    assert (p.table["lane"] == p.table["control_lane"]).all()


def test_qc_figure_shows_the_pieces(figure, tmp_path):
    from blotquant.report.blot_qc import make_blot_qc_figure
    f, r = figure
    fig = make_blot_qc_figure(r)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert [s for s in labels if s.startswith("piece ")] == [
        "piece 1: strip 1", "piece 2: strip 2", "piece 3: strip 3", "piece 4: strip 4"]
