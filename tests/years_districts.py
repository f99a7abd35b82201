"""Small multi-year districts for the tests: projections written as the contract's CSV."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from districts import grid_frames


def write_projections(path, unit_ids, counts, lows, years, series, grades=None):
    """Write ``counts[y][s][i]`` (or ``[y][s][i][g]`` with ``grades``) as a projections CSV."""
    rows = []
    for a, year in enumerate(years):
        for b, ser in enumerate(series):
            for i, uid in enumerate(unit_ids):
                if grades is None:
                    rows.append((uid, year, ser, int(counts[a][b][i]), int(lows[a][b][i])))
                else:
                    for g in range(grades):
                        rows.append((uid, year, ser, g, int(counts[a][b][i][g]),
                                     int(lows[a][b][i][g])))
    cols = ["unit_id", "year", "series", "students", "low_income"]
    if grades is not None:
        cols.insert(3, "grade")
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    return path


def growing_projection(district, path, *, years=(2027, 2028, 2029), series=("mid", "high"),
                       growth=0.06, seed=0, grades=None):
    """Each unit grows at its own pace (east faster); ``high`` grows 1.5 times as fast as ``mid``."""
    rng = np.random.default_rng(seed)
    n = district.n_units
    pace = rng.uniform(-growth, 2 * growth, size=n)
    share = np.divide(district.low_income, district.students, out=np.zeros(n),
                      where=district.students > 0)
    counts, lows = [], []
    for k, _year in enumerate(years, start=1):
        cy, ly = [], []
        for b, _ser in enumerate(series):
            factor = (1 + pace * (1 + 0.5 * b)) ** k
            st = np.rint(district.students * factor).astype(int)
            if grades is None:
                cy.append(st)
                ly.append(np.rint(st * share).astype(int))
            else:
                per = st[:, None] // grades + (np.arange(grades)[None, :] < (st % grades)[:, None])
                cy.append(per)
                ly.append(np.minimum(np.rint(per * share[:, None]).astype(int), per))
        counts.append(cy)
        lows.append(ly)
    return write_projections(path, district.unit_ids, counts, lows, years, series, grades)


def growing_grid(tmp_path, seed, capacity_slack):
    """An 8 x 8 grid with 5 schools whose units grow over 2027-2029 (series mid and high, the
    centre fastest), and a scenario planning those years at ``max_utilization`` 1.1."""
    from zoneopt import District, Scenario

    units, schools = grid_frames(8, 8, [0, 7, 27, 56, 63], seed=seed,
                                 capacity_slack=capacity_slack)
    district = District.from_frames(units, schools)
    path = growing_projection(district, tmp_path / "p.csv", seed=seed)
    scenario = Scenario.from_dict({
        "years": {"projections": str(path), "plan": [2027, 2028, 2029], "series": ["mid", "high"]},
        "constraints": {"max_utilization": 1.1}})
    return district, scenario


def two_by_two_transition(tmp_path):
    """A 2 x 2 district where today's best plan overfills school S0 in the transition year 2027.

    Units U0000 (S0's home), U0001, U0002, U0003 (S1's home); U0001 attends S0 today, U0002 S1.
    Under today's counts only two plans fit: swapping U0001 and U0002 (the balanced one) and sending
    both to S1. In 2027 grades 4 and 5 of U0001 stay at S0 (grandfathered) while U0002's new
    students arrive, so the swap puts 200 students in S0's 190 seats.
    """
    students = np.array([120, 120, 60, 120])
    low = np.array([96, 96, 0, 0])
    units, schools = grid_frames(2, 2, [0, 3], students=students, low_income=low,
                                 capacities=[190, 310])
    units["current_school"] = ["S0", "S0", "S1", "S1"]
    per_grade = students // 6
    low_grade = low // 6
    years = (2027, 2028)
    counts = [[[[per_grade[i]] * 6 for i in range(4)]] for _ in years]
    lows = [[[[low_grade[i]] * 6 for i in range(4)]] for _ in years]
    path = write_projections(tmp_path / "projections.csv", [f"U{i:04d}" for i in range(4)],
                             counts, lows, years, ("mid",), grades=6)
    return gpd.GeoDataFrame(units), schools, path


__all__ = ["write_projections", "growing_projection", "two_by_two_transition"]
