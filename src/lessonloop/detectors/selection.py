"""Choosing one candidate configuration from a table of utilities, with a one-standard-error rule.

With 0-4 labelled windows per series, candidates whose utilities differ by less than their
standard error are statistically tied; picking the numerically best among ties chases noise.
The rule picks the *first* candidate (candidates are listed from simplest to most elaborate)
whose total is within `tolerance` standard errors of the best one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["first_near_best"]


def first_near_best(table: npt.NDArray[np.float64], tolerance: float) -> int:
    """Row of `table` (candidates x series) to choose; tolerance 0 gives the plain argmax.

    The standard error of a candidate's shortfall is that of the sum over series of its
    paired difference to the best candidate.
    """
    totals = table.sum(axis=1)
    best = int(np.argmax(totals))
    if tolerance <= 0 or table.shape[1] < 2:
        return best
    shortfall = table[best] - table
    standard_error = shortfall.std(axis=1, ddof=1) * np.sqrt(table.shape[1])
    near = np.flatnonzero(totals >= totals[best] - tolerance * standard_error)
    return int(near[0])
