# The two set-up commands of the README. Both work on a fresh Debian/Ubuntu
# machine with python3 (>= 3.11), python3-venv and make.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= demo_output

.PHONY: demo test docs venv clean ext

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install the package and run the main job on the bundled sample images.
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[io]"
	$(BIN)/blotquant demo --out $(OUT)

# Install everything (napari extra included) and run the whole test suite.
# GUI tests run under Xvfb (pytest-xvfb) and are required, not skipped; so is
# the compiled pixel kernel (the install builds it: hatch_build.py).
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	BLOTQUANT_REQUIRE_GUI=1 BLOTQUANT_REQUIRE_C=1 $(BIN)/python -m pytest -n 2 --dist loadgroup tests blotquant

# (Re)build the C pixel kernel next to its source (after editing the .c file, or
# in a checkout used through PYTHONPATH instead of an install).
ext:
	$(PY) hatch_build.py --inplace

# Build the API reference (Sphinx + numpydoc, sources in docs/api) into
# docs/_build/html. Any warning fails the build (docs/dev/docs.md).
docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -E -W --keep-going -b html docs/api docs/_build/html

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache docs/_build blotquant/ihc/_pixelc*.so blotquant/ihc/_cellc*.so
