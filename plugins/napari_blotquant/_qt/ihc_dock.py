"""IHC review dock: score_ihc on the selected RGB image, live thresholds, regions.

The parameter widgets are built from :class:`~blotquant.ihc.params.IHCParams`
(choices, defaults, help texts); the dock builds an ``IHCParams`` and the
core scores with it.  Layers: DAB and hematoxylin OD maps, the class map
(Labels; colours from :mod:`blotquant.report.colors`: negative blue, 1+
yellow, 2+ orange, 3+ red), detected cells (points coloured by class) and
two Shapes layers of include / exclude regions.  Threshold spin boxes
re-classify through :func:`blotquant.ihc.rescore` (no re-detection);
editing a region re-scores through :func:`blotquant.ihc.score_ihc` with
``regions=`` from :func:`blotquant.review.ihc_kwargs` of the sidecar that
**Save** writes.  Whole-slide (multiscale) images are scored on a
downsampled level (:meth:`IHCReviewWidget._prepare_slide`); the overlays are
scaled onto the full-resolution image.
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
from napari.utils import Colormap, DirectLabelColormap
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                            QLabel, QPushButton, QSpinBox, QTableWidget, QVBoxLayout)

from blotquant.ihc.compare import compare_modes

from .._state import regions as R
from .._state.kind import kind_problem
from .._state.ihc import (STAINS_CHOICES, comparison_reasons, ihc_params, recorded_params,
                          score_table, status_text)
from .fields import ParamField
from .utils import ReviewDock, core_image, fill_table, layer_path

#: layer-data event actions that finish an edit (napari's ActionType values)
_DONE = ("added", "changed", "removed")
DAB_CMAP = Colormap([[1, 1, 1, 1], [0.85, 0.6, 0.35, 1], [0.45, 0.2, 0.05, 1]], name="DAB OD")
HEM_CMAP = Colormap([[1, 1, 1, 1], [0.55, 0.55, 0.9, 1], [0.15, 0.1, 0.55, 1]],
                    name="hematoxylin OD")
#: The parameters the dock shows (besides the thresholds).
PARAMS = ("mode", "marker", "compartment", "measure", "stains", "white_point")
_LABELS = {"mode": "Mode", "marker": "Marker", "compartment": "Compartment",
           "measure": "Measure", "stains": "Stains", "white_point": "White point (glass)"}
#: Largest DAB OD a threshold spin box offers (OD of a near-black pixel is ~2.4).
MAX_OD = 3.0
REGION_HELP = (
    "<b>Regions</b> (optional; without them the whole tissue is scored): select the "
    "<i>include regions</i> layer and draw a polygon, rectangle or ellipse around the "
    "tissue to score -- each region gets its own column. Draw in <i>exclude regions</i> "
    "to leave out folds, necrosis or pigment. Drag a vertex to edit, press Delete to "
    "remove a selected region.")


def _score(image, params, kwargs):
    """Worker body; reads a lazy slide level here, not in the GUI thread."""
    from blotquant.ihc import score_ihc
    from blotquant.image import Image

    if isinstance(image, Image) and not isinstance(image.data, np.ndarray):
        yield "reading the slide level"
        image = Image(np.asarray(image.data), image.metadata)
    yield "deconvolving and scoring"
    kwargs = dict(kwargs)
    if params is None:                    # a review's keywords carry their own model
        params = kwargs.pop("params", None)
    return score_ihc(image, params, **kwargs), image


def _rescore(result, thresholds):
    from blotquant.ihc import rescore

    yield "re-classifying"
    return rescore(result, thresholds)


def pick_level(shapes, max_side: int = 4096) -> int:
    """Finest pyramid level whose larger side is <= ``max_side`` (else the coarsest)."""
    for i, s in enumerate(shapes):
        if max(s[0], s[1]) <= max_side:
            return i
    return len(shapes) - 1


def _done(event) -> bool:
    return str(getattr(event, "action", "changed")) in _DONE


class IHCReviewWidget(ReviewDock):
    """Dock widget: score DAB IHC, tune thresholds live, draw include/exclude regions."""

    KIND = "ihc"
    RUN_TEXT = "Score"

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent=None):
        self.downsample = 1.0
        self.level = 0
        self.layers: dict = {}
        self.include_layer = None
        self.exclude_layer = None
        self._fingerprint = None
        #: cell vs pixel scores of the last result (`blotquant.ihc.compare.compare_modes`)
        self.comparison = None
        self._t0 = None
        #: seconds from the last threshold change to updated overlays and table
        self.last_rescore_latency = float("nan")
        super().__init__(napari_viewer, parent)

    # ------------------------------------------------------------------ UI
    def _build(self):
        from blotquant.ihc.params import IHCParams

        lay = QVBoxLayout(self)
        self._image_row(lay, "RGB brightfield (H-DAB) image layer to score")
        box = QGroupBox("Parameters")
        form = QFormLayout(box)
        self.fields: dict[str, ParamField] = {}
        for name in PARAMS:
            f = ParamField(IHCParams, name,
                           options=STAINS_CHOICES if name == "stains" else None)
            self.fields[name] = f
            form.addRow(_LABELS[name], f.widget)
        self.mode_combo = self.fields["mode"].widget
        self.stains_combo = self.fields["stains"].widget
        self.compartment_combo = self.fields["compartment"].widget
        self.marker_combo = self.fields["marker"].widget
        self.max_side = QSpinBox()
        self.max_side.setRange(256, 16384)
        self.max_side.setValue(4096)
        self.max_side.setSuffix(" px")
        self.max_side.setToolTip("Whole slides: score the finest pyramid level this small")
        form.addRow("Slide level max side", self.max_side)
        self.full_btn = QPushButton("Score full resolution")
        self.full_btn.setToolTip("Whole slides: score every tissue tile of full resolution "
                                 "in the background (as blotquant ihc SLIDE); the class map "
                                 "is added as a multiscale overlay")
        self.full_btn.clicked.connect(lambda: self.score_full_resolution())
        form.addRow("", self.full_btn)
        self.slide_result = None
        #: tile edge of full-resolution scoring (None: the engine's default; no effect on numbers)
        self.slide_tile_size = None
        self._slide_worker = None
        self._form = form
        spec = IHCParams.spec("thresholds")
        self.threshold_spins = []
        for v, name in zip(IHCParams.defaults()["thresholds"], ("1+", "2+", "3+")):
            s = QDoubleSpinBox()
            s.setDecimals(3)
            s.setRange(0.001, MAX_OD)  # the model requires positive thresholds
            s.setSingleStep(0.02)
            s.setValue(v)
            s.setToolTip(f"{spec.help}: DAB optical density from which a cell/pixel is {name}")
            s.valueChanged.connect(lambda _: self._threshold_timer.start())
            form.addRow(f"DAB OD threshold {name}", s)
            self.threshold_spins.append(s)
        lay.addWidget(box)
        self._threshold_timer = QTimer(self)
        self._threshold_timer.setSingleShot(True)
        self._threshold_timer.setInterval(60)
        self._threshold_timer.timeout.connect(self.rescore)
        self._region_timer = QTimer(self)
        self._region_timer.setSingleShot(True)
        self._region_timer.setInterval(150)
        self._region_timer.timeout.connect(self.rescore_regions)

        legend = QLabel("Classes: " + " ".join(
            f'<span style="color:{_hex(R.CLASS_COLORS[k])}">&#9632;</span> {name}'
            for k, name in R.CLASS_LABELS.items()))
        lay.addWidget(legend)
        self._status_row(lay)
        self.region_help = QLabel(REGION_HELP)
        self.region_help.setWordWrap(True)
        lay.addWidget(self.region_help)

        reg = QHBoxLayout()
        imp = QPushButton("Import regions...")
        imp.setToolTip("QuPath GeoJSON (full-resolution pixels)")
        imp.clicked.connect(lambda: self.import_regions())
        exp = QPushButton("Export regions...")
        exp.setToolTip("Write the regions as QuPath GeoJSON")
        exp.clicked.connect(lambda: self.export_regions())
        reg.addWidget(imp)
        reg.addWidget(exp)
        lay.addLayout(reg)

        self.table = QTableWidget()
        self.table.setMinimumHeight(230)
        lay.addWidget(self.table, 1)
        self._save_row(lay, "Resume a review: score with a saved sidecar's regions and "
                            "parameters")

    def _accepts_layer(self, layer) -> bool:
        # image layers, but not the OD maps this dock added itself
        from napari.layers import Image as ImageLayer

        return isinstance(layer, ImageLayer) and layer not in self.layers.values()

    # ------------------------------------------------------------------ params
    def thresholds(self) -> tuple:
        """The three DAB OD thresholds in the spin boxes."""
        return tuple(float(s.value()) for s in self.threshold_spins)

    def values(self) -> dict:
        """The parameters shown in the dock (model field -> value)."""
        return {**{n: f.value() for n, f in self.fields.items()},
                "thresholds": self.thresholds()}

    def params(self):
        """The :class:`~blotquant.ihc.params.IHCParams` of the dock's fields."""
        return ihc_params(self.values())

    def regions(self) -> list:
        """Include + exclude regions from the Shapes layers (level-0 pixels)."""
        return (R.shapes_to_regions(self.include_layer, "include")
                + R.shapes_to_regions(self.exclude_layer, "exclude"))

    def corrections(self, author: str | None = None, *, verify_image: bool = True):
        """The current review as Corrections (what Save writes).

        ``verify_image=False`` skips hashing the image (used to build the scoring
        arguments: hashing a whole-slide file can take seconds); Save always
        records the real fingerprint.
        """
        from blotquant.review import ihc_corrections, image_fingerprint

        full = core_image(self.image_layer) if self.image_layer is not None else None
        key = id(self.image_layer)
        if not verify_image and (self._fingerprint is None or self._fingerprint[0] != key):
            fp = {"name": self.image_name(), "sha256": "0" * 64, "sha256_of": "pixels",
                  "shape": [int(x) for x in full.shape]}
        else:
            if self._fingerprint is None or self._fingerprint[0] != key:
                self._fingerprint = (key, image_fingerprint(
                    full, image_name=self.image_name(), path=layer_path(self.image_layer)))
            fp = self._fingerprint[1]
        return ihc_corrections(full, regions=self.regions(),
                               params=recorded_params(self.params()),
                               downsample=self.downsample, image_name=self.image_name(),
                               path=layer_path(self.image_layer), author=author,
                               fingerprint=fp)

    # ------------------------------------------------------------------ analysis
    def _prepare(self, layer):
        """The image scored: the layer's image, or a downsampled level of a slide."""
        if layer.multiscale:
            return self._prepare_slide(layer)
        self.level, self.downsample = 0, 1.0
        return core_image(layer)

    def _prepare_slide(self, layer):
        """Whole-slide path: the finest pyramid level within *Slide level max side*.

        Sets :attr:`level` and :attr:`downsample`; the level is read lazily in
        the worker.  (The one place a full-resolution slide review hooks in.)
        """
        from blotquant.image import Image

        shapes = [tuple(lv.shape) for lv in layer.data]
        self.level = pick_level(shapes, int(self.max_side.value()))
        self.downsample = float(shapes[0][0]) / float(shapes[self.level][0])
        img = core_image(layer, self.level)
        md = img.metadata
        if md.pixel_size_um is not None:
            md = md.replace(pixel_size_um=tuple(p * self.downsample for p in md.pixel_size_um))
        return Image(img.data, md)  # read in the worker

    def _check_layer(self, layer) -> bool:
        if layer is None:
            self.status.message("open or select an RGB (H-DAB) image first", error=True)
            return False
        if not layer.rgb:
            self.status.message(f"{layer.name}: " + kind_problem(core_image(layer), "ihc"),
                                error=True)
            return False
        if not layer.multiscale:
            problem = kind_problem(core_image(layer), "ihc")
            if problem:
                self.status.message(f"{layer.name}: {problem}", error=True)
                return False
        return True

    def _take(self, layer):
        if layer is not self.image_layer:
            self._fingerprint = None
            self._clear_regions()
        self.image_layer = layer
        self._image = self._prepare(layer)
        self._ensure_region_layers()

    def run(self):
        """Score the selected image (detects cells in cell mode)."""
        layer = self._selected_layer()
        if not self._check_layer(layer):
            return None
        try:
            self.params()
        except Exception as exc:  # ParameterError: says what to fix
            self._on_error(exc)
            return None
        self._take(layer)
        return self._submit_score("scoring")

    def score_full_resolution(self):
        """Whole slides: score full resolution tile by tile in the background (see _slide).

        Progress (tiles done / total, Mpx/s) goes to the status bar; the
        result's class map is added as a multiscale Labels layer and its
        summary fills the table (``slide_result`` keeps the SlideResult).
        """
        from napari.qt.threading import thread_worker
        from blotquant.image import Image
        from .. import _slide
        layer = self._selected_layer()
        if not self._check_layer(layer):
            return None
        if self._slide_worker is not None:
            self.status.message("a full-resolution scoring is already running")
            return None
        try:
            params = self.params()
        except Exception as exc:  # ParameterError: says what to fix
            self._on_error(exc)
            return None
        self.image_layer = layer
        img = core_image(layer)
        img = Image(img.data, img.metadata, list(layer.data)) if layer.multiscale else img
        worker = thread_worker(_slide.score_slide_steps)(
            img, params, regions=self.regions() or None, image_name=self.image_name(),
            tile_size=self.slide_tile_size)
        self.full_btn.setEnabled(False)
        self.status.busy("full resolution: planning the tiles", 0)
        worker.yielded.connect(self._slide_progress)
        worker.returned.connect(self._show_slide)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._slide_finished)
        self._slide_worker = worker
        worker.start()
        return worker

    def _slide_progress(self, p):
        self.status.busy(f"full resolution: tiles {p.done}/{p.total}, "
                         f"{p.rate_mpix_s:.0f} Mpx/s", int(100 * p.done / max(p.total, 1)))

    def _slide_finished(self):
        self._slide_worker = None
        self.full_btn.setEnabled(True)

    def _show_slide(self, result):
        from .. import _slide
        self.slide_result = result
        data, kw = _slide.class_map_layer(result)
        self.viewer.add_labels(data, **kw)
        mode = result.params.get("mode", "pixel")
        cmp = compare_modes(result.summary, result.cells, params=result.params)
        fill_table(self.table, score_table(result.summary, mode=mode, comparison=cmp))
        self.status.idle()
        self.status.label.setToolTip(comparison_reasons(cmp, result.params))
        text = status_text(result.summary, mode=mode, comparison=cmp, params=result.params)
        self.status.message(f"full resolution ({len(result.tiles)} tiles, level "
                            f"{result.level}): {text}")

    def _submit_score(self, label, quiet=False):
        from blotquant.review import ihc_kwargs

        kw = ihc_kwargs(self.corrections(verify_image=False), downsample=self.downsample)
        kw["image_name"] = self.image_name()
        return self.runner.submit(_score, self._image, None, kw, label=label, meta="score",
                                  quiet=quiet)

    def rescore(self):
        """Re-classify with the thresholds in the spin boxes (live, cheap)."""
        if self.result is None:
            return None
        t = self.thresholds()
        if not t[0] < t[1] < t[2]:
            self.status.message("thresholds must increase: 1+ < 2+ < 3+", error=True)
            return None
        self._t0 = time.perf_counter()
        return self.runner.submit(_rescore, self.result, t, label="re-classifying",
                                  meta="rescore", quiet=True)

    def rescore_regions(self):
        """Score again with the edited regions (OD maps and cells recomputed)."""
        if self.result is None or self._image is None:
            return None
        return self._submit_score("re-scoring regions", quiet=True)

    def _on_result(self, result, meta):
        if meta == "score":
            result, self._image = result  # keep the level read by the worker
        first = meta == "score" and self.result is None
        self.result = result
        self._show_layers(result, full=(meta == "score"))
        mode = result.params.get("mode", self.fields["mode"].value())
        self.comparison = compare_modes(result.summary, result.cells, params=result.params)
        fill_table(self.table, score_table(result.summary, mode=mode, comparison=self.comparison))
        if meta == "rescore" and self._t0 is not None:
            self.last_rescore_latency = time.perf_counter() - self._t0
            self._t0 = None
        self.status.label.setToolTip(comparison_reasons(self.comparison, result.params))
        text = status_text(result.summary, mode=mode, comparison=self.comparison,
                           params=result.params)
        self.status.message(f"{text} ({self.runner.last_elapsed * 1000:.0f} ms)")
        if first:
            self._fit_view()

    def _image_chosen(self):
        layer = self._selected_layer()
        slide = layer is not None and bool(getattr(layer, "multiscale", False))
        for w in (self.max_side, self._form.labelForField(self.max_side), self.full_btn):
            if w is not None:
                w.setVisible(slide)  # whole slides only
        if self.result is None or layer is self.image_layer:
            return
        # another image: its own regions, no table of the previous one
        self.result = self.comparison = None
        for ly in list(self.layers.values()):
            if ly in self.viewer.layers:
                self.viewer.layers.remove(ly)
        self.layers = {}
        fill_table(self.table, None)
        self.status.message(f"{layer.name if layer is not None else 'no image'}: press Score")

    def _clear_regions(self):
        for attr in ("include_layer", "exclude_layer"):
            ly = getattr(self, attr)
            if ly is not None and ly in self.viewer.layers:
                self.viewer.layers.remove(ly)
            setattr(self, attr, None)

    # ------------------------------------------------------------------ layers
    def _overlay_kwargs(self):
        ds = self.downsample
        base_scale = np.asarray(self.image_layer.scale[-2:], float)
        base_tr = np.asarray(self.image_layer.translate[-2:], float)
        return {"scale": tuple(base_scale * ds),
                "translate": tuple(base_tr + base_scale * (ds - 1) / 2.0)}

    def _put_image(self, key, data, **kwargs):
        layer = self.layers.get(key)
        if layer is None or layer not in self.viewer.layers:
            layer = self.viewer.add_image(data, name=key, **kwargs)
            self.layers[key] = layer
        else:
            layer.data = data
            _place(layer, kwargs)
        return layer

    def _show_layers(self, result, full: bool):
        geo = self._overlay_kwargs()
        if full:
            hi = float(np.percentile(result.dab_od, 99.5)) or 1.0
            self._put_image("DAB OD", result.dab_od, colormap=DAB_CMAP,
                            contrast_limits=(0.0, max(hi, 0.05)), blending="translucent",
                            visible=False, **geo)
            hh = float(np.percentile(result.hematoxylin_od, 99.5)) or 1.0
            self._put_image("hematoxylin OD", result.hematoxylin_od, colormap=HEM_CMAP,
                            contrast_limits=(0.0, max(hh, 0.05)), visible=False, **geo)
        labels = self.layers.get("IHC classes")
        if labels is None or labels not in self.viewer.layers:
            cmap = DirectLabelColormap(color_dict={**R.CLASS_COLORS, None: (0, 0, 0, 0)})
            labels = self.viewer.add_labels(result.class_map.copy(), name="IHC classes",
                                            colormap=cmap, opacity=0.55, **geo)
            labels.editable = False
            self.layers["IHC classes"] = labels
        else:
            cm = result.class_map
            if labels.data.shape == cm.shape and labels.data.dtype == cm.dtype:
                # the layer owns its copy: rewrite it in place (setting ``data``
                # re-derives the viewer's dims, ~40 ms per threshold step)
                np.copyto(labels.data, cm)
                labels.refresh()
            else:
                labels.data = cm.copy()
            _place(labels, geo)
        self._show_cells(result, geo)
        regions = [ly for ly in (self.include_layer, self.exclude_layer)
                   if ly is not None and ly in self.viewer.layers]
        top = list(self.viewer.layers)[-len(regions):] if regions else []
        if set(map(id, top)) != set(map(id, regions)):  # keep the regions on top
            for ly in regions:
                self.viewer.layers.move(self.viewer.layers.index(ly), len(self.viewer.layers))

    def _show_cells(self, result, geo):
        cells = result.cells
        layer = self.layers.get("cells")
        if cells is None or not len(cells) or "class" not in cells:
            if layer is not None and layer in self.viewer.layers:
                layer.data = np.zeros((0, 2))
            return
        cells = cells.drop_duplicates("cell") if "cell" in cells else cells
        pts = cells[["y", "x"]].to_numpy(float)
        colors = np.array([R.CLASS_COLORS[int(c) + 1] for c in cells["class"]])
        size = max(3.0, 6.0 / max(self.downsample, 1.0))
        if layer is None or layer not in self.viewer.layers:
            layer = self.viewer.add_points(pts, name="cells", face_color=colors, size=size,
                                           border_color="black", border_width=0.1, **geo)
            self.layers["cells"] = layer
        else:
            if layer.data.shape != pts.shape or not np.allclose(layer.data, pts):
                layer.data = pts
            layer.face_color = colors
            _place(layer, geo)

    def _ensure_region_layers(self):
        scale = tuple(self.image_layer.scale[-2:])
        translate = tuple(self.image_layer.translate[-2:])
        for attr, kind in (("include_layer", "include"), ("exclude_layer", "exclude")):
            layer = getattr(self, attr)
            if layer is None or layer not in self.viewer.layers:
                layer = self.viewer.add_shapes(
                    name=f"{kind} regions", edge_color=R.REGION_COLORS[kind],
                    face_color="transparent", edge_width=3 * max(1.0, self.downsample),
                    features={"name": np.array([], dtype=object)},
                    scale=scale, translate=translate)
                layer.events.data.connect(self._on_regions_data)
                setattr(self, attr, layer)

    def _on_regions_data(self, event):
        if self._updating or not _done(event):
            return
        for layer, kind in ((self.include_layer, "include"), (self.exclude_layer, "exclude")):
            if layer is None or not len(layer.data):
                continue
            names = R.region_names(layer.features, len(layer.data), kind)
            if "name" not in layer.features or list(layer.features["name"]) != names:
                self._updating = True
                try:
                    feats = layer.features.copy()
                    feats["name"] = names
                    layer.features = feats
                finally:
                    self._updating = False
        self._region_timer.start()

    def set_regions(self, regions):
        """Replace both region layers with ``regions`` (level-0 pixel coordinates)."""
        self._ensure_region_layers()
        self._updating = True
        try:
            for layer, kind in ((self.include_layer, "include"), (self.exclude_layer, "exclude")):
                polys, feats = R.regions_to_shapes(regions, kind)
                polys = [(p - np.asarray(layer.translate[-2:])) / np.asarray(layer.scale[-2:])
                         for p in polys]
                layer.data = [(p, "polygon") for p in polys]
                layer.features = feats
        finally:
            self._updating = False
        self._region_timer.start()

    def _apply_corrections(self, layer, corr):
        from blotquant.ihc.regions import read_geojson

        if not self._check_layer(layer):
            return None
        p = corr.ihc["params"]
        try:
            model = ihc_params(p)
        except Exception as exc:
            self._on_error(exc)
            return None
        for name, f in self.fields.items():
            f.set_value(getattr(model, name))
        for spin, t in zip(self.threshold_spins, model.thresholds):
            spin.blockSignals(True)
            spin.setValue(float(t))
            spin.blockSignals(False)
        self._take(layer)
        self.set_regions(read_geojson(corr.ihc["regions"]) if corr.ihc["regions"]["features"]
                         else [])
        self._region_timer.stop()
        return self._submit_score("scoring with corrections")

    def import_regions(self, path=None):
        """Load QuPath GeoJSON regions into the include/exclude layers."""
        from blotquant.ihc.regions import read_geojson

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import regions", "",
                                                  "GeoJSON (*.geojson *.json)")
            if not path:
                return []
        if self.image_layer is None:
            self.image_layer = self._selected_layer()
            if self.image_layer is None:
                self.status.message("select the image the regions belong to", error=True)
                return []
        regions = read_geojson(path)
        self.set_regions(regions)
        return regions

    def export_regions(self, path=None):
        """Write the regions as QuPath GeoJSON (full-resolution pixel coordinates)."""
        from blotquant.ihc.regions import write_geojson

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export regions", "regions.geojson",
                                                  "GeoJSON (*.geojson)")
            if not path:
                return None
        return write_geojson(self.regions(), path)

    # ------------------------------------------------------------------ save
    def _write_tables(self, out: Path) -> dict:
        """summary.csv and cells.csv (cell mode): the CLI's names."""
        from blotquant.tables import write_table

        r = self.result
        paths = {"summary": write_table(r.summary, out / "summary.csv")}
        if r.cells is not None and len(r.cells):
            paths["cells"] = write_table(r.cells, out / "cells.csv")
        return paths


def _place(layer, geo: dict) -> None:
    """Set a layer's scale / translate only when they change (each set redraws)."""
    for k in ("scale", "translate"):
        if k in geo and not np.allclose(getattr(layer, k)[-2:], geo[k]):
            setattr(layer, k, geo[k])


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])
