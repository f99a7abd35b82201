"""The local search's multi-year loads agree with the definitions after any sequence of moves."""

import numpy as np
from districts import grid_frames
from years_districts import growing_projection

from zoneopt import District, Scenario
from zoneopt.solve.years import year_loads
from zoneopt.years import balance_value, enrollment, years_data


def _grandfathering_grid(tmp_path, seed, capacity_slack, constraints=None):
    """A 4 x 4 grid, two schools, growing by grade over 2027-2029 with grade 5 grandfathered."""
    units, schools = grid_frames(4, 4, [0, 15], seed=seed, capacity_slack=capacity_slack)
    district = District.from_frames(units, schools)
    path = growing_projection(district, tmp_path / "p.csv", grades=6)
    scenario = Scenario.from_dict({
        "years": {"projections": str(path), "plan": [2027, 2028, 2029], "series": ["mid", "high"]},
        "transition": {"start_year": 2027, "grandfather_grades": [5]},
        "constraints": constraints or {}})
    return district, scenario


def test_loads_fit_and_gain_match_a_full_recount(tmp_path):
    district, scenario = _grandfathering_grid(tmp_path, 3, 1.2)
    data = years_data(district, scenario)
    assign = district.status_quo.copy()
    loads = year_loads(district, scenario, assign)
    rng = np.random.default_rng(0)
    outcomes = set()
    hi, _ = data.limits()  # no min_utilization: a school losing a unit always fits
    for _ in range(40):
        i = int(rng.integers(district.n_units))
        a, b = int(assign[i]), 1 - int(assign[i])
        after = assign.copy()
        after[i] = b
        expected_gain = balance_value(data, assign) - balance_value(data, after)
        assert np.isclose(loads.gain(i, a, b), expected_gain, atol=1e-12)
        # the school that gains stays within its seats in every year and series
        fits = bool((enrollment(data, after)[:, :, b] <= hi[:, None, b] + 1e-9).all())
        assert loads.fits(i, a, b) == fits
        outcomes.add(fits)
        loads.move(i, a, b)
        assign = after
        assert np.allclose(loads.enr, enrollment(data, assign).reshape(-1, district.n_schools).T)
    assert outcomes == {True, False}


def test_repair_seats_count_each_year_and_their_pooled_counts_fit_every_year(tmp_path):
    from zoneopt.solve.years import repair_seats

    district, scenario = _grandfathering_grid(tmp_path, 5, 1.3, {"max_utilization": 1.1})
    data = years_data(district, scenario)
    seats = repair_seats(district, scenario)
    students, fewest = seats.pooled()
    hi, _ = data.limits()
    rng = np.random.default_rng(1)
    pooled_fits = broken = 0
    for _ in range(200):
        assign = rng.integers(0, 2, district.n_units)
        assign[district.home_unit] = [0, 1]
        enr = enrollment(data, assign)  # (Y, S, m), grandfathered students included
        over = np.maximum(enr - hi[:, None, :], 0).max(axis=(0, 1))
        counted = np.zeros_like(seats.free)
        np.add.at(counted, assign, seats.loads)
        assert np.allclose(np.maximum(counted - seats.free, 0).max(axis=1), over)
        broken += bool((over > 0).any())
        pooled = np.bincount(assign, weights=students, minlength=2)
        if (pooled <= fewest).all():  # fits the pooled counts -> fits every year and series
            pooled_fits += 1
            assert (over == 0).all()
    assert pooled_fits > 0 and broken > 0
    assert repair_seats(district, scenario.with_values({"constraints.min_utilization": 0.2})) is None
