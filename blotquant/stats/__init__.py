"""Biomarker statistics: replicates, correlation, Fisher's exact test, 4PL IC50.

- :func:`summarize_replicates` -- mean ± SD (n, SEM) per condition
- :func:`correlate`, :func:`biomarker_vs_sensitivity` -- ASNS level vs IC50:
  Pearson r and Spearman rho with p-values (optionally on log10 IC50)
- :func:`cohort_vs_clinical` -- IHC H-score high/low at a cut-off vs a
  clinical group (e.g. KRAS status): 2x2 table, Fisher exact test, odds ratio
- :func:`viability`, :func:`fit_4pl`, :func:`fit_plate` -- MTT plates:
  blank subtraction, % viability, 4-parameter logistic IC50 with 95% CI
- :mod:`blotquant.stats.plots` -- the figures

Every number comes from scipy (``pearsonr``, ``spearmanr``,
``fisher_exact``, ``curve_fit``); see ``docs/stats.md`` for the formulas.
"""

from .contingency import (FisherResult, cohort_vs_clinical, dichotomize, fisher_2x2,
                          patient_scores)
from .correlation import (CorrelationResult, biomarker_vs_sensitivity, correlate,
                          spearman_exact_p)
from .doseresponse import (DoseResponseFit, fit_4pl, fit_plate, fourpl, read_plate,
                           simulate_mtt_plate, viability)
from .replicates import summarize_replicates

__all__ = ["summarize_replicates", "correlate", "biomarker_vs_sensitivity",
           "CorrelationResult", "spearman_exact_p", "cohort_vs_clinical", "dichotomize", "fisher_2x2",
           "patient_scores", "FisherResult", "fourpl", "fit_4pl", "fit_plate",
           "read_plate", "viability", "simulate_mtt_plate", "DoseResponseFit"]
