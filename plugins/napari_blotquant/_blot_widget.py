"""Blot review dock: run quantify_blot, edit lanes/bands in napari, see the numbers move.

Lanes and bands are editable Shapes layers.  Every edit (move, resize, add,
delete), a row rename or a new background method re-runs
:func:`blotquant.quantify_blot` with ``lane_geometry=`` / ``band_boxes=`` built
from the layers -- through :func:`blotquant.corrections.blot_kwargs` of the
very sidecar that **Save** writes, so the saved sidecar reproduces the dock's
numbers exactly (CLI: ``blotquant blot IMAGE --corrections SIDECAR``).
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
import pandas as pd
from napari.layers import Image as ImageLayer
from napari.layers.base._base_constants import ActionType
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                            QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QTableWidget,
                            QTabWidget, QVBoxLayout, QWidget)

from . import _layers as L
from ._blot_state import BlotReview, normalize_rows
from ._profile_plot import ProfilePlot
from ._qt_utils import (ImageDockMixin, Runner, StatusBar, core_image, fill_table, layer_path,
                        replace_shapes)

#: ms between an edit and the start of the re-quantification (lets napari draw first)
REQUANT_DELAY_MS = 0
_DONE = (ActionType.ADDED, ActionType.CHANGED, ActionType.REMOVED)
_BAND_TABLE = ["lane", "row", "band", "top", "bottom", "volume", "background_volume",
               "saturated", "flags", "edited"]
_LANE_TABLE = ["lane", "strip", "x", "width", "top", "bottom", "is_ladder", "edited"]
_NORM_TABLE = ["lane", "target_volume", "control_volume", "ratio", "relative_ratio", "flags"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        return a.shape == b.shape and list(a.columns) == list(b.columns) and bool(
            (a.reset_index(drop=True).astype(object) == b.reset_index(drop=True).astype(object))
            .all().all())
    except Exception:
        return False


def _analyse(image, kwargs):
    """Worker body: quantify in a thread (yields a progress message first)."""
    from blotquant.blot import quantify_blot

    yield "quantifying"
    return quantify_blot(image, **kwargs)


class BlotReviewWidget(ImageDockMixin, QWidget):
    """Dock widget: quantify the active blot and review lanes and bands."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.review = BlotReview()
        self.result = None
        self.normalized: pd.DataFrame | None = None
        self.lanes_layer = None
        self.bands_layer = None
        self.image_layer = None
        self._image = None
        self._raw_image = None
        self._updating = False
        self._edit_t0 = None
        self._loaded_boxes = None
        #: seconds from the last layer edit to updated tables (set after each re-quantification)
        self.last_edit_latency = float("nan")
        self.last_saved: dict = {}
        self._build()
        self.runner = Runner(self._on_result, self._on_error, self.status)
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self._refresh_images()

    # ------------------------------------------------------------------ UI
    def _build(self):
        from blotquant.blot import BACKGROUND_METHODS

        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip("Blot image layer to analyse")
        self.run_btn = QPushButton("Quantify")
        self.run_btn.setToolTip("Find lanes and bands and measure volumes (replaces edits)")
        self.run_btn.clicked.connect(self.run)
        top.addWidget(self.image_combo, 1)
        top.addWidget(self.run_btn)
        lay.addLayout(top)

        box = QGroupBox("Parameters")
        form = QFormLayout(box)
        self.lanes_spin = QSpinBox()
        self.lanes_spin.setRange(0, 99)
        self.lanes_spin.setSpecialValueText("auto")
        self.rows_edit = QLineEdit()
        self.rows_edit.setPlaceholderText("auto (row1, row2, ...), or e.g. ASNS, ACTB")
        self.rows_edit.setToolTip("Row (protein) names, top to bottom: before Quantify, keeps "
                                  "exactly that many rows; afterwards, edit to rename rows")
        self.rows_edit.editingFinished.connect(self._rows_edited)
        self.bg_combo = QComboBox()
        self.bg_combo.addItems(list(BACKGROUND_METHODS))
        self.bg_combo.currentTextChanged.connect(lambda _: self._params_changed())
        self.radius_spin = QDoubleSpinBox()
        self.radius_spin.setRange(1, 1000)
        self.radius_spin.setValue(50)
        self.radius_spin.setSuffix(" px")
        self.sens_spin = QDoubleSpinBox()
        self.sens_spin.setRange(0.05, 1.0)
        self.sens_spin.setSingleStep(0.05)
        self.sens_spin.setValue(0.5)
        self._param_timer = QTimer(self)
        self._param_timer.setSingleShot(True)
        self._param_timer.setInterval(250)
        self._param_timer.timeout.connect(self._params_changed)
        self._requant_timer = QTimer(self)
        self._requant_timer.setSingleShot(True)
        self._requant_timer.setInterval(REQUANT_DELAY_MS)
        self._requant_timer.timeout.connect(self._requantify_now)
        self.radius_spin.valueChanged.connect(lambda _: self._param_timer.start())
        self.redetect_btn = QPushButton("Re-detect bands in these lanes")
        self.redetect_btn.clicked.connect(self.redetect_bands)
        form.addRow("Lanes", self.lanes_spin)
        form.addRow("Rows", self.rows_edit)
        form.addRow("Background", self.bg_combo)
        form.addRow("Ball radius", self.radius_spin)
        form.addRow("Sensitivity", self.sens_spin)
        form.addRow(self.redetect_btn)
        lay.addWidget(box)

        self.status = StatusBar()
        lay.addWidget(self.status)

        prof = QHBoxLayout()
        self.lane_spin = QSpinBox()
        self.lane_spin.setRange(1, 99)
        self.lane_spin.setPrefix("lane ")
        self.lane_spin.valueChanged.connect(lambda _: self._show_profile())
        prof.addWidget(self.lane_spin)
        prof.addStretch(1)
        lay.addLayout(prof)
        self.plot = ProfilePlot(self)
        lay.addWidget(self.plot)

        norm = QGroupBox("Normalization: target / control per lane")
        norm.setToolTip("ratio = target volume / control volume; relative = ratio / ratio of "
                        "the reference lane")
        nform = QFormLayout(norm)
        self.target_combo, self.control_combo, self.ref_combo = QComboBox(), QComboBox(), QComboBox()
        for c in (self.target_combo, self.control_combo, self.ref_combo):
            c.currentTextChanged.connect(lambda _: self._update_normalized())
        nform.addRow("Target", self.target_combo)
        nform.addRow("Control", self.control_combo)
        nform.addRow("Reference lane", self.ref_combo)
        lay.addWidget(norm)

        self.tabs = QTabWidget()
        self.norm_table, self.bands_table, self.lanes_table = (QTableWidget(), QTableWidget(),
                                                               QTableWidget())
        self.tabs.addTab(self.norm_table, "Normalized")
        self.tabs.addTab(self.bands_table, "Bands")
        self.tabs.addTab(self.lanes_table, "Lanes")
        self.tabs.setMinimumHeight(180)
        lay.addWidget(self.tabs, 1)

        save = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("output folder")
        browse = QPushButton("...")
        browse.setMaximumWidth(30)
        browse.clicked.connect(self._browse)
        self.save_btn = QPushButton("Save tables + corrections")
        self.save_btn.clicked.connect(lambda: self.save())
        load_btn = QPushButton("Load corrections...")
        load_btn.setToolTip("Resume a review: quantify with a saved sidecar's lanes, bands "
                            "and parameters")
        load_btn.clicked.connect(lambda: self.load_corrections())
        lay.addWidget(load_btn)
        save.addWidget(self.out_edit, 1)
        save.addWidget(browse)
        save.addWidget(self.save_btn)
        lay.addLayout(save)

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Output folder", self.out_edit.text())
        if d:
            self.out_edit.setText(d)

    # ------------------------------------------------------------------ params
    def rows(self) -> list[str]:
        return [r.strip() for r in self.rows_edit.text().split(",") if r.strip()]

    def params(self) -> dict:
        """quantify_blot keyword arguments chosen in the dock (recorded in the sidecar)."""
        return {"background": self.bg_combo.currentText(),
                "radius": float(self.radius_spin.value()),
                "sensitivity": float(self.sens_spin.value())}

    def _selected_layer(self):
        name = self.image_combo.currentText()
        if name and name in self.viewer.layers:
            return self.viewer.layers[name]
        active = self.viewer.layers.selection.active
        return active if isinstance(active, ImageLayer) else None

    def _core_image(self, layer):
        from blotquant.io import to_gray

        img = core_image(layer)
        if img.metadata.axes == "YXC" and not img.metadata.channels_equal:
            img = to_gray(img)
        return img

    # ------------------------------------------------------------------ analysis
    def run(self):
        """Quantify the selected image from scratch (lane and band detection)."""
        layer = self._selected_layer()
        if layer is None:
            self.status.message("open or select a blot image first", error=True)
            return None
        if layer.rgb and not isinstance(layer.data, np.ndarray):
            self.status.message("whole-slide images belong in the IHC review dock", error=True)
            return None
        self.image_layer = layer
        self._raw_image = core_image(layer)  # as read: what the sidecar fingerprints
        self._image = self._core_image(layer)
        kw = self.params()
        kw["image_name"] = self.image_name()
        if self.lanes_spin.value():
            kw["lanes"] = int(self.lanes_spin.value())
        if self.rows():
            kw["rows"] = self.rows()
        return self.runner.submit(_analyse, self._image, kw, label="finding lanes and bands",
                                  meta="full")

    def redetect_bands(self):
        """Keep the reviewed lanes, detect bands again (drops band edits)."""
        if self.result is None:
            return self.run()
        kw = self.params()
        kw["image_name"] = self.image_name()
        kw["lane_geometry"] = list(self.review.lanes)
        if self.rows():
            kw["rows"] = self.rows()
        return self.runner.submit(_analyse, self._image, kw, label="detecting bands",
                                  meta="full")

    def load_corrections(self, path=None):
        """Quantify the selected image with a saved sidecar (checked to fit the image)."""
        from blotquant.review import blot_kwargs, load_corrections

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load corrections", self.out_edit.text(),
                                                  "blotquant corrections (*.blotquant.json)")
            if not path:
                return None
        layer = self._selected_layer()
        if layer is None:
            self.status.message("select the image the corrections belong to", error=True)
            return None
        raw = core_image(layer)
        try:
            corr = load_corrections(path, image=raw, image_path=layer_path(layer),
                                    kind="blot")
        except Exception as exc:  # CorrectionsError: says what does not fit
            self._on_error(exc)
            return None
        self.image_layer, self._raw_image, self._image = layer, raw, self._core_image(layer)
        p = corr.blot["params"]
        self.bg_combo.blockSignals(True)
        self.bg_combo.setCurrentText(str(p.get("background", self.bg_combo.currentText())))
        self.bg_combo.blockSignals(False)
        self.radius_spin.blockSignals(True)
        self.radius_spin.setValue(float(p.get("radius", self.radius_spin.value())))
        self.radius_spin.blockSignals(False)
        self.sens_spin.setValue(float(p.get("sensitivity", self.sens_spin.value())))
        kw = blot_kwargs(corr)
        kw["image_name"] = self.image_name()
        self._loaded_boxes = kw.get("band_boxes")
        return self.runner.submit(_analyse, self._image, kw, label="quantifying with corrections",
                                  meta="full")

    def corrections(self, author: str | None = None):
        """The current review as a Corrections object (what Save writes)."""
        return self.review.corrections(self._raw_image, params=self.params(),
                                       image_name=self.image_name(),
                                       path=layer_path(self.image_layer), author=author)

    def requantify(self):
        """Re-measure with the reviewed lanes/bands (coalesced, in a worker thread).

        Started from the event loop right after the edit has been drawn: a worker
        running while napari repaints competes with it for the CPU and the GIL.
        """
        self._requant_timer.start()

    def _requantify_now(self):
        if self.result is None or self._image is None:
            return None
        from blotquant.review import blot_kwargs

        if not self.review.lanes:
            self.status.message("no lanes left: draw a lane or press Quantify", error=True)
            return None
        kw = blot_kwargs(self.corrections())
        kw["image_name"] = self.image_name()
        if "band_boxes" not in kw:
            kw["band_boxes"] = pd.DataFrame(columns=["lane", "row", "top", "bottom"])
        return self.runner.submit(_analyse, self._image, kw, label="re-quantifying",
                                  meta="edit", quiet=True)

    def _params_changed(self):
        if self.result is not None:
            self.requantify()

    def _rows_edited(self):
        if self.result is None or self.bands_layer is None:
            return
        names = self.rows()
        if len(names) != len(self.review.rows) or names == self.review.rows:
            if len(names) != len(self.review.rows):
                self.status.message(f"give {len(self.review.rows)} row names to rename rows",
                                    error=True)
            return
        mapping = self.review.rename_rows(names)
        feats = self.bands_layer.features.copy()
        feats["row"] = feats["row"].map(lambda r: mapping.get(r, r))
        self._set_features(self.bands_layer, feats)
        self.requantify()

    # ------------------------------------------------------------------ results
    def _on_result(self, result, meta):
        self.result = result
        if meta == "full":
            self._load_layers(result)
        else:
            self._update_bands(result)
        self._update_tables()
        if self._edit_t0 is not None and meta == "edit":
            self.last_edit_latency = time.perf_counter() - self._edit_t0
            self._edit_t0 = None
        n_sat = int(result.bands["saturated"].sum()) if len(result.bands) else 0
        self.status.message(
            f"{len(result.lanes)} lanes, {len(result.bands)} bands"
            + (f", {n_sat} saturated" if n_sat else "")
            + f" ({self.runner.last_elapsed * 1000:.0f} ms)")

    def _shapes_layer(self, attr, name, data, features, colors, edge_width):
        layer = getattr(self, attr)
        if layer is None or layer not in self.viewer.layers:
            text = ({"string": "{lane}", "anchor": "upper_left", "size": 11,
                     "color": L.LANE_COLOR, "translation": [-12, 4]}
                    if attr == "lanes_layer" else None)
            layer = self.viewer.add_shapes(
                data, shape_type="polygon", features=features, edge_color=colors,
                face_color="transparent", edge_width=edge_width, name=name, text=text)
            layer.events.data.connect(self._on_lanes_data if attr == "lanes_layer"
                                      else self._on_bands_data)
            if attr == "lanes_layer":
                layer.events.highlight.connect(self._lane_selected)
            setattr(self, attr, layer)
        else:
            self._updating = True
            try:
                layer.data = [(d, "polygon") for d in data] if data else []
                layer.features = features
                layer.edge_color = colors if len(colors) else "white"
            finally:
                self._updating = False
        return layer

    def _load_layers(self, result):
        lane_data, lane_feat, band_data, band_feat = self.review.from_result(
            result, boxes=self._loaded_boxes)
        self._loaded_boxes = None
        scale = tuple(self.image_layer.scale[-2:]) if self.image_layer is not None else (1, 1)
        self._shapes_layer("lanes_layer", "lanes", lane_data, lane_feat,
                           L.lane_colors(lane_feat), 2)
        self._shapes_layer("bands_layer", "bands", band_data, band_feat,
                           L.band_colors(band_feat), 1.5)
        for ly in (self.lanes_layer, self.bands_layer):
            ly.scale = scale
        self.rows_edit.setText(", ".join(self.review.rows))
        self.viewer.layers.selection.active = self.lanes_layer
        self.lanes_layer.mode = "select"

    def _update_bands(self, result):
        """New numbers on the same shapes; bands that follow a moved lane are redrawn."""
        layer = self.bands_layer
        matched = self.review.match_result(result)
        if layer is None or not len(matched):
            return
        feats = layer.features.copy()
        by_uid = matched.set_index("uid")
        data = list(layer.data)
        moved = {}
        for i, uid in enumerate(feats["uid"].astype(int)):
            if uid not in by_uid.index:
                continue
            m = by_uid.loc[uid]
            feats.at[i, "volume"] = float(m["volume"])
            feats.at[i, "saturated"] = bool(m["saturated"])
            feats.at[i, "band"] = int(m["band"])
            if not self.review.band_box_edited.get(uid, False):
                rect = L.box_rect(m["top"], m["bottom"], m["left"], m["right"])
                if data[i].shape != rect.shape or not np.allclose(data[i], rect, atol=1e-3):
                    moved[i] = rect
                    self.review.band_rects[uid] = rect
        old_feats = layer.features
        self._updating = True
        try:
            replace_shapes(layer, moved)  # bands follow their moved lane
            if not _same(old_feats, feats):
                layer.features = feats
                layer.edge_color = L.band_colors(feats)
        finally:
            self._updating = False

    def _set_features(self, layer, feats):
        self._updating = True
        try:
            layer.features = feats
        finally:
            self._updating = False

    # ------------------------------------------------------------------ edits
    def _on_lanes_data(self, event):
        if self._updating or getattr(event, "action", ActionType.CHANGED) not in _DONE:
            return
        if self.result is None:
            return
        self._edit_t0 = time.perf_counter()
        lanes = self.lanes_layer
        before = lanes.features
        feats, renumber = self.review.sync_lanes(list(lanes.data), before)
        if not _same(before, feats):
            self._updating = True
            try:
                lanes.features = feats
                lanes.edge_color = L.lane_colors(feats)
            finally:
                self._updating = False
        self._sync_bands(renumber)
        self.requantify()

    def _on_bands_data(self, event):
        if self._updating or getattr(event, "action", ActionType.CHANGED) not in _DONE:
            return
        if self.result is None:
            return
        self._edit_t0 = time.perf_counter()
        self._sync_bands(None)
        self.requantify()

    def _sync_bands(self, renumber):
        layer = self.bands_layer
        before = layer.features
        feats, keep = self.review.sync_bands(list(layer.data), before, renumber)
        if all(keep) and _same(before, feats):
            return
        self._updating = True
        try:
            if not all(keep):
                layer.data = [(d, "polygon") for d, k in zip(layer.data, keep) if k]
            layer.features = feats
            layer.edge_color = L.band_colors(feats) if len(feats) else "white"
        finally:
            self._updating = False

    def _lane_selected(self, event=None):
        layer = self.lanes_layer
        sel = sorted(layer.selected_data) if layer is not None else []
        if sel and "lane" in layer.features:
            self.lane_spin.setValue(int(layer.features["lane"].iloc[sel[0]]))

    # ------------------------------------------------------------------ tables
    def _update_tables(self):
        r = self.result
        rows = list(dict.fromkeys(r.bands["row"].astype(str))) if len(r.bands) else []
        lanes = [str(int(x)) for x in r.lanes["lane"]]
        for combo, items, default in ((self.target_combo, rows, rows[0] if rows else ""),
                                      (self.control_combo, rows, rows[-1] if rows else ""),
                                      (self.ref_combo, lanes, lanes[0] if lanes else "")):
            cur = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.setCurrentText(cur if cur in items else default)
            combo.blockSignals(False)
        self.lane_spin.setRange(1, max(1, len(lanes) and max(map(int, lanes))))
        fill_table(self.bands_table, r.bands, _BAND_TABLE)
        fill_table(self.lanes_table, r.lanes, _LANE_TABLE)
        self._update_normalized()
        self._show_profile()

    def _update_normalized(self):
        r = self.result
        target, control = self.target_combo.currentText(), self.control_combo.currentText()
        self.normalized = None
        if r is None or not target or not control or target == control:
            fill_table(self.norm_table, None)
            return
        ref = self.ref_combo.currentText()
        try:
            self.normalized = normalize_rows(r.bands, target=target, control=control,
                                             reference_lane=int(ref) if ref else None)
        except Exception as exc:  # a ParameterError explains what is missing
            self.status.message(f"normalize: {exc}", error=True)
        fill_table(self.norm_table, self.normalized, _NORM_TABLE, digits=3,
                   headers={"target_volume": "target", "control_volume": "control",
                            "relative_ratio": "relative"})

    def _show_profile(self):
        r = self.result
        lane = int(self.lane_spin.value())
        if r is None or lane not in r.profiles:
            self.plot.show_profile(None)
            return
        bands = r.bands[r.bands["lane"] == lane]
        self.plot.show_profile(r.profiles[lane], bands, lane=lane, rows=r.rows)

    # ------------------------------------------------------------------ save
    def save(self, out_dir=None, author: str | None = None) -> dict:
        """Write bands.csv, lanes.csv, normalized.csv and the corrections sidecar."""
        from blotquant.review import save_corrections, sidecar_path
        from blotquant.tables import write_table

        if self.result is None:
            self.status.message("nothing to save: run the analysis first", error=True)
            return {}
        out_dir = out_dir or self.out_edit.text()
        if not out_dir:
            out_dir = QFileDialog.getExistingDirectory(self, "Save into folder")
            if not out_dir:
                return {}
            self.out_edit.setText(out_dir)
        out = Path(out_dir)
        r = self.result
        paths = {"bands": write_table(r.bands, out / "bands.csv"),
                 "lanes": write_table(r.lanes, out / "lanes.csv")}
        if self.normalized is not None:
            paths["normalized"] = write_table(self.normalized, out / "normalized.csv")
        paths["corrections"] = save_corrections(self.corrections(author=author),
                                                sidecar_path(self.image_name(), out))
        self.last_saved = paths
        self.status.message(f"saved {len(paths)} files to {out}")
        return paths
