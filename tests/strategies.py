"""Hypothesis strategies: districts and scenarios generated on grids with holes."""

from __future__ import annotations

import numpy as np
from districts import grid_frames
from hypothesis import strategies as st

from zoneopt import District, Scenario


@st.composite
def districts(draw, min_units=10, max_units=60, max_schools=5, tiers=0):
    """A grid district with random holes (which can leave islands), 2..max_schools schools; with
    ``tiers``, an ``ses_tier`` column in 1..tiers, tied to the units' low-income share."""
    rows = draw(st.integers(2, 8))
    cols = draw(st.integers(max(2, -(-min_units // rows)), max(2, max_units // rows)))
    n = rows * cols
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    m = draw(st.integers(2, max(2, min(max_schools, n // 3))))
    cells = sorted(rng.choice(n, size=m, replace=False).tolist())
    students = rng.integers(0, 150, n)
    low = (students * rng.beta(2, 3, n)).round().astype(int)
    slack = draw(st.sampled_from([1.05, 1.2, 1.6]))
    units, schools = grid_frames(rows, cols, cells, students=students, low_income=low,
                                 capacity_slack=slack, seed=seed)
    drop = [i for i in range(n) if i not in cells and rng.random() < draw(st.sampled_from([0, 0.1]))]
    units = units.drop(index=drop).reset_index(drop=True)
    if draw(st.booleans()):
        units["current_school"] = [f"S{rng.integers(m)}" for _ in range(len(units))]
    if tiers:
        share = units["low_income"] / units["students"].clip(lower=1)
        noisy = share * tiers + rng.uniform(-0.5, 0.5, len(units))
        units["ses_tier"] = np.clip(np.floor(noisy).astype(int) + 1, 1, tiers)
    return District.from_frames(units, schools)


@st.composite
def scenarios(draw, time_limit=3.0, mode="auto"):
    """A scenario mixing the contract's constraints at random."""
    c = {
        "max_utilization": draw(st.sampled_from([1.0, 1.2])),
        "max_extra_distance_km": draw(st.sampled_from([float("inf"), 1.5, 3.0])),
        "contiguity": draw(st.booleans()),
        "max_moved_share": draw(st.sampled_from([1.0, 0.6])),
        "low_income_band": draw(st.sampled_from([float("inf"), 0.25])),
    }
    o = {
        "distance_weight": draw(st.sampled_from([0.0, 0.01])),
        "moved_weight": draw(st.sampled_from([0.0, 0.05])),
    }
    return Scenario.from_dict({"constraints": c, "objective": o,
                               "solver": {"time_limit_s": time_limit, "contiguity_model": mode}})
