"""One self-contained HTML report per batch (``report.html``).

Everything is inline: CSS in a ``<style>`` element, every picture a base64
PNG ``data:`` URI (thumbnails with overlays, bar charts, histograms), no
script, no external ``src``/``href`` -- the file can be mailed or archived
and opens offline in any browser.

Sections: summary counts; warnings (failed files, saturated bands, flagged
ratios); blot ratios per condition (bar = mean, error bar = SD of the
replicates, points = replicates); IHC H-score per condition and score
distributions; a gallery of every image with its overlay.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..ihc.params import DEFAULT_THRESHOLDS
from .._version import __version__
from ..tables import atomic_path

__all__ = ["write_report", "render_report", "png_data_uri", "figure_data_uri",
           "bar_chart_with_points"]

#: At most this many thumbnails are embedded (the report stays small).
MAX_THUMBS = 300
MAX_WARNINGS = 200
_WARNING_TITLES = {"saturated": "Saturated bands",
                   "ratio": "Flagged or out-of-range ratios",
                   "normalisation": "Normalisation"}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;
color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid #ccc;
padding-bottom:3px;margin-top:28px}
h3{font-size:15px;margin:14px 0 4px}
.meta{color:#666;font-size:13px}
.counts span{display:inline-block;margin:8px 14px 0 0;padding:6px 10px;border-radius:4px;
background:#e8eef7;font-size:14px}
.counts .bad{background:#f9dcdc}
table{border-collapse:collapse;font-size:12px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}
ul.warn li{font-size:13px;margin:2px 0}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:6px;width:372px}
.card img{max-width:360px;display:block;margin:0 auto}
.card .name{font-weight:600;font-size:13px;word-break:break-all}
.card .info{font-size:12px;color:#555}
.card.failed{background:#fff3f3;border-color:#e5a4a4}
.charts img{max-width:100%;margin:4px 8px 4px 0;border:1px solid #eee;background:#fff}
details summary{cursor:pointer;font-weight:600;margin:8px 0}
"""


def png_data_uri(data: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes.

    Parameters
    ----------
    data : bytes
        A PNG file's content.

    Returns
    -------
    str
        The data URI, usable as an ``<img src>``.

    Examples
    --------
    >>> png_data_uri(b"abc")
    'data:image/png;base64,YWJj'
    """
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_data_uri(fig: Figure, dpi: int = 90) -> str:
    """Render a matplotlib figure to a PNG data URI.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    str
        See :func:`png_data_uri`.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return png_data_uri(buf.getvalue())


def _esc(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return html.escape(str(v))


def _label(df: pd.DataFrame) -> pd.Series:
    """Group label per row: condition and lane label / sample when present."""
    parts = []
    for c in ("condition", "lane_label"):
        if c in df.columns:
            s = df[c].fillna("").astype(str).replace("nan", "")
            if s.str.len().gt(0).any() and (s.nunique() > 1 or c == "lane_label"):
                parts.append(s)
    if not parts and "condition" in df.columns and \
            df["condition"].fillna("").astype(str).replace("nan", "").str.len().gt(0).any():
        parts.append(df["condition"].fillna("").astype(str).replace("nan", ""))
    if not parts:
        if "lane" in df.columns:
            return "lane " + df["lane"].astype(str)
        return df["image"].astype(str) if "image" in df.columns \
            else pd.Series("all", index=df.index)
    lab = parts[0]
    for p in parts[1:]:
        lab = np.where((lab != "") & (p != ""), lab + " / " + p, lab + p)
        lab = pd.Series(lab, index=df.index)
    return lab.replace("", "(none)")


def bar_chart_with_points(df: pd.DataFrame, value: str, *, replicate: str = "replicate",
                          title: str = "", ylabel: str | None = None) -> Figure | None:
    """Bar = mean of replicates, error bar = SD, points = replicate values.

    Values are first averaged within (group, replicate) (technical repeats
    count once), then summarised with :func:`blotquant.stats.summarize_replicates`.

    Parameters
    ----------
    df : DataFrame
        One row per measurement; groups are made from ``condition`` and
        ``lane_label`` (or ``lane``, or ``image``) when present.
    value : str
        Numeric column to plot (e.g. ``relative_ratio``, ``h_score``).
    replicate : str
        Replicate column (with ``"replicate"`` and an ``image`` column, the
        replicate key also includes the image); when absent every row is a
        replicate.
    title : str
        Axes title.
    ylabel : str, optional
        y-axis label (default: ``value``).

    Returns
    -------
    matplotlib.figure.Figure or None
        The chart, or None when ``df`` has no finite ``value``.
    """
    from ..stats import summarize_replicates

    if df is None or df.empty or value not in df.columns:
        return None
    d = df.copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    d = d[np.isfinite(d[value])]
    if d.empty:
        return None
    d["_group"] = _label(d)
    rep = replicate if replicate in d.columns else None
    if rep is None:
        d["_rep"] = np.arange(len(d))
        rep = "_rep"
    d["_repkey"] = d[rep].astype(str) + "|" + d.get("image", "").astype(str) \
        if replicate == "replicate" and "image" in d.columns else d[rep].astype(str)
    per_rep = d.groupby(["_group", "_repkey"], sort=False)[value].mean().reset_index()
    summ = summarize_replicates(per_rep, value, "_group")
    order = list(dict.fromkeys(d["_group"]))
    summ = summ.set_index("_group").loc[order].reset_index()
    width = max(4.5, min(16, 0.55 * len(order) + 2))
    fig = Figure(figsize=(width, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(order))
    ax.bar(x, summ["mean"], yerr=np.nan_to_num(summ["sd"]), color="#9ecae1",
           edgecolor="#3182bd", capsize=3, error_kw=dict(lw=1))
    rng = np.random.default_rng(0)
    for i, g in enumerate(order):
        v = per_rep.loc[per_rep["_group"] == g, value].to_numpy()
        ax.scatter(i + rng.uniform(-0.15, 0.15, v.size), v, s=14, color="k", zorder=3)
    ax.set_xticks(x, order, rotation=30 if len(order) > 4 else 0,
                  ha="right" if len(order) > 4 else "center", fontsize=8)
    ax.set_ylabel(ylabel or value)
    ax.set_title(title, fontsize=9)
    return fig


def _hist(values, *, title: str, xlabel: str, bins=30, vlines: Iterable[float] = ()
          ) -> Figure | None:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    fig = Figure(figsize=(4.8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.hist(v, bins=bins, color="#fdae6b", edgecolor="#e6550d")
    for t in vlines:
        ax.axvline(t, color="0.3", ls="--", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title, fontsize=9)
    return fig


def _table_html(df: pd.DataFrame, max_rows: int = 50) -> str:
    if df is None or df.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    body = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            if isinstance(v, float):
                v = f"{v:.4g}" if np.isfinite(v) else ""
            cells.append(f"<td>{_esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='meta'>... {len(df) - max_rows} more rows in the table file</p>" \
        if len(df) > max_rows else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{_esc(alt)}">'


def _charts(figs) -> str:
    out = []
    for alt, fig in figs:
        if fig is not None:
            out.append(_img(figure_data_uri(fig), alt))
    return "<div class='charts'>" + "".join(out) + "</div>" if out else ""


def _card(e: dict) -> str:
    info = " · ".join(_esc(f"{k}: {e[k]}") for k in ("kind", "sample", "condition",
                                                       "replicate", "role")
                      if e.get(k) not in (None, ""))
    if not e.get("ok"):
        return (f"<div class='card failed'><div class='name'>{_esc(e['name'])}</div>"
                f"<div class='info'>FAILED: {_esc(e.get('error_type'))}: "
                f"{_esc(e.get('message'))}</div></div>")
    thumb = Path(e["thumb"]) if e.get("thumb") else None
    img = _img(png_data_uri(thumb.read_bytes()), e["name"]) \
        if thumb is not None and thumb.is_file() else "<p>(no thumbnail)</p>"
    extra = _esc(e.get("summary", ""))
    return (f"<div class='card'>{img}<div class='name'>{_esc(e['name'])}</div>"
            f"<div class='info'>{info}</div><div class='info'>{extra}</div></div>")


def render_report(*, tables: dict, errors: pd.DataFrame, images: list[dict],
                  warnings: list[str] = (), title: str = "blotquant batch report",
                  extra: list = ()) -> str:
    """The report as an HTML string (see :func:`write_report`).

    Parameters
    ----------
    tables, errors, images, warnings, title, extra
        As for :func:`write_report`.

    Returns
    -------
    str
        A complete HTML document (``<!DOCTYPE html>`` ... ``</html>``).

    Examples
    --------
    >>> s = render_report(tables={}, errors=pd.DataFrame(), images=[], title="t")
    >>> s.startswith("<!DOCTYPE html>") and "<h1>t</h1>" in s
    True
    """
    n_ok = sum(1 for e in images if e.get("ok"))
    n_bad = len(errors) if errors is not None else 0
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f"<div class='meta'>blotquant {_esc(__version__)} · generated "
             f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</div>",
             "<div class='counts'>"
             f"<span>{len(images)} images</span><span>{n_ok} analysed</span>"
             f"<span class='{'bad' if n_bad else ''}'>{n_bad} failed</span></div>"]

    # ---- warnings
    parts.append("<h2>Warnings</h2>")
    if n_bad:
        parts.append("<h3>Failed files</h3>" + _table_html(errors, max_rows=500))
    if warnings:
        groups: dict[str, list[str]] = {}
        for x in warnings:
            cat, _, rest = str(x).partition(": ")
            if cat not in _WARNING_TITLES or not rest:
                cat, rest = "other", str(x)
            groups.setdefault(cat, []).append(rest)
        for cat in (*_WARNING_TITLES, "other"):
            w = groups.get(cat)
            if not w:
                continue
            items = "".join(f"<li>{_esc(x)}</li>" for x in w[:MAX_WARNINGS])
            more = f"<li>... and {len(w) - MAX_WARNINGS} more</li>" \
                if len(w) > MAX_WARNINGS else ""
            title = _WARNING_TITLES.get(cat, "Other")
            parts.append(f"<h3>{_esc(title)} ({len(w)})</h3><ul class='warn'>{items}{more}</ul>")
    if not n_bad and not warnings:
        parts.append("<p>None.</p>")

    # ---- blots
    detail: list[str] = []
    caption = ("<p class='meta'>Bars: mean of the replicates; error bars: SD; dots: "
               "one per replicate (technical repeats of a replicate averaged first).</p>")
    norm = tables.get("normalized")
    bands = tables.get("bands")
    if bands is not None and not bands.empty:
        parts.append("<h2>Western blots</h2>")
        figs = []
        if norm is not None and not norm.empty:
            val = "relative_ratio" if "relative_ratio" in norm.columns and \
                pd.to_numeric(norm["relative_ratio"], errors="coerce").notna().any() \
                else "ratio"
            for (tgt, ctl), g in norm.groupby(["target", "control"], sort=False):
                figs.append((f"{tgt}/{ctl}", bar_chart_with_points(
                    g, val, title=f"{tgt} / {ctl} ({val})", ylabel=f"{tgt}/{ctl} {val}")))
        else:
            for row, g in bands.groupby("row", sort=False):
                figs.append((f"{row} volume", bar_chart_with_points(
                    g, "volume", title=f"{row} band volume", ylabel="volume")))
        parts.append(_charts(figs) + caption)
        if norm is not None and not norm.empty:
            cols = [c for c in ("image", "condition", "replicate", "lane", "lane_label",
                                "target", "control", "ratio", "relative_ratio", "flags")
                    if c in norm.columns]
            detail.append("<details><summary>Normalised ratios (first rows)</summary>"
                          + _table_html(norm[cols], max_rows=40) + "</details>")

    # ---- IHC
    reg = tables.get("ihc_regions")
    if reg is not None and not reg.empty:
        parts.append("<h2>IHC</h2>")
        cells = tables.get("ihc_cells")
        figs = [("H-score per condition", bar_chart_with_points(
                    reg, "h_score", title="H-score per condition", ylabel="H-score")),
                ("H-score distribution", _hist(reg["h_score"], title="H-score distribution "
                                               "(images x regions)", xlabel="H-score",
                                               bins=np.linspace(0, 300, 31)))]
        if cells is not None and not cells.empty:
            col = next((c for c in ("cytoplasm_dab_od_mean", "cell_dab_od_mean",
                                    "nucleus_dab_od_mean") if c in cells.columns), None)
            if col:
                figs.append((f"{col} distribution", _hist(
                    cells[col], title=f"per-cell {col} (all images)", xlabel="DAB OD",
                    bins=50, vlines=DEFAULT_THRESHOLDS)))
        parts.append(_charts(figs) + caption)
        cols = [c for c in ("image", "condition", "replicate", "region", "mode", "n",
                            "pct_positive", "h_score", "allred", "irs") if c in reg.columns]
        detail.append("<details><summary>IHC scores (first rows)</summary>"
                      + _table_html(reg[cols], max_rows=40) + "</details>")

    # ---- extra sections (e.g. statistics): (heading, [Figure | html str, ...])
    for heading, items in extra:
        parts.append(f"<h2>{_esc(heading)}</h2>")
        for it in items:
            parts.append(_charts([(heading, it)]) if isinstance(it, Figure) else str(it))

    # ---- gallery
    parts.append("<h2>Images</h2><p class='meta'>Blots: lanes blue, bands green "
                 "(red = saturated). IHC: DAB classes blue = negative, yellow = 1+, "
                 "orange = 2+, red = 3+. Full QC figures: images/&lt;name&gt;/qc.png."
                 "</p><div class='gallery'>")
    shown = 0
    for e in images:
        if e.get("ok") and shown >= MAX_THUMBS:
            continue
        parts.append(_card(e))
        shown += bool(e.get("ok"))
    parts.append("</div>")
    if sum(1 for e in images if e.get("ok")) > MAX_THUMBS:
        parts.append(f"<p class='meta'>Only the first {MAX_THUMBS} thumbnails are shown."
                     "</p>")
    if detail:
        parts.append("<h2>Tables</h2>" + "".join(detail))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, *, tables: dict, errors: pd.DataFrame, images: list[dict],
                 warnings: list[str] = (), title: str = "blotquant batch report",
                 extra: list = ()) -> Path:
    """Write the self-contained batch report atomically; returns its path.

    Parameters
    ----------
    path : str or path-like
        Output HTML file.
    tables : dict
        Combined tables (``bands``, ``normalized``, ``ihc_regions``,
        ``ihc_cells`` used when present).
    errors : DataFrame
        file, error_type, message.
    images : list of dict
        One entry per image: ``name``, ``ok``, ``kind``, ``sample``,
        ``condition``, ``replicate``, ``role``, ``thumb`` (PNG path) or
        ``error_type``/``message``.
    warnings : list of str
        Warning lines, listed under "Warnings".
    title : str
        Page title and heading.
    extra : list of (heading, items)
        Additional sections; items are matplotlib Figures (embedded as PNG)
        or HTML snippets (trusted; escape your own text).

    Returns
    -------
    Path
        ``path``.
    """
    text = render_report(tables=tables, errors=errors, images=images, warnings=warnings,
                         title=title, extra=extra)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
