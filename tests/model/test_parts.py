"""Parts of the map that share no boundary with the rest are decided alone (zoneopt.model.parts)."""

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from bruteforce import brute_force
from districts import grid_frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity

from zoneopt import District, Scenario, optimize
from zoneopt.errors import InfeasibleError
from zoneopt.model import eligible_pairs
from zoneopt.model.elastic import plan_exists
from zoneopt.model.parts import map_parts, part_findings


def _row(capacities, shift=20_000.0):
    """A 1 x 5 row of 100-student units between schools S2 (west end) and S3 (east end)."""
    units, schools = grid_frames(1, 5, [0, 4], students=np.full(5, 100), capacities=capacities)
    units["unit_id"] = [f"R{k}" for k in range(5)]
    units["geometry"] = units.geometry.apply(affinity.translate, yoff=shift)
    schools["school_id"] = ["S2", "S3"]
    schools["geometry"] = schools.geometry.apply(affinity.translate, yoff=shift)
    return units, schools


def _two_parts(row_capacities):
    """A roomy 2 x 4 grid (S0, S1) and, far away, the row of :func:`_row`."""
    units, schools = grid_frames(2, 4, [0, 7], students=np.full(8, 100), capacities=[500, 500])
    far_units, far_schools = _row(row_capacities)
    return District.from_frames(
        gpd.GeoDataFrame(pd.concat([units, far_units], ignore_index=True), crs=units.crs),
        gpd.GeoDataFrame(pd.concat([schools, far_schools], ignore_index=True), crs=schools.crs))


def test_map_parts_lists_each_part_with_its_schools_smallest_first():
    district = _two_parts([300, 300])
    parts = map_parts(district)
    assert [(len(u), list(s)) for u, s in parts] == [(5, [2, 3]), (8, [0, 1])]


def test_a_part_with_enough_seats_but_no_connected_split_is_proven_impossible():
    """The row holds 500 students for 510 seats (250 + 260), but each school's zone is a prefix or a
    suffix of the row, so one of them gets at least 300 students. Brute force over the row alone
    agrees; the finding names the part and seats that are enough (S3 +40), which are."""
    district = _two_parts([250, 260])
    scenario = Scenario()
    findings = part_findings(district, scenario, eligible_pairs(district, scenario))
    assert len(findings) == 1
    text = findings[0]
    assert "units R0, R1, R2, R3, R4 share no boundary with the rest of the map" in text
    assert "(S2, S3)" in text and "500 students" in text and "510 seats" in text
    assert "(proven)" in text and "with 40 more seats (S3 +40)" in text
    row_units, row_schools = _row([250, 260])
    assert brute_force(District.from_frames(row_units, row_schools), scenario)[1] is None
    enough_units, enough_schools = _row([250, 300])
    assert plan_exists(District.from_frames(enough_units, enough_schools), scenario) == "yes"


@pytest.mark.parametrize("quick", [1.0, 0.0])
def test_optimize_stops_at_once_with_the_part_finding(monkeypatch, quick):
    """Found by the quick check before the search, or (with no time for it) by the longer one
    after the repair fails."""
    import zoneopt.solve as solve_module

    monkeypatch.setattr(solve_module, "PART_QUICK_S", quick)
    district = _two_parts([250, 260])
    t0 = time.perf_counter()
    with pytest.raises(InfeasibleError) as err:
        optimize(district, Scenario(), time_limit=30)
    assert time.perf_counter() - t0 < 10
    assert "share no boundary with the rest of the map" in str(err.value)


def test_a_part_whose_chain_zones_fit_needs_no_exact_check():
    """Zones that keep every rule of the part are a witness: a part with such zones is not solved
    again; zones over capacity, falling apart, or holding another part's units are not one."""
    from zoneopt.model.parts import _fits, _part

    district = _two_parts([300, 300])
    scenario = Scenario()
    units, schools = map_parts(district)[0]
    part = _part(district, units, schools)
    plan = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3])
    assert _fits(district, scenario, part, plan)
    assert not _fits(district, scenario, part, np.array([0] * 8 + [2, 2, 2, 2, 3]))  # 400 > 300
    assert not _fits(district, scenario, part, np.array([0] * 8 + [2, 3, 2, 3, 3]))  # R2 cut off
    assert not _fits(district, scenario, part, np.array([0] * 8 + [2, 2, 1, 3, 3]))  # not its part


def test_a_part_without_enough_seats_is_reported_by_counting():
    district = _two_parts([200, 200])
    scenario = Scenario()
    findings = part_findings(district, scenario, eligible_pairs(district, scenario))
    assert len(findings) == 1
    assert "hold 500 students, but those schools have 400 seats" in findings[0]
    assert "short by 100" in findings[0]


@pytest.mark.parametrize("constraints", [{}, {"max_moved_share": 0.0}, {"contiguity": False}])
def test_parts_that_have_plans_give_no_finding(constraints):
    """A roomy row gives no finding, nor does a moved-share budget the parts share (the part's
    check leaves it out, so it stays a relaxation), nor a scenario without contiguity."""
    district = _two_parts([300, 300] if constraints != {"contiguity": False} else [250, 260])
    scenario = Scenario.from_dict({"constraints": constraints})
    assert part_findings(district, scenario, eligible_pairs(district, scenario)) == []


def test_a_district_in_one_part_is_left_to_the_search():
    units, schools = _row([250, 260])
    district = District.from_frames(units, schools)
    assert part_findings(district, Scenario(), eligible_pairs(district, Scenario())) == []


@st.composite
def _small_part(draw):
    """A 2 x 3 grid part with two schools, random students and tight random capacities."""
    students = np.array(draw(st.lists(st.integers(10, 120), min_size=6, max_size=6)))
    cells = draw(st.sampled_from([[0, 5], [0, 2], [1, 4], [0, 3]]))
    total = int(students.sum())
    share = draw(st.floats(0.3, 0.7))
    slack = draw(st.sampled_from([1.0, 1.05, 1.15]))
    caps = [int(np.ceil(total * slack * share)), int(np.ceil(total * slack * (1 - share)))]
    return students, cells, caps


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_part())
def test_a_part_is_called_impossible_exactly_when_brute_force_finds_no_plan(part):
    """Generated small parts next to a roomy grid: the finding appears exactly when brute force
    over the part alone (64 assignments) finds no plan, so it never calls a feasible part
    impossible and, on parts this small, always decides."""
    students, cells, caps = part
    units, schools = grid_frames(2, 4, [0, 7], students=np.full(8, 100), capacities=[500, 500])
    far_units, far_schools = grid_frames(2, 3, cells, students=students, capacities=caps)
    far_units["unit_id"] = [f"R{k}" for k in range(6)]
    far_units["geometry"] = far_units.geometry.apply(affinity.translate, yoff=20_000.0)
    far_schools["school_id"] = ["S2", "S3"]
    far_schools["geometry"] = far_schools.geometry.apply(affinity.translate, yoff=20_000.0)
    district = District.from_frames(
        gpd.GeoDataFrame(pd.concat([units, far_units], ignore_index=True), crs=units.crs),
        gpd.GeoDataFrame(pd.concat([schools, far_schools], ignore_index=True), crs=schools.crs))
    scenario = Scenario()
    findings = part_findings(district, scenario, eligible_pairs(district, scenario),
                             time_limit=30)
    alone = brute_force(District.from_frames(far_units, far_schools), scenario)[1]
    assert bool(findings) == (alone is None)
    # The repair's chains as a witness only save time: the same answer without them.
    assert part_findings(district, scenario, eligible_pairs(district, scenario), time_limit=30,
                         witness=False) == findings
