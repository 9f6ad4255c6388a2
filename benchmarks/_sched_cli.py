"""``blotquant ARGS`` in this process, with where each tile thread's time went (Linux).

Used by ``benchmarks/wsi.py --sched``.  Every tile task (``score_slide``'s
``_score_tile``) is timed by its thread's ``/proc/thread-self/schedstat``:
the task's wall time splits into CPU time (running), run-queue time (ready but
waiting for a core: other jobs on the machine) and the rest, **sleep**: time
the thread was blocked (waiting for the GIL, a lock or I/O).  The run-queue
time is what a loaded machine adds; sleep inside tile tasks is what the
process does to itself, so it can be compared between runs made at
different loads.  Prints one JSON line on stderr (after the CLI's own output):
the sums over the tasks, ``tile_window_s`` (from the run's params.json) and
the process CPU seconds.

Usage::

    python benchmarks/_sched_cli.py ihc SLIDE --out DIR --mode pixel --workers 2
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path


def _stamp():
    """(wall, CPU, run-queue wait) seconds of the calling thread."""
    with open("/proc/thread-self/schedstat") as f:
        run_ns, wait_ns = f.read().split()[:2]
    return time.perf_counter(), int(run_ns) / 1e9, int(wait_ns) / 1e9


def main(argv) -> int:
    from blotquant.cli import main as cli
    from blotquant.ihc import slide

    tot = [0.0, 0.0, 0.0, 0]
    lock = threading.Lock()
    score_tile = slide._score_tile

    def timed(ctx, spec):
        w0, c0, q0 = _stamp()
        try:
            return score_tile(ctx, spec)
        finally:
            w1, c1, q1 = _stamp()
            with lock:
                tot[0] += w1 - w0
                tot[1] += c1 - c0
                tot[2] += q1 - q0
                tot[3] += 1

    slide._score_tile = timed
    rc = cli(list(argv))
    wall, cpu, queue, n = tot
    out = Path(argv[argv.index("--out") + 1])
    timing = json.loads((out / "params.json").read_text()).get("timing", {})
    window = timing.get("last_tile_end_s", 0.0) - timing.get("first_tile_s", 0.0)
    print(json.dumps({"tasks": n, "task_wall_s": wall, "task_cpu_s": cpu,
                      "task_runqueue_s": queue, "task_sleep_s": wall - cpu - queue,
                      "tile_window_s": window, "process_cpu_s": sum(os.times()[:2]),
                      "loadavg": os.getloadavg()[0]}), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
