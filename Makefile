# The two set-up commands of the README. Both work on a fresh Debian/Ubuntu
# machine with python3 (>= 3.11), python3-venv and make.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= demo_output

.PHONY: demo test docs venv clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install the package and run the main job on the bundled sample images.
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[io]"
	$(BIN)/blotquant demo --out $(OUT)

# Install everything (napari extra included) and run the whole test suite.
# GUI tests run under Xvfb (pytest-xvfb) and are required, not skipped.
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	BLOTQUANT_REQUIRE_GUI=1 $(BIN)/python -m pytest -n 2 --dist loadgroup tests blotquant

# Build the API reference (Sphinx + numpydoc, sources in docs/api) into
# docs/_build/html. Any warning fails the build (docs/dev/docs.md).
docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -E -W --keep-going -b html docs/api docs/_build/html

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache docs/_build
