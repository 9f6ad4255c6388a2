"""Blot review dock: run quantify_blot, edit lanes/bands in napari, see the numbers move.

The parameter widgets are built from :class:`~blotquant.blot.params.BlotParams`
(choices, defaults, ranges, help texts); the dock builds a ``BlotParams`` and
calls the core with it.  Lanes and bands are editable Shapes layers.  Every
edit (move, resize, add, delete), a row rename or a new background method
re-runs :func:`blotquant.quantify_blot` with ``lane_geometry=`` /
``band_boxes=`` built from the layers -- through
:func:`blotquant.review.blot_kwargs` of the very sidecar that **Save**
writes, so the saved sidecar reproduces the dock's numbers exactly (CLI:
``blotquant blot IMAGE --corrections SIDECAR``).
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
import numpy as np
import pandas as pd
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                            QPushButton, QSpinBox, QTableWidget, QTabWidget, QVBoxLayout)

from .._state import layers as L
from .._state.blot import (BlotReview, RowsInput, labels_from_table, normalize_rows,
                           quantify_params, recorded_params, split_labels, with_lane_labels)
from .._state.kind import kind_problem
from .fields import ParamField
from .profile_plot import ProfilePlot
from .utils import (ReviewDock, core_image, fill_table, layer_path, replace_shapes,
                    update_features)

#: ms between an edit and the start of the re-quantification (lets napari draw first)
REQUANT_DELAY_MS = 0
#: layer-data event actions that finish an edit (napari's ActionType values)
_DONE = ("added", "changed", "removed")
_BAND_TABLE = ["lane", "lane_label", "row", "band", "top", "bottom", "volume",
               "background_volume", "saturated", "flags", "edited"]
_LANE_TABLE = ["lane", "lane_label", "strip", "x", "width", "top", "bottom", "is_ladder",
               "edited"]
_NORM_TABLE = ["lane", "lane_label", "target_volume", "control_volume", "ratio",
               "relative_ratio", "flags"]
_HEADERS = {"lane_label": "sample", "target_volume": "target", "control_volume": "control",
            "relative_ratio": "relative", "background_volume": "background",
            "is_ladder": "ladder"}
#: The main parameters (always shown) and the detection details (under "Advanced").
MAIN_PARAMS = ("background", "radius", "sensitivity", "polarity")
ADVANCED_PARAMS = ("max_tilt_deg", "lane_width", "tail", "flank", "min_row_lanes",
                   "min_row_strength", "border_width", "ladder")
_LABELS = {"background": "Background", "radius": "Ball radius", "sensitivity": "Sensitivity",
           "polarity": "Polarity", "max_tilt_deg": "Max tilt", "lane_width": "Lane width",
           "tail": "Band tail", "flank": "Flank", "min_row_lanes": "Row in lanes (frac.)",
           "min_row_strength": "Min row strength", "border_width": "Border width",
           "ladder": "Ladder lane"}
_STEPS = {"sensitivity": 0.05, "radius": 5, "min_row_lanes": 0.05, "min_row_strength": 0.05,
          "tail": 0.5}


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        return a.shape == b.shape and list(a.columns) == list(b.columns) and bool(
            (a.reset_index(drop=True).astype(object) == b.reset_index(drop=True).astype(object))
            .all().all())
    except Exception:
        return False


def _done(event) -> bool:
    return str(getattr(event, "action", "changed")) in _DONE


def _analyse(image, params, kwargs):
    """Worker body: quantify in a thread (yields a progress message first)."""
    from blotquant.blot import quantify_blot

    yield "quantifying"
    kwargs = dict(kwargs)
    if params is None:                    # a review's keywords carry their own model
        params = kwargs.pop("params", None)
    return quantify_blot(image, params, **kwargs)


class BlotReviewWidget(ReviewDock):
    """Dock widget: quantify the selected blot and review lanes and bands."""

    KIND = "blot"
    RUN_TEXT = "Quantify"

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent=None):
        self.review = BlotReview()
        self.rows_input = RowsInput()
        self.model = None  # BlotParams of the shown result
        self.normalized: pd.DataFrame | None = None
        self.lanes_layer = None
        self.bands_layer = None
        self._raw_image = None
        self._edit_t0 = None
        self._loaded_boxes = None
        self._pending_moves: dict = {}  # band index -> rectangle, drawn after the tables
        #: seconds from the last layer edit to updated tables (set after each re-quantification)
        self.last_edit_latency = float("nan")
        super().__init__(napari_viewer, parent)

    # ------------------------------------------------------------------ UI
    def _build(self):
        from blotquant.blot.params import BlotParams

        lay = QVBoxLayout(self)
        self._image_row(lay, "Blot image layer to analyse")
        self.run_btn.setToolTip("Find lanes and bands and measure volumes (replaces edits)")

        box = QGroupBox("Parameters")
        form = QFormLayout(box)
        self.lanes_field = ParamField(BlotParams, "lanes")
        self.lanes_spin = self.lanes_field.widget
        self.rows_edit = QLineEdit()
        self.rows_edit.setPlaceholderText("auto, or names top to bottom: ASNS, ACTB")
        self.rows_edit.setToolTip(BlotParams.spec("rows").help.capitalize() + ". Before "
                                  "Quantify: keeps exactly that many rows. Afterwards: edit "
                                  "the names to rename the rows.")
        self.rows_edit.editingFinished.connect(self._rows_edited)
        self.labels_edit = QLineEdit()
        self.labels_edit.setPlaceholderText("sample names, lane 1 first: ctrl; 1 uM; 10 uM")
        self.labels_edit.setToolTip("One sample name per lane (left to right, strip by strip), "
                                    "separated by ';' or pasted as a column; written into the "
                                    "tables as lane_label")
        self.labels_edit.editingFinished.connect(self._labels_edited)
        form.addRow("Lanes", self.lanes_spin)
        form.addRow("Rows", self.rows_edit)
        form.addRow("Samples", self.labels_edit)
        self.fields: dict[str, ParamField] = {}
        self._param_timer = QTimer(self)
        self._param_timer.setSingleShot(True)
        self._param_timer.setInterval(250)
        self._param_timer.timeout.connect(self._params_changed)
        for name in MAIN_PARAMS:
            f = ParamField(BlotParams, name, step=_STEPS.get(name),
                           on_change=self._param_timer.start)
            self.fields[name] = f
            form.addRow(_LABELS[name], f.widget)
        self.bg_combo = self.fields["background"].widget
        self.radius_spin = self.fields["radius"].widget
        self.sens_spin = self.fields["sensitivity"].widget
        self.polarity_combo = self.fields["polarity"].widget
        self.bg_combo.currentTextChanged.connect(lambda _: self._radius_enabled())
        self._radius_enabled()
        self.advanced = QGroupBox("Advanced detection")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        adv = QFormLayout(self.advanced)
        for name in ADVANCED_PARAMS:
            f = ParamField(BlotParams, name, step=_STEPS.get(name),
                           on_change=self._param_timer.start)
            self.fields[name] = f
            adv.addRow(_LABELS[name], f.widget)
        self.advanced.toggled.connect(self._show_advanced)
        self._show_advanced(False)
        form.addRow(self.advanced)
        self.redetect_btn = QPushButton("Re-detect bands in these lanes")
        self.redetect_btn.setToolTip("Keep the reviewed lanes, find their bands again")
        self.redetect_btn.clicked.connect(self.redetect_bands)
        form.addRow(self.redetect_btn)
        lay.addWidget(box)
        self._requant_timer = QTimer(self)
        self._requant_timer.setSingleShot(True)
        self._requant_timer.setInterval(REQUANT_DELAY_MS)
        self._requant_timer.timeout.connect(self._requantify_now)

        self._status_row(lay)
        self.help = QLabel("Review in the canvas: select the <b>lanes</b> or <b>bands</b> "
                           "layer, then move, resize, draw or delete shapes; the numbers "
                           "update after each edit.")
        self.help.setWordWrap(True)
        lay.addWidget(self.help)

        prof = QHBoxLayout()
        self.lane_spin = QSpinBox()
        self.lane_spin.setRange(1, 99)
        self.lane_spin.setPrefix("profile of lane ")
        self.lane_spin.setToolTip("Lane whose profile is plotted (or select a lane shape)")
        self.lane_spin.valueChanged.connect(lambda _: self._show_profile())
        prof.addWidget(self.lane_spin)
        prof.addStretch(1)
        lay.addLayout(prof)
        self.plot = ProfilePlot(self)
        lay.addWidget(self.plot)

        norm = QGroupBox("Normalization: target / control per lane")
        norm.setToolTip("ratio = target volume / control volume; relative = ratio / ratio of "
                        "the reference lane")
        nrow = QHBoxLayout(norm)
        self.target_combo, self.control_combo, self.ref_combo = (
            self._combo(), self._combo(), self._combo())
        for text, combo in (("target", self.target_combo), ("/ control", self.control_combo),
                            ("ref. lane", self.ref_combo)):
            nrow.addWidget(QLabel(text))
            nrow.addWidget(combo, 1)
        self.ref_combo.setToolTip("Lane whose relative ratio is 1.0")
        lay.addWidget(norm)

        self.tabs = QTabWidget()
        self.norm_table, self.bands_table, self.lanes_table = (QTableWidget(), QTableWidget(),
                                                               QTableWidget())
        self.tabs.addTab(self.norm_table, "Normalized")
        self.tabs.addTab(self.bands_table, "Bands")
        self.tabs.addTab(self.lanes_table, "Lanes")
        self._stale_tabs: set = set()  # tables filled when their tab is shown
        self.tabs.currentChanged.connect(lambda _: self._fill_visible_tables())
        self.tabs.setMinimumHeight(180)
        lay.addWidget(self.tabs, 1)
        self._save_row(lay, "Resume a review: quantify with a saved sidecar's lanes, bands "
                            "and parameters")

    def _combo(self):
        from qtpy.QtWidgets import QComboBox

        c = QComboBox()
        c.currentTextChanged.connect(lambda _: self._update_normalized())
        return c

    def _radius_enabled(self):
        self.radius_spin.setEnabled(self.bg_combo.currentText() == "rolling-ball")

    def _show_advanced(self, on: bool):
        for f in (self.fields[n] for n in ADVANCED_PARAMS):
            f.widget.setVisible(on)
            label = self.advanced.layout().labelForField(f.widget)
            if label is not None:
                label.setVisible(on)

    # ------------------------------------------------------------------ params
    def rows(self) -> list[str]:
        """Names in the Rows field."""
        return list(RowsInput.parse(self.rows_edit.text()))

    def values(self) -> dict:
        """The method parameters shown in the dock (model field -> value)."""
        return {name: f.value() for name, f in self.fields.items()}

    def params(self):
        """The :class:`~blotquant.blot.params.BlotParams` of the fields (no rows, lanes)."""
        return quantify_params(self.values())

    def _core_image(self, layer):
        from blotquant.io import to_gray

        img = core_image(layer)
        if img.metadata.axes == "YXC" and not img.metadata.channels_equal:
            img = to_gray(img)
        return img

    def _image_chosen(self):
        layer = self._selected_layer()
        if self.result is None or layer is self.image_layer:
            return
        # another image: nothing of the previous review carries over
        self.rows_edit.setText(self.rows_input.cleared(self.rows_edit.text()))
        self.labels_edit.setText("")
        self.review = BlotReview()
        self._pending_moves = {}
        self.result = self.normalized = self.model = None
        for attr in ("lanes_layer", "bands_layer"):
            ly = getattr(self, attr)
            if ly is not None and ly in self.viewer.layers:
                self.viewer.layers.remove(ly)
            setattr(self, attr, None)
        for t in (self.norm_table, self.bands_table, self.lanes_table):
            fill_table(t, None)
        self.plot.show_profile(None)
        self.status.message(f"{layer.name if layer is not None else 'no image'}: "
                            f"press Quantify")

    # ------------------------------------------------------------------ analysis
    def _prepare(self, layer) -> bool:
        """Check the layer is a blot and take it; False (with a message) if not."""
        if layer is None:
            self.status.message("open or select a blot image first", error=True)
            return False
        if layer.multiscale:
            self.status.message("whole-slide images belong in the IHC review dock", error=True)
            return False
        raw = core_image(layer)
        problem = kind_problem(raw, "blot")
        if problem:
            self.status.message(f"{layer.name}: {problem}", error=True)
            return False
        self.image_layer = layer
        self._raw_image = raw  # as read: what the sidecar fingerprints
        self._image = self._core_image(layer)
        return True

    def run(self):
        """Quantify the selected image from scratch (lane and band detection)."""
        layer = self._selected_layer()
        same = layer is self.image_layer and self.result is not None
        if not self._prepare(layer):
            return None
        try:
            model = self.params().replace(
                lanes=self.lanes_field.value(),
                rows=self.rows_input.for_run(self.rows_edit.text(), same_image=same))
        except Exception as exc:  # ParameterError: the message says what to fix
            self._on_error(exc)
            return None
        self.review.labels = split_labels(self.labels_edit.text())
        return self.runner.submit(_analyse, self._image, model,
                                  {"image_name": self.image_name()},
                                  label="finding lanes and bands", meta=("full", model))

    def redetect_bands(self):
        """Keep the reviewed lanes, detect bands again (drops band edits)."""
        if self.result is None:
            return self.run()
        model = self._current_model()
        if model is None:
            return None
        return self.runner.submit(_analyse, self._image, model,
                                  {"image_name": self.image_name(),
                                   "lane_geometry": list(self.review.lanes)},
                                  label="detecting bands", meta=("full", model))

    def _current_model(self):
        """The shown result's model with the method fields as they are now."""
        try:
            base = self.model if self.model is not None else quantify_params({})
            return base.replace(**self.values())
        except Exception as exc:
            self._on_error(exc)
            return None

    def _apply_corrections(self, layer, corr):
        from blotquant.review import blot_kwargs

        if not self._prepare(layer):
            return None
        kw = blot_kwargs(corr)
        reviewed = kw.pop("params")
        geometry = {k: kw.pop(k) for k in ("lane_geometry", "band_boxes") if k in kw}
        try:
            values = {k: v for k, v in reviewed.quantify_dict().items() if k != "rows"}
            model = quantify_params(values).replace(rows=reviewed.rows)
        except Exception as exc:
            self._on_error(exc)
            return None
        for name, f in self.fields.items():
            f.set_value(getattr(model, name))
        self._radius_enabled()
        self.rows_input = RowsInput()
        self._loaded_boxes = geometry.get("band_boxes")
        self._restore_labels()
        return self.runner.submit(_analyse, self._image, model,
                                  {"image_name": self.image_name(), **geometry},
                                  label="quantifying with corrections", meta=("full", model))

    def _restore_labels(self):
        """Sample names from the lanes table saved next to the loaded sidecar, if any."""
        table = self._loaded_from.parent / "lanes.csv"
        labels = []
        if table.is_file():
            try:
                labels = labels_from_table(pd.read_csv(table, keep_default_na=False),
                                           self.image_name())
            except Exception:  # an unreadable table: no labels, the review still loads
                labels = []
        self.labels_edit.setText("; ".join(labels))
        self.review.labels = labels

    def corrections(self, author: str | None = None):
        """The current review as a Corrections object (what Save writes)."""
        model = self.model if self.model is not None else self.params()
        return self.review.corrections(self._raw_image, params=recorded_params(model),
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
        return self.runner.submit(_analyse, self._image, None, kw, label="re-quantifying",
                                  meta=("edit", None), quiet=True)

    def _params_changed(self):
        if self.result is None:
            return
        model = self._current_model()
        if model is not None and model != self.model:
            self.model = model
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
        self.rows_input.filled(self.review.rows)
        feats = self.bands_layer.features.copy()
        feats["row"] = feats["row"].map(lambda r: mapping.get(r, r))
        self._set_features(self.bands_layer, feats)
        self.requantify()

    def _labels_edited(self):
        self.review.labels = split_labels(self.labels_edit.text())
        if self.result is None:
            return
        if self.lanes_layer is not None:
            feats = self.lanes_layer.features.copy()
            feats["label"] = [self.review.label(int(n)) for n in feats["lane"]]
            self._set_features(self.lanes_layer, feats)
        self._update_tables()

    # ------------------------------------------------------------------ results
    def _on_result(self, result, meta):
        kind, model = meta
        self.result = result
        if kind == "full":
            self.model = model
            self._load_layers(result)
            self._fit_view()
        else:
            self._update_bands(result)
        self._update_tables()
        if self._edit_t0 is not None and kind == "edit":
            self.last_edit_latency = time.perf_counter() - self._edit_t0
            self._edit_t0 = None
        b = result.bands
        n_sat = int(b["saturated"].sum()) if len(b) else 0
        n_miss = int(b["flags"].astype(str).str.contains("not_detected").sum()) if len(b) else 0
        self.status.message(
            f"{len(result.lanes)} lanes, {len(b)} bands"
            + (f", {n_sat} saturated (red)" if n_sat else "")
            + (f", {n_miss} not detected (orange)" if n_miss else "")
            + f" ({self.runner.last_elapsed * 1000:.0f} ms)")

    def _on_error(self, exc):
        from blotquant.errors import AnalysisError

        if isinstance(exc, AnalysisError) and self.image_layer is not None:
            problem = kind_problem(core_image(self.image_layer), "blot")
            if problem:
                exc = AnalysisError(problem)
        super()._on_error(exc)

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
        self.rows_edit.setText(self.rows_input.filled(self.review.rows))
        self.viewer.layers.selection.active = self.lanes_layer
        self.lanes_layer.mode = "select"

    def _update_bands(self, result):
        """New numbers on the same shapes; bands that follow a moved lane are redrawn."""
        layer = self.bands_layer
        matched = self.review.match_result(result)
        if layer is None or not len(matched):
            return
        feats = layer.features.copy()
        by_uid = {int(r["uid"]): r for r in matched.to_dict("records")}
        data = layer.data
        moved = {}
        vol, sat, flags, band = (feats[c].tolist() for c in ("volume", "saturated", "flags",
                                                              "band"))
        for i, uid in enumerate(feats["uid"].astype(int).tolist()):
            m = by_uid.get(uid)
            if m is None:
                continue
            vol[i], sat[i] = float(m["volume"]), bool(m["saturated"])
            flags[i], band[i] = str(m["flags"] or ""), int(m["band"])
            if not self.review.band_box_edited.get(uid, False):
                rect = L.box_rect(m["top"], m["bottom"], m["left"], m["right"])
                if data[i].shape != rect.shape or not np.allclose(data[i], rect, atol=1e-3):
                    moved[i] = rect
                    self.review.band_rects[uid] = rect
        feats["volume"], feats["saturated"], feats["flags"], feats["band"] = (
            vol, sat, flags, band)
        old_colors = L.band_colors(layer.features)
        self._updating = True
        try:
            update_features(layer, feats)
            colors = L.band_colors(feats)
            if colors != old_colors:
                layer.edge_color = colors
        finally:
            self._updating = False
        if moved:  # bands follow their moved lane, drawn right after the tables
            self._pending_moves.update(moved)
            QTimer.singleShot(0, self._apply_moves)

    def _apply_moves(self):
        """Redraw the bands that follow a moved lane (one public ``data`` update)."""
        moved, self._pending_moves = self._pending_moves, {}
        layer = self.bands_layer
        if not moved or layer is None or layer not in self.viewer.layers:
            return
        moved = {i: v for i, v in moved.items() if i < len(layer.data)}
        self._updating = True
        try:
            replace_shapes(layer, moved)
        finally:
            self._updating = False

    @property
    def busy(self) -> bool:
        """A computation or a redraw of the review is still to come."""
        return self.runner.busy or bool(self._pending_moves)

    def _set_features(self, layer, feats):
        self._updating = True
        try:
            layer.features = feats
        finally:
            self._updating = False

    # ------------------------------------------------------------------ edits
    def _on_lanes_data(self, event):
        if self._updating or not _done(event) or self.result is None:
            return
        self._apply_moves()
        self._edit_t0 = time.perf_counter()
        lanes = self.lanes_layer
        before = lanes.features
        feats, renumber = self.review.sync_lanes(list(lanes.data), before)
        if not _same(before, feats):
            self._updating = True
            try:
                colors = L.lane_colors(lanes.features)
                update_features(lanes, feats, text_columns=("lane", "label"))
                if L.lane_colors(feats) != colors:
                    lanes.edge_color = L.lane_colors(feats)
            finally:
                self._updating = False
        self._sync_bands(renumber)
        self.requantify()

    def _on_bands_data(self, event):
        if self._updating or not _done(event) or self.result is None:
            return
        self._apply_moves()
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
                layer.data = [(d, t) for d, t, k in zip(layer.data, layer.shape_type, keep) if k]
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
    def tables(self) -> dict:
        """The dock's tables with the lane labels (what Save writes)."""
        r, labels = self.result, self.review.labels
        out = {"bands": with_lane_labels(r.bands, labels),
               "lanes": with_lane_labels(r.lanes, labels)}
        if self.normalized is not None:
            out["normalized"] = with_lane_labels(self.normalized, labels)
        return out

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
        self._stale_tabs = {self.bands_table, self.lanes_table}
        self._fill_visible_tables()
        self._update_normalized()
        self._show_profile()

    def _fill_visible_tables(self):
        """Fill the Bands / Lanes table when it is shown (hidden ones wait: live edits stay fast)."""
        t = self.tabs.currentWidget()
        if t not in self._stale_tabs or self.result is None:
            return
        self._stale_tabs.discard(t)
        labels = self.review.labels
        if t is self.bands_table:
            fill_table(t, with_lane_labels(self.result.bands, labels), _BAND_TABLE,
                       headers=_HEADERS)
        else:
            fill_table(t, with_lane_labels(self.result.lanes, labels), _LANE_TABLE,
                       headers=_HEADERS)

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
        fill_table(self.norm_table, with_lane_labels(self.normalized, self.review.labels),
                   _NORM_TABLE, headers=_HEADERS)

    def _show_profile(self):
        r = self.result
        lane = int(self.lane_spin.value())
        if r is None or lane not in r.profiles:
            self.plot.show_profile(None)
            return
        bands = r.bands[r.bands["lane"] == lane]
        self.plot.show_profile(r.profiles[lane], bands, lane=lane, rows=r.rows,
                               label=self.review.label(lane))

    # ------------------------------------------------------------------ save
    def _write_tables(self, out: Path) -> dict:
        """bands.csv, lanes.csv, normalized.csv (the CLI's names) with lane labels."""
        from blotquant.tables import write_table

        return {name: write_table(df, out / f"{name}.csv") for name, df in self.tables().items()}
