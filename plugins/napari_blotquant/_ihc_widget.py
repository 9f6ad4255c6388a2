"""IHC review dock: score_ihc on the active RGB image, live thresholds, regions.

Layers: DAB and hematoxylin OD maps, the class map (Labels: 1 negative blue,
2 1+ yellow, 3 2+ orange, 4 3+ red), detected cells (points coloured by
class) and two Shapes layers of include / exclude regions.  Threshold spin
boxes re-classify through :func:`blotquant.ihc.rescore` (no re-detection);
editing a region re-scores through :func:`blotquant.ihc.score_ihc` with
``regions=`` from :func:`blotquant.corrections.ihc_kwargs` of the sidecar that
**Save** writes.  Whole-slide (multiscale) images are scored on a
downsampled level; the overlays are scaled onto the full-resolution image.
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
from napari.layers import Image as ImageLayer
from napari.layers.base._base_constants import ActionType
from napari.utils import Colormap, DirectLabelColormap
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                            QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                            QTableWidget, QVBoxLayout, QWidget)

from . import _regions as R
from ._qt_utils import ImageDockMixin, Runner, StatusBar, core_image, fill_table, layer_path

_DONE = (ActionType.ADDED, ActionType.CHANGED, ActionType.REMOVED)
_SUMMARY = ["region", "n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "pct_positive",
            "h_score", "allred", "irs", "mean_dab_od", "area_px"]
DAB_CMAP = Colormap([[1, 1, 1, 1], [0.85, 0.6, 0.35, 1], [0.45, 0.2, 0.05, 1]], name="DAB OD")
HEM_CMAP = Colormap([[1, 1, 1, 1], [0.55, 0.55, 0.9, 1], [0.15, 0.1, 0.55, 1]],
                    name="hematoxylin OD")


def _score(image, kwargs):
    """Worker body; reads a lazy slide level here, not in the GUI thread."""
    from blotquant.ihc import score_ihc
    from blotquant.image import Image

    if isinstance(image, Image) and not isinstance(image.data, np.ndarray):
        yield "reading the slide level"
        image = Image(np.asarray(image.data), image.metadata)
    yield "deconvolving and scoring"
    return score_ihc(image, **kwargs), image


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


class IHCReviewWidget(ImageDockMixin, QWidget):
    """Dock widget: score DAB IHC, tune thresholds live, draw include/exclude regions."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.result = None
        self.image_layer = None
        self._rgb = None
        self._image = None
        self.downsample = 1.0
        self.level = 0
        self.layers: dict = {}
        self.include_layer = None
        self.exclude_layer = None
        self._fingerprint = None
        self._updating = False
        self._t0 = None
        #: seconds from the last threshold change to updated overlays and table
        self.last_rescore_latency = float("nan")
        self.last_saved: dict = {}
        self._build()
        self.runner = Runner(self._on_result, self._on_error, self.status)
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self._refresh_images()

    # ------------------------------------------------------------------ UI
    def _build(self):
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip("RGB (H-DAB) image layer to score")
        self.run_btn = QPushButton("Score")
        self.run_btn.clicked.connect(self.run)
        top.addWidget(self.image_combo, 1)
        top.addWidget(self.run_btn)
        lay.addLayout(top)

        box = QGroupBox("Parameters")
        form = QFormLayout(box)
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["cell", "pixel"])
        self.stains_combo = QComboBox()
        self.stains_combo.addItems(["default", "estimate"])
        self.compartment_combo = QComboBox()
        self.compartment_combo.addItems(["cytoplasm", "nucleus", "cell"])
        self.max_side = QSpinBox()
        self.max_side.setRange(256, 16384)
        self.max_side.setValue(4096)
        self.max_side.setSuffix(" px")
        self.max_side.setToolTip("Whole slides: score the finest pyramid level this small")
        form.addRow("Mode", self.mode_combo)
        form.addRow("Stains", self.stains_combo)
        form.addRow("Compartment", self.compartment_combo)
        form.addRow("Slide level max side", self.max_side)
        self.threshold_spins = []
        for v, name in ((0.2, "1+"), (0.4, "2+"), (0.6, "3+")):
            s = QDoubleSpinBox()
            s.setDecimals(3)
            s.setRange(0.0, 3.0)
            s.setSingleStep(0.02)
            s.setValue(v)
            s.setToolTip(f"DAB optical density from which a cell/pixel is {name}")
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

        legend = QLabel(" ".join(
            f'<span style="color:{_hex(R.CLASS_COLORS[k])}">&#9632;</span> {name}'
            for k, name in R.CLASS_LABELS.items()))
        lay.addWidget(legend)

        self.status = StatusBar()
        lay.addWidget(self.status)

        reg = QHBoxLayout()
        imp = QPushButton("Import regions...")
        imp.clicked.connect(lambda: self.import_regions())
        exp = QPushButton("Export regions...")
        exp.clicked.connect(lambda: self.export_regions())
        reg.addWidget(imp)
        reg.addWidget(exp)
        lay.addLayout(reg)
        load_btn = QPushButton("Load corrections...")
        load_btn.setToolTip("Resume a review: score with a saved sidecar's regions and "
                            "parameters")
        load_btn.clicked.connect(lambda: self.load_corrections())
        lay.addWidget(load_btn)

        self.table = QTableWidget()
        self.table.setMinimumHeight(150)
        lay.addWidget(self.table, 1)

        save = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("output folder")
        browse = QPushButton("...")
        browse.setMaximumWidth(30)
        browse.clicked.connect(self._browse)
        self.save_btn = QPushButton("Save tables + corrections")
        self.save_btn.clicked.connect(lambda: self.save())
        save.addWidget(self.out_edit, 1)
        save.addWidget(browse)
        save.addWidget(self.save_btn)
        lay.addLayout(save)

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Output folder", self.out_edit.text())
        if d:
            self.out_edit.setText(d)

    def _accepts_layer(self, layer) -> bool:
        # RGB images only, and not the OD layers this dock added itself
        return isinstance(layer, ImageLayer) and layer.rgb and layer not in self.layers.values()

    # ------------------------------------------------------------------ params
    def thresholds(self) -> tuple:
        return tuple(float(s.value()) for s in self.threshold_spins)

    def params(self) -> dict:
        """score_ihc keyword arguments chosen in the dock (recorded in the sidecar)."""
        return {"mode": self.mode_combo.currentText(), "thresholds": list(self.thresholds()),
                "stains": self.stains_combo.currentText(),
                "compartment": self.compartment_combo.currentText()}

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
        from blotquant.corrections import ihc_corrections, image_fingerprint

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
        return ihc_corrections(full, regions=self.regions(), params=self.params(),
                               downsample=self.downsample, image_name=self.image_name(),
                               path=layer_path(self.image_layer), author=author,
                               fingerprint=fp)

    # ------------------------------------------------------------------ analysis
    def _selected_layer(self):
        name = self.image_combo.currentText()
        if name and name in self.viewer.layers:
            return self.viewer.layers[name]
        active = self.viewer.layers.selection.active
        return active if isinstance(active, ImageLayer) and active.rgb else None

    def _prepare(self, layer):
        """The array scored: the image, or a downsampled level of a slide."""
        if layer.multiscale:
            shapes = [tuple(lv.shape) for lv in layer.data]
            self.level = pick_level(shapes, int(self.max_side.value()))
            self.downsample = float(shapes[0][0]) / float(shapes[self.level][0])
            img = core_image(layer, self.level)
            md = img.metadata
            if md.pixel_size_um is not None:
                md = md.replace(pixel_size_um=tuple(p * self.downsample for p in md.pixel_size_um))
            from blotquant.image import Image

            return Image(img.data, md)  # read in the worker
        self.level, self.downsample = 0, 1.0
        return core_image(layer)

    def run(self):
        """Score the selected image (detects cells in cell mode)."""
        layer = self._selected_layer()
        if layer is None:
            self.status.message("open or select an RGB (H-DAB) image first", error=True)
            return None
        if layer is not self.image_layer:
            self._fingerprint = None
        self.image_layer = layer
        self._image = self._prepare(layer)
        self._ensure_region_layers()
        return self._submit_score("scoring")

    def score_full_resolution(self):
        """Whole slides: score the scored level tile by tile in the background (see _slide)."""
        from napari.qt.threading import thread_worker
        from blotquant.image import Image
        from . import _slide
        layer = self._selected_layer()
        img = core_image(layer)
        img = Image(img.data, img.metadata, list(layer.data)) if layer.multiscale else img
        worker = thread_worker(_slide.score_slide_steps)(
            img, thresholds=self.thresholds(), regions=self.regions() or None,
            mode=self.mode_combo.currentText(), image_name=self.image_name())
        worker.yielded.connect(lambda p: self.status.message(
            f"tiles {p.done}/{p.total}, {p.rate_mpix_s:.0f} Mpx/s"))
        worker.returned.connect(self._show_slide)
        worker.start()
        return worker

    def _show_slide(self, result):
        from . import _slide
        self.slide_result = result
        data, kw = _slide.class_map_layer(result)
        self.viewer.add_labels(data, **kw)

    def _submit_score(self, label, quiet=False):
        from blotquant.corrections import ihc_kwargs

        kw = ihc_kwargs(self.corrections(verify_image=False), downsample=self.downsample)
        kw["image_name"] = self.image_name()
        return self.runner.submit(_score, self._image, kw, label=label, meta="score",
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
        self.result = result
        self._show_layers(result, full=(meta == "score"))
        fill_table(self.table, _transposed(result.summary), digits=5)
        if meta == "rescore" and self._t0 is not None:
            self.last_rescore_latency = time.perf_counter() - self._t0
            self._t0 = None
        s = result.summary
        txt = "; ".join(f"{r}: H-score {h:.0f}, {p:.0f}% positive"
                        for r, h, p in zip(s["region"], s["h_score"], s["pct_positive"]))
        self.status.message(f"{txt} ({self.runner.last_elapsed * 1000:.0f} ms)")

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
            for k in ("scale", "translate"):
                if k in kwargs:
                    setattr(layer, k, kwargs[k])
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
            labels = self.viewer.add_labels(result.class_map, name="IHC classes",
                                            colormap=cmap, opacity=0.55, **geo)
            labels.editable = False
            self.layers["IHC classes"] = labels
        else:
            labels.data = result.class_map
            labels.scale, labels.translate = geo["scale"], geo["translate"]
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
            layer.scale, layer.translate = geo["scale"], geo["translate"]

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
        if self._updating or getattr(event, "action", ActionType.CHANGED) not in _DONE:
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

    def load_corrections(self, path=None):
        """Score the selected image with a saved sidecar (checked to fit the image)."""
        from blotquant.corrections import load_corrections
        from blotquant.ihc.regions import read_geojson

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load corrections", self.out_edit.text(),
                                                  "blotquant corrections (*.blotquant.json)")
            if not path:
                return None
        layer = self._selected_layer()
        if layer is None:
            self.status.message("select the image the corrections belong to", error=True)
            return None
        try:
            corr = load_corrections(path, image=core_image(layer), image_path=layer_path(layer),
                                    kind="ihc")
        except Exception as exc:  # CorrectionsError: says what does not fit
            self._on_error(exc)
            return None
        p = corr.ihc["params"]
        combos = ((self.mode_combo, "mode"), (self.stains_combo, "stains"),
                  (self.compartment_combo, "compartment"))
        for combo, key in combos:
            if isinstance(p.get(key), str):
                combo.setCurrentText(p[key])
        for spin, t in zip(self.threshold_spins, p.get("thresholds", self.thresholds())):
            spin.blockSignals(True)
            spin.setValue(float(t))
            spin.blockSignals(False)
        if layer is not self.image_layer:
            self._fingerprint = None
        self.image_layer = layer
        self._image = self._prepare(layer)
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
    def save(self, out_dir=None, author: str | None = None) -> dict:
        """Write summary.csv, cells.csv (cell mode; the CLI's names) and the corrections sidecar."""
        from blotquant.corrections import save_corrections, sidecar_path
        from blotquant.tables import write_table

        if self.result is None:
            self.status.message("nothing to save: score the image first", error=True)
            return {}
        out_dir = out_dir or self.out_edit.text()
        if not out_dir:
            out_dir = QFileDialog.getExistingDirectory(self, "Save into folder")
            if not out_dir:
                return {}
            self.out_edit.setText(out_dir)
        out = Path(out_dir)
        r = self.result
        paths = {"summary": write_table(r.summary, out / "summary.csv")}
        if r.cells is not None and len(r.cells):
            paths["cells"] = write_table(r.cells, out / "cells.csv")
        paths["corrections"] = save_corrections(self.corrections(author=author),
                                                sidecar_path(self.image_name(), out))
        self.last_saved = paths
        self.status.message(f"saved {len(paths)} files to {out}")
        return paths


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


def _transposed(summary):
    """Scores as rows, regions as columns (fits a narrow dock)."""
    import pandas as pd

    if summary is None or not len(summary):
        return None
    cols = [c for c in _SUMMARY if c in summary.columns and c != "region"]
    t = summary.set_index("region")[cols].T
    t.insert(0, "score", t.index)
    return pd.DataFrame(t.to_numpy(), columns=["score", *map(str, summary["region"])])
