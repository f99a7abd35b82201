"""CP-SAT on the exact rules (zoneopt.model.cpsat): its plans pass the checker, and it says "no"
exactly where brute force finds no plan."""

import math

import numpy as np
import pytest
from bruteforce import brute_force
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import District, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.model import elastic, eligible_pairs
from zoneopt.model.cpsat import cpsat_modelled, cpsat_plan
from zoneopt.model.elastic import plan_exists
from zoneopt.solve.repair import repair_status_quo
from zoneopt.synthetic import synthetic_district


@st.composite
def tight_cases(draw, contiguity=None):
    district = draw(districts(min_units=5, max_units=9, max_schools=3))
    scenario = Scenario.from_dict({"constraints": {
        "max_extra_distance_km": draw(st.sampled_from([0.3, 1.5, math.inf])),
        "max_utilization": draw(st.sampled_from([0.85, 1.0])),
        "min_utilization": draw(st.sampled_from([0.0, 0.5])),
        "low_income_band": draw(st.sampled_from([math.inf, 0.15])),
        "max_moved_share": draw(st.sampled_from([1.0, 0.4])),
        "contiguity": draw(st.booleans()) if contiguity is None else contiguity,
    }})
    return district, scenario


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(tight_cases())
def test_the_answer_is_brute_forces_and_every_plan_passes_the_checker(case):
    district, scenario = case
    answer, plan = cpsat_plan(district, scenario, eligible_pairs(district, scenario), work=30.0)
    best, _ = brute_force(district, scenario)
    event(f"answer {answer}")
    assert answer != "unknown"  # nine units: CP-SAT settles it at once
    if math.isinf(best):
        assert answer == "no"
    else:
        assert answer == "yes"
        report = check_plan(district, scenario, plan)
        assert report.ok, report.violations


def test_a_shared_home_unit_lets_the_second_school_grow_from_its_neighbours():
    from districts import grid_frames

    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    schools = schools.copy()
    schools.loc[len(schools)] = schools.iloc[1]
    schools.loc[len(schools) - 1, "school_id"] = "S9"
    district = District.from_frames(units, schools)
    assert (district.home_owner != np.arange(district.n_schools)).any()
    scenario = Scenario()
    answer, plan = cpsat_plan(district, scenario, eligible_pairs(district, scenario), work=30.0)
    best, _ = brute_force(district, scenario)
    assert answer == ("no" if math.isinf(best) else "yes")
    if plan is not None:
        assert check_plan(district, scenario, plan).ok


def test_cpsat_finds_a_plan_on_a_tight_district_the_repair_cannot_mend():
    """200 units x 10 schools, every capacity x0.91 (0.1% spare seats), 1.5 km: the repair and the
    feasibility MIPs found no plan in 60 s; CP-SAT on the exact rules finds one after 3.5 units of
    its deterministic time (the same on any machine)."""
    units, schools = synthetic_district(200, 10, seed=2)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * 0.91).astype(int)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    assert repair_status_quo(district, scenario, eligible) is None
    answer, plan = cpsat_plan(district, scenario, eligible, work=4.0)
    assert answer == "yes"
    assert check_plan(district, scenario, plan).ok


def test_optimize_asks_cpsat_when_the_repair_finds_no_plan(monkeypatch):
    from zoneopt import solve

    units, schools = synthetic_district(40, 3, seed=1)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * 0.9).astype(int)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"solver": {"work_budget": 0.1}})
    assert not check_plan(district, scenario, district.status_quo).ok
    monkeypatch.setattr(solve, "_repair_start", lambda *args, **kwargs: None)
    plan = optimize(district, scenario, time_limit=60)
    assert plan.check().ok
    first = next(t for t in plan.trace if t["objective"] is not None)
    assert first["source"] == "CP-SAT feasibility"


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(tight_cases(contiguity=True))
def test_plan_exists_answers_as_brute_force_does_without_its_cut_loop(case):
    """On a small district CP-SAT settles what the closer-neighbour MIP leaves open, so
    plan_exists never needs its cut loop here, and still answers exactly."""
    district, scenario = case
    best, _ = brute_force(district, scenario)

    def no_cut_loop(*args, **kwargs):
        raise AssertionError("the cut loop ran")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(elastic, "_cut_loop", no_cut_loop)
        answer = plan_exists(district, scenario, time_limit=30)
    assert answer == ("no" if math.isinf(best) else "yes")


def test_plan_exists_proves_a_tight_district_the_mips_leave_open(monkeypatch):
    """200 x 10, seats x0.95, 1.5 km: the MIPs and the cut loop left it open after 60 s (141.8 s to
    the proof in the thirteenth session); CP-SAT proves that no plan exists (2.4 s in all)."""
    units, schools = synthetic_district(200, 10, seed=1)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * 0.95).astype(int)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    asked = []
    real = elastic._cpsat_answer

    def spy(*args, **kwargs):
        asked.append(real(*args, **kwargs))
        return asked[-1]

    monkeypatch.setattr(elastic, "_cpsat_answer", spy)
    assert plan_exists(district, scenario, time_limit=30) == "no"
    assert asked == ["no"]


def test_a_multi_year_plan_is_not_modelled(tmp_path):
    from years_districts import growing_projection

    units, schools = synthetic_district(30, 3, seed=1)
    district = District.from_frames(units, schools)
    assert cpsat_modelled(district, Scenario()) == ""
    path = growing_projection(district, tmp_path / "p.csv", growth=0.02)
    years = Scenario.from_dict({"years": {"projections": str(path), "plan": [2027, 2028]}})
    assert "multi-year" in cpsat_modelled(district, years)
