"""Statistics figures: axis labels with units, no Python reprs, error bars >= 0."""

from __future__ import annotations

import numpy as np
import pandas as pd

from blotquant.stats import (biomarker_vs_sensitivity, cohort_vs_clinical, fit_plate,
                             simulate_mtt_plate)
from blotquant.stats.plots import contingency_plot, correlation_plot, dose_response_plot


def test_dose_axis_has_the_unit_and_error_bars_stay_above_zero():
    v, _, fits = fit_plate(simulate_mtt_plate({"A": 1.0, "B": 0.2}, cv=0.4, seed=3))
    ax = dose_response_plot(v, fits, dose_unit="U/mL").axes[0]
    assert ax.get_xlabel() == "dose (U/mL, log scale)"
    assert ax.get_ylabel() == "viability (% of untreated)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all("IC50" in t and t.endswith("U/mL") for t in legend)
    lows = [min(p[1] for p in seg) for c in ax.collections
            if c.__class__.__name__ == "LineCollection" for seg in c.get_segments()]
    assert lows and min(lows) >= 0


def test_dose_axis_without_a_unit_says_so():
    v, _, fits = fit_plate(simulate_mtt_plate({"A": 1.0}, seed=1))
    assert "units of the plate file" in dose_response_plot(v, fits).axes[0].get_xlabel()


def test_correlation_axes_are_not_code_names():
    lv = pd.DataFrame({"cell_line": list("ABCDE"), "relative_ratio": [0.2, 0.5, 1, 1.5, 3]})
    ic = pd.DataFrame({"cell_line": list("EDCBA"), "ic50": [9.0, 4.0, 2.0, 0.5, 0.1]})
    ax = correlation_plot(biomarker_vs_sensitivity(lv, ic), y_unit="uM").axes[0]
    assert ax.get_xlabel() == "target / control, relative to the reference lane"
    assert ax.get_ylabel() == "IC50 (uM), log scale"
    assert "_" not in ax.get_title()


def test_fisher_plot_shows_a_table_not_a_python_list():
    reg = pd.DataFrame({"image": list("abcdef"), "sample": list("abcdef"), "region": "image",
                        "h_score": [250.0, 220, 40, 30, 150, 10]})
    cl = pd.DataFrame({"patient": list("abcdef"),
                       "kras_status": ["mut", "mut", "wt", "wt", "wt", "mut"]})
    r = cohort_vs_clinical(reg, cl, cutoff=100, group_col="kras_status", positive="mut")
    fig = contingency_plot(r)
    ax = fig.axes[0]
    assert "[[" not in ax.get_title() and "]]" not in ax.get_title()
    assert ax.get_ylabel() == "H-score (0-300)"
    (tab,) = ax.tables
    cells = {(i, j): c.get_text().get_text() for (i, j), c in tab.get_celld().items()}
    t = r.table.to_numpy()
    assert [cells[(1, 0)], cells[(1, 1)], cells[(2, 0)], cells[(2, 1)]] == \
        [str(int(x)) for x in t.ravel()]
    assert cells[(0, 0)] == "mut" and cells[(1, -1)] == "high (n)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["kras status: mut",
                                                            "kras status: wt"]


def test_reference_sample_is_marked_in_the_reference_colour():
    import matplotlib.colors as mcolors

    from blotquant.report import colors as C
    lv = pd.DataFrame({"cell_line": list("ABCD"), "relative_ratio": [1.0, 0.5, 0.3, 0.1]})
    ic = pd.DataFrame({"cell_line": list("ABCD"), "ic50": [3.0, 1.0, 0.6, 0.2]})
    ax = correlation_plot(biomarker_vs_sensitivity(lv, ic)).axes[0]
    fc = ax.collections[0].get_facecolors()
    ref = np.isclose(ax.collections[0].get_offsets()[:, 0], 1.0)
    assert ref.sum() == 1
    assert np.allclose(fc[ref][0][:3], mcolors.to_rgb(C.REFERENCE))
    assert not np.allclose(fc[~ref][0][:3], mcolors.to_rgb(C.REFERENCE))
    assert "reference lane" in ax.get_legend().get_texts()[0].get_text()
