"""Small Qt helpers shared by the docks: a coalescing worker runner, tables, layers."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QTableWidget,
                            QTableWidgetItem, QWidget)

from ._reader import META_KEY, PATH_KEY


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


def fill_table(table: QTableWidget, df: pd.DataFrame | None, columns=None, digits: int = 4,
               headers: dict | None = None):
    """Show a DataFrame in a read-only QTableWidget (numbers to ``digits`` significant).

    ``headers`` renames columns for display only.
    """
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
    for i, row in enumerate(df.itertuples(index=False)):
        for j, v in enumerate(row):
            if isinstance(v, (float, np.floating)):
                if np.isnan(v):
                    text = ""
                elif float(v).is_integer() and abs(v) < 1e6:
                    text = str(int(v))
                else:
                    text = f"{v:.{digits}g}"
            else:
                text = str(v)
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(i, j, item)
    table.resizeColumnsToContents()


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

    Uses napari's per-shape edit (much faster than re-setting ``layer.data``,
    which rebuilds every shape) and falls back to the public setter when the
    private API differs.  Emits no data event.
    """
    if not changes:
        return
    try:
        view = layer._data_view
        for i, v in changes.items():
            view.edit(int(i), np.asarray(v, dtype=float))
        layer.refresh()
    except Exception:  # pragma: no cover - other napari versions
        data = list(layer.data)
        for i, v in changes.items():
            data[int(i)] = np.asarray(v, dtype=float)
        layer.data = [(d, t) for d, t in zip(data, layer.shape_type)]


class ImageDockMixin:
    """What both review docks share: the image-layer picker, the image name, errors.

    A dock sets ``self.viewer``, ``self.image_combo`` and ``self.image_layer`` and
    may override :meth:`_accepts_layer` to narrow which Image layers it offers.
    """

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

    def image_name(self) -> str:
        """File name of the analysed image (layer name when it has no file)."""
        from pathlib import Path

        path = layer_path(self.image_layer) if self.image_layer is not None else None
        return Path(path).name if path else (self.image_layer.name if self.image_layer else "image")

    def _on_error(self, exc):
        self.status.message(f"{type(exc).__name__}: {exc}", error=True)
        try:
            from napari.utils.notifications import show_error

            show_error(f"blotquant: {exc}")
        except Exception:  # pragma: no cover
            pass
