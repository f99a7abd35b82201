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


def _zone_neighbours(district, assign):
    """School -> schools whose zones touch it (computed here from the unit graph, on its own)."""
    rows, cols = district.adjacency.nonzero()
    out = {j: set() for j in range(district.n_schools)}
    for u, v in zip(rows.tolist(), cols.tolist(), strict=True):
        if assign[u] != assign[v]:
            out[int(assign[u])].add(int(assign[v]))
    return out


def test_a_block_of_overfull_zones_that_its_border_cannot_relieve_is_named_with_its_numbers():
    from zoneopt import District
    from zoneopt.synthetic import synthetic_district

    units, schools = synthetic_district(200, 10, seed=0)
    sq = District.from_frames(units, schools).status_quo
    students = units["students"].to_numpy()
    enr = np.bincount(sq, weights=students, minlength=10)
    near = _zone_neighbours(District.from_frames(units, schools), sq)
    # School 0 and the zones touching it lack a third of their seats; every other school is full
    # but for the one farthest (in rings of zones) from the block, which has all the room.
    block = sorted({0} | near[0])
    ring1 = sorted(set().union(*(near[j] for j in block)) - set(block))
    far = [j for j in range(10) if j not in block and j not in ring1]
    assert ring1 and far  # the district has a second ring
    cap = enr.copy()
    cap[block] = np.floor(enr[block] * 2 / 3)
    cap[far[-1]] += 2 * (enr[block] - cap[block]).sum()
    capped = schools.copy()
    capped["capacity"] = cap.astype(int)
    before = capped.copy()
    district = District.from_frames(units, capped)
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 1.0}})
    rules = binding_rules(district, scenario, eligible_pairs(district, scenario))
    assert before.drop(columns="geometry").equals(capped.drop(columns="geometry"))  # untouched
    # The overfull schools' home units may only go to their own school, but that is the contract
    # (a zone holds its school), not a distance limit: they are not "units that reach no room".
    assert not any("can reach no school with room" in r for r in rules)
    short = (enr[block] - cap[block]).sum()
    sentence = next(r for r in rules if "neighbouring zones" in r)
    assert sentence.startswith(f"{len(block)} neighbouring zones (")
    assert f"together hold {short:.0f} more students than seats" in sentence
    assert f"the {len(ring1)} zone(s) bordering them have 0 free seats" in sentence
    rings, seen, frontier = 1, set(block) | set(ring1), set(ring1)
    while far[-1] not in seen:
        frontier = set().union(*(near[j] for j in frontier)) - seen
        seen |= frontier
        rings += 1
    assert f"the seats they lack are up to {rings} rings of zones away" in sentence
    # Not named when the zones around the block have the seats it lacks.
    roomy = capped.copy()
    roomy.loc[ring1[0], "capacity"] = int(cap[ring1[0]] + 2 * short)
    district = District.from_frames(units, roomy)
    rules = binding_rules(district, scenario, eligible_pairs(district, scenario))
    assert not any("neighbouring zones" in r for r in rules)
