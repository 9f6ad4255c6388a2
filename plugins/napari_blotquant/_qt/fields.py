"""Qt widgets built from the parameter models (via :mod:`.._state.forms`)."""

from __future__ import annotations

from qtpy.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from .._state.forms import FieldSpec, field_spec, value_of

_AUTO = "auto"


class ParamField:
    """One parameter's widget: built from the model, read back as the model's value.

    Parameters
    ----------
    model : type
        ``BlotParams`` or ``IHCParams`` (or ``CellParams``).
    name : str
        The parameter.
    options : sequence, optional
        Choices for a field whose check has no ``options`` (e.g. ``stains``);
        the caller checks them against the model.
    step, decimals : optional
        Spin-box presentation.
    """

    def __init__(self, model, name: str, *, options=None, step=None, decimals=None,
                 on_change=None):
        self.spec: FieldSpec = field_spec(model, name)
        self.name = name
        s = self.spec
        if options is not None:
            w = QComboBox()
            w.addItems([str(o) for o in options])
            w.setCurrentText(str(s.default))
            self._kind = "choice"
        elif s.kind == "choice":
            w = QComboBox()
            items = ([_AUTO] if s.auto and None not in s.options else []) + \
                [str(o) for o in s.options if o is not None]
            w.addItems(items)
            w.setCurrentText(_AUTO if s.default is None else str(s.default))
            self._kind = "choice"
        elif s.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(s.default))
            self._kind = "bool"
        elif s.kind in ("int", "float"):
            w = QSpinBox() if s.kind == "int" else QDoubleSpinBox()
            if s.kind == "float":
                w.setDecimals(decimals if decimals is not None else 2)
            lo = s.minimum
            if s.auto:  # one step below the smallest value means "auto"
                lo = (s.minimum - 1) if s.kind == "int" else 0.0
                w.setSpecialValueText(_AUTO)
            w.setRange(lo, s.maximum)
            if step is not None:
                w.setSingleStep(step)
            w.setValue(lo if s.default is None else s.default)
            if s.unit and s.unit not in ("%",):
                w.setSuffix(f" {s.unit}")
            self._kind = s.kind
        else:
            w = QLineEdit()
            d = s.default
            w.setPlaceholderText(_AUTO if d is None else (
                ",".join(map(str, d)) if isinstance(d, tuple) else str(d)))
            self._kind = "text"
        w.setToolTip(s.tooltip)
        self.widget: QWidget = w
        if on_change is not None:
            self.changed().connect(lambda *_: on_change())

    def changed(self):
        """The widget's value-changed signal."""
        w = self.widget
        if isinstance(w, QComboBox):
            return w.currentTextChanged
        if isinstance(w, QCheckBox):
            return w.toggled
        if isinstance(w, QLineEdit):
            return w.editingFinished
        return w.valueChanged

    def value(self):
        """The value as the model expects it (``auto`` -> None; empty text -> default)."""
        w = self.widget
        if isinstance(w, QComboBox):
            t = w.currentText()
            return None if (t == _AUTO and self.spec.auto) else t
        if isinstance(w, QCheckBox):
            return bool(w.isChecked())
        if isinstance(w, QLineEdit):
            t = w.text().strip()
            return t if t else self.spec.default
        return value_of(self.spec, w.value())

    def set_value(self, v, *, quiet: bool = True) -> None:
        """Show ``v`` (a model value); ``quiet`` blocks the changed signal."""
        w = self.widget
        w.blockSignals(quiet)
        try:
            if isinstance(w, QComboBox):
                w.setCurrentText(_AUTO if v is None else str(v))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QLineEdit):
                w.setText("" if v is None or v == self.spec.default else (
                    ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)))
            else:
                w.setValue(w.minimum() if v is None else v)
        finally:
            w.blockSignals(False)
