import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario, check_plan


@pytest.fixture
def line_district():
    # 1 x 6 strip, schools at both ends
    units, schools = grid_frames(1, 6, [0, 5], students=np.full(6, 10),
                                 low_income=np.array([0, 0, 0, 10, 10, 10]), capacities=[40, 40])
    return District.from_frames(units, schools)


def test_a_good_plan_passes_and_its_figures_are_derived(line_district):
    report = check_plan(line_district, Scenario(), np.array([0, 0, 0, 1, 1, 1]))
    assert report.ok, report.violations
    assert report.figures["dissimilarity_after"] == pytest.approx(1.0)
    assert report.figures["contiguous"] is True


def test_capacity_violation_is_reported(line_district):
    s = Scenario.from_dict({"constraints": {"max_utilization": 0.5}})
    report = check_plan(line_district, s, np.array([0, 0, 0, 1, 1, 1]))
    assert not report.ok and any("above 0.5 x capacity" in v for v in report.violations)


def test_disconnected_zone_is_reported(line_district):
    report = check_plan(line_district, Scenario(), np.array([0, 1, 0, 1, 1, 1]))
    assert any("not connected" in v for v in report.violations)
    relaxed = Scenario.from_dict({"constraints": {"contiguity": False}})
    assert check_plan(line_district, relaxed, np.array([0, 1, 0, 1, 1, 1])).ok


def test_home_unit_must_go_to_its_school(line_district):
    report = check_plan(line_district, Scenario(), np.array([1, 1, 1, 1, 1, 1]))
    assert any("home unit" in v for v in report.violations)


def test_distance_limits_band_and_moved_share(line_district):
    plan = np.array([0, 0, 0, 0, 1, 1])
    s = Scenario.from_dict({"constraints": {"max_extra_distance_km": 0.5}})
    assert any("farther than its nearest" in v for v in check_plan(line_district, s, plan).violations)
    s = Scenario.from_dict({"constraints": {"max_distance_km": 2.5}})
    assert any("above max_distance_km" in v for v in check_plan(line_district, s, plan).violations)
    s = Scenario.from_dict({"constraints": {"low_income_band": 0.1}})
    assert any("low_income_band" in v for v in check_plan(line_district, s, plan).violations)
    s = Scenario.from_dict({"constraints": {"max_moved_share": 0.1}})
    assert any("max_moved_share" in v for v in check_plan(line_district, s, plan).violations)


def test_locked_units_and_reported_figures_are_compared(line_district):
    units, schools = grid_frames(1, 6, [0, 5])
    units["locked_school"] = [None, None, None, "S0", None, None]
    d = District.from_frames(units, schools)
    assert any("locked" in v for v in check_plan(d, Scenario(), np.array([0, 0, 0, 1, 1, 1])).violations)
    good = check_plan(line_district, Scenario(), np.array([0, 0, 0, 1, 1, 1]))
    summary = dict(good.figures, dissimilarity_after=0.5, bound=2.0)
    bad = check_plan(line_district, Scenario(), np.array([0, 0, 0, 1, 1, 1]), summary=summary)
    assert any("dissimilarity_after" in v for v in bad.violations)
    assert any("bound" in v for v in bad.violations)


def test_assignment_by_ids_with_unknown_school(line_district):
    mapping = {f"U{i:04d}": "S0" for i in range(6)}
    mapping["U0005"] = "NOPE"
    assert not check_plan(line_district, Scenario(), mapping).ok
