"""What binds when no plan is found: sentences in a planner's numbers, in the plan year that binds."""

import numpy as np

from zoneopt import Scenario
from zoneopt.model import eligible_pairs
from zoneopt.solve.binding import binding_rules
from zoneopt.solve.moves import seat_limits


def test_binding_rules_name_schools_outside_a_narrow_band(grid_district):
    scenario = Scenario.from_dict({"constraints": {"low_income_band": 0.01}})
    rules = " ".join(binding_rules(grid_district, scenario, eligible_pairs(grid_district, scenario)))
    assert "outside the low-income band" in rules
    assert any(str(sid) in rules for sid in grid_district.school_ids)


def test_a_multi_year_plan_names_the_plan_year_whose_seats_bind(tmp_path):
    from years_districts import growing_grid

    district, scenario = growing_grid(tmp_path, 0, capacity_slack=1.7)
    eligible = eligible_pairs(district, scenario)
    # today's zones fit today's seats: only the projected years overfill a school
    hi, _ = seat_limits(district, scenario)
    today = np.bincount(district.status_quo, weights=district.students,
                        minlength=district.n_schools)
    assert (today <= hi).all()
    rules = " ".join(binding_rules(district, scenario, eligible))
    # the centre grows fastest: S2 falls short in the fastest-growing series' last plan year
    assert "in 2029 (high), under today's zones 1 school(s) are over" in rules
    from zoneopt.years import enrollment, years_data

    data = years_data(district, scenario)
    enr = enrollment(data, district.status_quo)  # (years, series, schools)
    limit, _ = data.limits()
    y, k = data.years.index(2029), data.series.index("high")
    need, seats = enr[y, k, 2], limit[y, 2]
    assert (enr - limit[:, None, :]).clip(0).sum(axis=2).argmax() == y * len(data.series) + k
    assert f"S2 {need:.0f} students for {seats:.0f} seats ({need - seats:.0f} short)" in rules
    # without the plan years the same district binds on nothing of capacity
    plain = Scenario.from_dict({"constraints": {"max_utilization": 1.1}})
    assert "short" not in " ".join(binding_rules(district, plain, eligible_pairs(district, plain)))
