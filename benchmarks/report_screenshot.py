"""Open a batch report.html in headless Chromium: screenshot + "all images shown" check.

Usage::

    python benchmarks/report_screenshot.py [REPORT.html] [--png out.png]

Without REPORT, runs ``blotquant demo`` into a temporary folder first.

1. Screenshot of the report as it is (``--screenshot``, 1280x2000 window) --
   look at the PNG.
2. A copy of the report with a tiny script appended is loaded with
   ``--dump-dom``; after the page's load event the script records how many
   ``<img>`` elements there are and how many failed to decode
   (``complete && naturalWidth > 0``).  The report itself has no script.

Needs ``chromium`` (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

CHECK = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var p = document.createElement('pre'); p.id = 'imgcheck';
  p.textContent = 'IMGCHECK total=' + imgs.length + ' broken=' + bad.length +
                  ' names=' + bad.map(function (i) { return i.alt; }).join('|');
  document.body.appendChild(p);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("chromium not found: apt-get install -y chromium")


def screenshot(report: Path, png: Path, size="1280,2000") -> None:
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run([chromium(), *FLAGS, f"--user-data-dir={prof}",
                        f"--screenshot={png}", f"--window-size={size}",
                        report.resolve().as_uri()], check=True, capture_output=True,
                       timeout=180)


def check_images(report: Path) -> tuple[int, int, str]:
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "report_check.html"
        copy.write_text(report.read_text(encoding="utf-8").replace(
            "</body>", CHECK + "</body>"), encoding="utf-8")
        prof = Path(d) / "profile"
        r = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={prof}",
                            "--virtual-time-budget=10000", "--dump-dom", copy.as_uri()],
                           capture_output=True, text=True, timeout=180)
    m = re.search(r"IMGCHECK total=(\d+) broken=(\d+) names=([^<]*)", r.stdout)
    if not m:
        sys.exit("the check script did not run:\n" + r.stderr[-2000:])
    return int(m.group(1)), int(m.group(2)), m.group(3)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("report", nargs="?")
    ap.add_argument("--png", default="report_screenshot.png")
    a = ap.parse_args()
    if a.report:
        report = Path(a.report)
    else:
        out = Path(tempfile.mkdtemp(prefix="bq_demo_")) / "demo"
        subprocess.run([sys.executable, "-m", "blotquant", "demo", "--out", str(out), "-q",
                        "--workers", "2", "--threads"], check=True)
        report = out / "report.html"
    n_src = len(re.findall(r"<img\b", report.read_text(encoding="utf-8")))
    screenshot(report, Path(a.png))
    total, broken, names = check_images(report)
    print(f"{report}: {n_src} <img> in the HTML; Chromium loaded {total}, broken {broken}"
          + (f" ({names})" if broken else ""))
    print(f"screenshot: {Path(a.png).resolve()}")
    return 0 if total == n_src and broken == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
