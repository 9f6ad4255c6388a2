"""Qt pieces shared by the docks: the review-dock base, a coalescing worker runner, tables."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                            QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QWidget)

from .._reader import META_KEY, PATH_KEY
from .._state.format import is_number, number_text


class Runner:
    """Run one function at a time in a napari thread worker; coalesce requests.

    ``submit(fn, *args)`` starts ``fn`` in a worker thread, or -- when one is
    running -- remembers it as the *pending* job (replacing an older pending
    one), started when the current one finishes.  Results arrive in the GUI
    thread through ``on_result(value, meta)``; errors through
    ``on_error(exc)``.  ``fn`` may be a generator yielding progress messages
    (str) before returning.
    """

    def __init__(self, on_result: Callable, on_error: Callable, status: "StatusBar"):
        self.on_result = on_result
        self.on_error = on_error
        self.status = status
        self.worker = None
        self._pending = None
        self.last_elapsed = float("nan")

    @property
    def busy(self) -> bool:
        return self.worker is not None or self._pending is not None

    def submit(self, fn: Callable, *args, label: str = "working", meta: Any = None,
               quiet: bool = False, **kwargs):
        """Run ``fn(*args, **kwargs)``; ``quiet`` jobs (live edits) leave the bar alone."""
        job = (fn, args, kwargs, label, meta, quiet)
        if self.worker is not None:
            self._pending = job
            return None
        return self._start(job)

    def _start(self, job):
        fn, args, kwargs, label, meta, quiet = job
        t0 = time.perf_counter()
        # no napari `_progress` and no indeterminate (animated) bar: their repaints
        # contend for the GIL and made the worker 5-10x slower (see docs/plugin.md)
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        self.worker = worker
        if quiet:
            self.status.label.setText(label + " ...")
        else:
            self.status.busy(label, 10)

        def returned(value):
            self.last_elapsed = time.perf_counter() - t0
            if self._pending is None:  # only the newest result is shown
                self.on_result(value, meta)

        def errored(exc):
            if self._pending is None:
                self.on_error(exc)

        def finished():
            self.worker = None
            if self._pending is not None:
                job, self._pending = self._pending, None
                self._start(job)
            elif not quiet:
                self.status.idle()

        worker.returned.connect(returned)
        worker.errored.connect(errored)
        worker.finished.connect(finished)
        if hasattr(worker, "yielded") and not quiet:
            worker.yielded.connect(lambda msg: self.status.busy(str(msg)))
        worker.start()
        return worker


class StatusBar(QWidget):
    """A progress bar (busy indicator while a worker runs) and a status line."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(110)
        self.bar.setTextVisible(False)
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.label = QLabel("ready")
        self.label.setWordWrap(True)
        lay.addWidget(self.bar)
        lay.addWidget(self.label, 1)

    def busy(self, text: str, value: int | None = None):
        """Show a step (a static bar: an animated one would repaint the dock continuously)."""
        self.bar.setRange(0, 100)
        self.bar.setValue(value if value is not None else max(10, min(90, self.bar.value() + 30)))
        self.label.setText(text + " ...")
        self.label.setStyleSheet("")

    def idle(self):
        self.bar.setRange(0, 100)
        self.bar.setValue(100)

    def message(self, text: str, error: bool = False):
        self.label.setText(text)
        self.label.setStyleSheet("color: #ff6b6b;" if error else "")


def fill_table(table: QTableWidget, df: pd.DataFrame | None, columns=None,
               headers: dict | None = None, editable=(), percent=()) -> None:
    """Show a DataFrame in a QTableWidget with readable numbers.

    Numbers get thousands separators and sensible rounding
    (:func:`.._state.format.number_text`); ``percent`` columns one decimal and
    a ``%``.  ``headers`` renames columns for display only; ``editable``
    columns can be edited (the caller listens to ``itemChanged``).
    """
    table.blockSignals(True)
    try:
        table.setSortingEnabled(False)
        table.verticalHeader().setVisible(False)
        if df is None or not len(df):
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        if columns is not None:
            df = df[[c for c in columns if c in df.columns]]
        table.setColumnCount(len(df.columns))
        table.setRowCount(len(df))
        headers = headers or {}
        table.setHorizontalHeaderLabels([headers.get(str(c), str(c)) for c in df.columns])
        flags_ro = None
        for j, col in enumerate(df.columns):
            pct = col in percent
            for i, v in enumerate(df[col].tolist()):
                item = QTableWidgetItem(number_text(v, percent=pct))
                if col not in editable:
                    flags_ro = flags_ro or (item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    item.setFlags(flags_ro)
                if is_number(v):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(i, j, item)
        table.resizeColumnsToContents()
    finally:
        table.blockSignals(False)


def core_image(layer, level: int | None = None):
    """A blotquant Image for an napari image layer (metadata from our reader if any)."""
    from blotquant.image import Image

    md = layer.metadata.get(META_KEY) if isinstance(layer.metadata, dict) else None
    data = layer.data
    if layer.multiscale:
        levels = list(data)
        data = levels[0] if level is None else levels[level]
    if md is None:
        img = Image.from_array(np.asarray(data))
        return img
    if layer.multiscale and level not in (None, 0):
        md = md.replace(shape=tuple(data.shape))
    return Image(data=data, metadata=md)


def layer_path(layer) -> str | None:
    md = layer.metadata if isinstance(layer.metadata, dict) else {}
    p = md.get(PATH_KEY)
    if p:
        return p
    src = getattr(getattr(layer, "source", None), "path", None)
    return str(src) if src else None


def replace_shapes(layer, changes: dict) -> None:
    """Give some shapes of a Shapes layer new vertices (``{index: (N, 2) array}``).

    Public API only: the layer's data is set once with the changed shapes
    (napari keeps features, colours and shape types when the number of shapes
    does not change).  The caller suppresses the data event.
    """
    if not changes:
        return
    data = list(layer.data)
    for i, v in changes.items():
        data[int(i)] = np.asarray(v, dtype=float)
    layer.data = [(d, t) for d, t in zip(data, layer.shape_type)]


def update_features(layer, df: pd.DataFrame, *, text_columns=()) -> None:
    """Give a layer new feature values, cheaply when only values changed.

    Same rows and columns: the changed columns are written into the layer's
    ``features`` table (skipping napari's re-validation of the whole table,
    ~50 ms for a 16-band blot); a changed ``text_columns`` column, a new
    column or another number of rows goes through the ``features`` setter
    (text and defaults refreshed).
    """
    cur = layer.features
    if len(cur) != len(df) or list(cur.columns) != list(df.columns):
        layer.features = df
        return
    changed = [c for c in df.columns
               if not np.array_equal(cur[c].to_numpy(), df[c].to_numpy())]
    if not changed:
        return
    if any(c in text_columns for c in changed):
        layer.features = df
        return
    for c in changed:
        cur[c] = df[c].to_numpy()


class ReviewDock(QWidget):
    """What both review docks share: state attributes, image picker, Save / Load, errors.

    A dock sets :attr:`KIND` (``"blot"`` or ``"ihc"``), builds its widgets in
    ``_build`` (calling :meth:`_image_row`, :meth:`_status_row` and
    :meth:`_save_row`) and implements :meth:`_write_tables` (tables for
    Save), :meth:`corrections` (the sidecar) and :meth:`_apply_corrections`
    (resume from a loaded sidecar).
    """

    KIND = ""
    RUN_TEXT = "Run"

    def __init__(self, napari_viewer, parent=None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.result = None
        self.image_layer = None
        self._image = None
        self._updating = False
        self.last_saved: dict = {}
        self._build()
        self.runner = Runner(self._on_result, self._on_error, self.status)
        self.viewer.layers.events.inserted.connect(self._refresh_images)
        self.viewer.layers.events.removed.connect(self._refresh_images)
        self._refresh_images()
        self.image_combo.currentTextChanged.connect(lambda _: self._image_chosen())
        self._image_chosen()
        self._fit_view()

    @property
    def busy(self) -> bool:
        """A computation is running or queued."""
        return self.runner.busy

    # ------------------------------------------------------------------ shared widgets
    def _image_row(self, lay, tooltip: str):
        row = QHBoxLayout()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip(tooltip)
        self.run_btn = QPushButton(self.RUN_TEXT)
        self.run_btn.clicked.connect(self.run)
        row.addWidget(self.image_combo, 1)
        row.addWidget(self.run_btn)
        lay.addLayout(row)

    def _status_row(self, lay):
        self.status = StatusBar()
        lay.addWidget(self.status)

    def _save_row(self, lay, load_tooltip: str):
        self.load_btn = QPushButton("Load corrections...")
        self.load_btn.setToolTip(load_tooltip)
        self.load_btn.clicked.connect(lambda: self.load_corrections())
        lay.addWidget(self.load_btn)
        row = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("output folder")
        browse = QPushButton("...")
        browse.setMaximumWidth(30)
        browse.setToolTip("Choose the output folder")
        browse.clicked.connect(self._browse)
        self.save_btn = QPushButton("Save tables + corrections")
        self.save_btn.setToolTip("Write the tables and the corrections sidecar "
                                 "(the image itself is never written)")
        self.save_btn.clicked.connect(lambda: self.save())
        row.addWidget(self.out_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.save_btn)
        lay.addLayout(row)

    def _browse(self):
        d = QFileDialog.getExistingDirectory(self, "Output folder", self.out_edit.text())
        if d:
            self.out_edit.setText(d)

    # ------------------------------------------------------------------ images
    def _accepts_layer(self, layer) -> bool:
        from napari.layers import Image as ImageLayer

        return isinstance(layer, ImageLayer)

    def _refresh_images(self, event=None):
        current = self.image_combo.currentText()
        names = [ly.name for ly in self.viewer.layers if self._accepts_layer(ly)]
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItems(names)
        if current in names:
            self.image_combo.setCurrentText(current)
        elif names:
            active = self.viewer.layers.selection.active
            if active is not None and active.name in names:
                self.image_combo.setCurrentText(active.name)
        self.image_combo.blockSignals(False)
        if self.image_combo.currentText() != current:
            self._image_chosen()

    def _selected_layer(self):
        name = self.image_combo.currentText()
        if name and name in self.viewer.layers:
            return self.viewer.layers[name]
        active = self.viewer.layers.selection.active
        return active if active is not None and self._accepts_layer(active) else None

    def _image_chosen(self):
        """Another image was picked: forget what belonged to the previous one (override)."""

    def image_name(self) -> str:
        """File name of the analysed image (layer name when it has no file)."""
        from pathlib import Path

        path = layer_path(self.image_layer) if self.image_layer is not None else None
        return Path(path).name if path else (self.image_layer.name if self.image_layer else "image")

    def _fit_view(self):
        """Fit the canvas to the layers (after the dock opens, after a new analysis)."""
        if len(self.viewer.layers):
            self.viewer.reset_view()

    def showEvent(self, event):  # noqa: N802 (Qt API)
        """Once docked, the canvas is narrower: fit the view again (once, when first shown)."""
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            QTimer.singleShot(0, self._fit_view)

    # ------------------------------------------------------------------ save / load
    def save(self, out_dir=None, author: str | None = None) -> dict:
        """Write the tables and the sidecar ``<safe image stem>.blotquant.json``.

        Returns ``{name: path}`` (empty when nothing was saved).
        """
        from blotquant.review import save_corrections

        from .._state.blot import sidecar_file

        if self.result is None:
            self.status.message(f"nothing to save: press {self.RUN_TEXT} first", error=True)
            return {}
        out_dir = out_dir or self.out_edit.text()
        if not out_dir:
            out_dir = QFileDialog.getExistingDirectory(self, "Save into folder")
            if not out_dir:
                return {}
            self.out_edit.setText(str(out_dir))
        out = Path(out_dir)
        try:
            paths = self._write_tables(out)
            paths["corrections"] = save_corrections(self.corrections(author=author),
                                                    sidecar_file(self.image_name(), out))
        except Exception as exc:  # a folder that cannot be written: say so
            self._on_error(exc)
            return {}
        self.last_saved = paths
        self.status.message(f"saved {', '.join(p.name for p in paths.values())} to {out}")
        return paths

    def load_corrections(self, path=None):
        """Resume a review from a saved sidecar (checked to fit the selected image)."""
        from blotquant.review import load_corrections

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
                                    kind=self.KIND)
        except Exception as exc:  # CorrectionsError: says what does not fit
            self._on_error(exc)
            return None
        self._loaded_from = Path(path)
        return self._apply_corrections(layer, corr)

    def _write_tables(self, out: Path) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    def _apply_corrections(self, layer, corr):  # pragma: no cover - overridden
        raise NotImplementedError

    # ------------------------------------------------------------------ errors
    def _on_error(self, exc):
        self.status.message(f"{type(exc).__name__}: {exc}", error=True)
        try:
            from napari.utils.notifications import show_error

            show_error(f"blotquant: {exc}")
        except Exception:  # pragma: no cover
            pass
