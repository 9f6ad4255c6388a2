"""Regenerate the bundled sample images (deterministic: fixed seeds).

Usage::

    python sample_images/make_samples.py [FOLDER]

Writes the images, ``samples.csv`` (sample sheet), ``mtt_plate.csv`` and
``clinical.csv`` into FOLDER (default: this folder).  What they contain is
described in :mod:`blotquant.synthetic.study`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from blotquant.synthetic.study import write_samples

if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    sheet = write_samples(folder)
    for p in sorted(folder.iterdir()):
        if p.suffix in (".tif", ".png", ".csv"):
            print(f"{p.stat().st_size / 1024:8.1f} KB  {p.name}")
    print(f"sample sheet: {sheet}")
