"""Batch runs: many images -> combined tidy tables, QC figures and one HTML report.

- :mod:`.sheet` -- sample sheets and folder discovery, validated against
  ``BlotParams`` / ``IHCParams`` before any image runs;
- :mod:`.worker` -- the per-image work (runs on dask workers): the same
  ``quantify_blot`` / ``score_ihc`` call as the API and the CLI;
- :mod:`.combine` -- per-image folders -> combined tables; target/loading
  control pairing by the core (:func:`blotquant.blot.normalize.normalize`);
- :mod:`.run` -- :func:`run_batch`: output checks, tasks, resume, execution.
"""

from .run import (EXIT_OK, EXIT_SOME_FAILED, MANIFEST, TABLE_NAMES, BatchResult, build_tasks,
                  engine_fingerprint, file_sha256, is_batch_output, load_sheet,
                  prepare_batch_output, run_batch, task_key)

__all__ = ["run_batch", "BatchResult", "build_tasks", "task_key", "engine_fingerprint",
           "file_sha256", "load_sheet", "is_batch_output", "prepare_batch_output",
           "TABLE_NAMES", "MANIFEST", "EXIT_OK", "EXIT_SOME_FAILED"]
