"""Batch runs: every good file done, bad files listed, resumable after kill -9."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blotquant.batch import EXIT_SOME_FAILED, run_batch
from blotquant.batch.worker import DONE

# keep module fixtures on one xdist worker (make test: -n 2 --dist loadgroup)
pytestmark = pytest.mark.xdist_group("batch")

N_GOOD, N_BAD = 12, 2
TABLES = ("bands.csv", "lanes.csv", "normalized.csv", "errors.csv")


def _write_blots(folder: Path, n: int, *, shape=(120, 200), lanes=4) -> list[Path]:
    import tifffile

    from blotquant.synthetic import make_blot

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        b = make_blot(i, shape=shape, n_lanes=lanes)
        p = folder / f"blot{i:02d}.tif"
        tifffile.imwrite(p, b.image)
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def blot_folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("blots")
    _write_blots(d, N_GOOD)
    (d / "corrupt_a.tif").write_bytes(b"II*\x00" + bytes(range(256)) * 3)  # bad TIFF
    (d / "corrupt_b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)  # truncated
    (d / "notes.txt").write_text("not an image")
    return d


@pytest.fixture(scope="module")
def reference_run(blot_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    res = run_batch(blot_folder, out, workers=2, processes=False, progress=False, qc=False)
    return res, out


def test_all_good_files_done_bad_files_listed(reference_run):
    res, out = reference_run
    assert res.n_images == N_GOOD + N_BAD
    assert res.n_failed == N_BAD and res.exit_status == EXIT_SOME_FAILED
    errors = pd.read_csv(out / "errors.csv")
    assert list(errors.columns) == ["file", "error_type", "message"]
    assert sorted(errors["file"]) == ["corrupt_a.tif", "corrupt_b.png"]
    assert errors["message"].str.len().gt(5).all()
    bands = pd.read_csv(out / "bands.csv")
    assert sorted(bands["image"].unique()) == [f"blot{i:02d}.tif" for i in range(N_GOOD)]
    for col in ("image", "params_hash", "version", "sample", "condition", "replicate"):
        assert col in bands.columns
    assert bands["version"].eq(__import__("blotquant").__version__).all()
    assert bands["params_hash"].str.len().eq(12).all()
    norm = pd.read_csv(out / "normalized.csv")
    assert set(norm["image"]) == set(bands["image"])
    assert np.isfinite(norm["ratio"]).all()
    # per-image folders: tables, thumbnail, marker last
    done = sorted(out.glob(f"images/*/{DONE}"))
    assert len(done) == N_GOOD
    for m in done:
        assert (m.parent / "bands.csv").is_file() and (m.parent / "thumb.png").is_file()
        assert json.loads(m.read_text())["status"] == "ok"
    assert (out / "report.html").is_file()
    run = json.loads((out / "run.json").read_text())
    assert run["n_failed"] == N_BAD and run["n_analysed"] == N_GOOD


def test_rerun_skips_finished_images(reference_run, blot_folder):
    res, out = reference_run
    before = {p: (out / p).read_bytes() for p in TABLES}
    again = run_batch(blot_folder, out, workers=0, progress=False, report=False, qc=False)
    assert again.n_skipped == N_GOOD and again.n_done == 0
    assert again.n_failed == N_BAD  # bad files are retried, and fail again
    for p, b in before.items():
        assert (out / p).read_bytes() == b, p


def test_changed_parameters_or_content_redo(blot_folder, tmp_path):
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    n = 4
    for i in range(n):
        shutil.copy(blot_folder / f"blot{i:02d}.tif", src)
    out = tmp_path / "out"
    run_batch(src, out, workers=0, progress=False, report=False, qc=False)
    r2 = run_batch(src, out, workers=0, progress=False, report=False, qc=False,
                   blot_params={"sensitivity": 0.4})
    assert r2.n_skipped == 0 and r2.n_done == n
    # touch one file's content: only that one is redone
    import tifffile

    a = tifffile.imread(src / "blot03.tif")
    a[0, 0] ^= 1
    tifffile.imwrite(src / "blot03.tif", a)
    r3 = run_batch(src, out, workers=0, progress=False, report=False, qc=False,
                   blot_params={"sensitivity": 0.4})
    assert (r3.n_skipped, r3.n_done) == (n - 1, 1)


def _cli(args, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "blotquant", *args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_killed_run_resumes_to_identical_tables(blot_folder, reference_run, tmp_path):
    """kill -9 of the main process half-way: its dask worker processes exit too;
    the restarted run skips the finished images and ends with identical tables."""
    _, ref = reference_run
    out = tmp_path / "out"
    # 0.4 s per image makes "half-way" deterministic on any machine
    proc = _cli(["batch", str(blot_folder), "--out", str(out), "--workers", "2", "-q",
                 "--no-qc"], env={"BLOTQUANT_TEST_TASK_DELAY": "0.4"})
    deadline = time.time() + 90
    while time.time() < deadline:
        if len(list(out.glob(f"images/*/{DONE}"))) >= 4 or proc.poll() is not None:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before it could be killed"
    children = _children(proc.pid)
    assert children, "expected dask worker processes"
    proc.kill()  # SIGKILL, main process only
    proc.wait(timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not any(_alive(c) for c in children), "orphaned worker processes"
    n_before = len(list(out.glob(f"images/*/{DONE}")))
    assert 4 <= n_before < N_GOOD
    assert not (out / "bands.csv").exists()

    res = run_batch(blot_folder, out, workers=2, processes=False, progress=False, qc=False)
    assert res.exit_status == EXIT_SOME_FAILED
    assert res.n_skipped == n_before and res.n_done == N_GOOD - n_before
    assert res.n_failed == N_BAD
    for p in TABLES:
        assert (out / p).read_bytes() == (ref / p).read_bytes(), p


def _children(pid: int) -> list[int]:
    tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if not tasks:  # pragma: no cover - non-Linux
        pytest.skip("needs /proc")
    out = []
    for t in tasks:
        try:
            out += [int(x) for x in t.read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"


def test_missing_file_in_sheet_is_an_error_row(tmp_path, blot_folder):
    (tmp_path / "s.csv").write_text(f"file\n{blot_folder / 'blot00.tif'}\nmissing.tif\n")
    res = run_batch(tmp_path / "s.csv", tmp_path / "out", workers=0, progress=False,
                    report=False, qc=True)
    assert res.n_failed == 1 and res.exit_status == EXIT_SOME_FAILED
    assert "not found" in res.errors["message"].iloc[0]
    # the engine's QC figure is drawn for the good image
    qc = list((tmp_path / "out").glob("images/*/qc.png"))
    assert len(qc) == 1 and qc[0].stat().st_size > 1000


def test_cli_bad_source_is_fatal(tmp_path):
    from blotquant.cli import main

    assert main(["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 1


def test_review_sidecar_is_honoured_and_redoes_the_image(blot_folder, tmp_path):
    """A sidecar (corrections.find_sidecar) changes the analysis and the resume key."""
    import shutil

    from blotquant.review import blot_corrections, save_corrections, sidecar_path
    from blotquant.io import read_image

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(blot_folder / "blot01.tif", src)
    out = tmp_path / "out"
    r1 = run_batch(src, out, workers=0, progress=False, report=False, qc=False)
    lanes1 = r1.tables["lanes"]
    assert len(lanes1) == 4
    # the reviewer names the rows and keeps only lanes 1-3 (lane 4 deleted)
    from blotquant import quantify_blot

    img = read_image(src / "blot01.tif")
    geo = [g for g in quantify_blot(img).lane_geometry if g.lane <= 3]
    corr = blot_corrections(img, lanes=geo, rows=["ASNS", "ACTB"], path=src / "blot01.tif")
    save_corrections(corr, sidecar_path(src / "blot01.tif", out))
    r2 = run_batch(src, out, workers=0, progress=False, report=False, qc=False)
    assert r2.n_done == 1 and r2.n_skipped == 0  # the sidecar is part of the key
    assert sorted(r2.tables["lanes"]["lane"]) == [1, 2, 3]
    assert set(r2.tables["bands"]["row"]) == {"ASNS", "ACTB"}
    norm = r2.tables["normalized"]
    assert set(norm["target"]) == {"ASNS"} and set(norm["control"]) == {"ACTB"}
    r3 = run_batch(src, out, workers=0, progress=False, report=False, qc=False,
                   use_sidecars=False)
    assert sorted(r3.tables["lanes"]["lane"]) == [1, 2, 3, 4] and r3.n_skipped == 1


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_table_formats(blot_folder, tmp_path, fmt):
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(blot_folder / "blot02.tif", src)
    res = run_batch(src, tmp_path / "out", workers=0, progress=False, report=False,
                    qc=False, fmt=fmt)
    p = tmp_path / "out" / f"bands.{fmt}"
    assert res.paths["bands"] == p
    df = pd.read_parquet(p) if fmt == "parquet" else pd.read_excel(p)
    assert len(df) == len(res.tables["bands"]) and "params_hash" in df.columns
    assert (tmp_path / "out" / "errors.csv").is_file()  # errors stay CSV


def test_existing_dask_scheduler(blot_folder, tmp_path):
    import shutil

    from distributed import LocalCluster

    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        shutil.copy(blot_folder / f"blot{i:02d}.tif", src)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None, protocol="tcp") as cluster:
        res = run_batch(src, tmp_path / "out", scheduler=cluster.scheduler_address,
                        progress=False, report=False, qc=False)
    assert res.n_done == 3 and res.exit_status == 0


def test_output_folder_inside_the_image_folder_is_not_scanned(blot_folder, tmp_path):
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(blot_folder / "blot00.tif", src)
    r1 = run_batch(src, src / "out", workers=0, progress=False, qc=False)
    r2 = run_batch(src, src / "out", workers=0, progress=False, qc=False)
    assert r1.n_images == r2.n_images == 1 and r2.n_skipped == 1


def test_key_covers_content_params_version_and_code(monkeypatch):
    import blotquant.batch.run as b

    sha = "ab" * 32
    k = b.task_key(sha, {"radius": 50})
    assert k == b.task_key(sha, {"radius": 50}, b.engine_fingerprint())
    assert k != b.task_key("cd" * 32, {"radius": 50})
    assert k != b.task_key(sha, {"radius": 51})
    assert k != b.task_key(sha, {"radius": 50}, "another-code")
    monkeypatch.setattr(b, "__version__", "9.9.9")
    assert k != b.task_key(sha, {"radius": 50})
