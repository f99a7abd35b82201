"""The least widening of the distance limits that allows a plan (zoneopt.model.distance_steps)."""

import math
import re
import time

import pytest
from bruteforce import brute_force
from districts import grid_frames
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import District, Scenario
from zoneopt.model import distance_steps
from zoneopt.model.distance_steps import DISTANCE_STEPS_KM, NO, OPEN, YES, distance_finding


def _left(seconds: float):
    end = time.perf_counter() + seconds
    return lambda: max(0.0, end - time.perf_counter())


def _least_step_by_brute_force(district, scenario) -> float | None:
    c = scenario.constraints
    for step in DISTANCE_STEPS_KM:
        wider = scenario.with_values({"constraints.max_extra_distance_km":
                                      c.max_extra_distance_km + step})
        if math.isfinite(brute_force(district, wider)[0]):
            return step
    return None


@st.composite
def tight_cases(draw):
    district = draw(districts(min_units=6, max_units=9, max_schools=3))
    scenario = Scenario.from_dict({"constraints": {
        "max_extra_distance_km": draw(st.sampled_from([0.0, 0.3])),
        "max_utilization": draw(st.sampled_from([0.9, 1.0])),
        "contiguity": draw(st.booleans()),
    }})
    return district, scenario


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(tight_cases())
def test_the_least_step_named_is_the_least_step_brute_force_finds_a_plan_at(case):
    district, scenario = case
    found = distance_finding(district, scenario, _left(30.0))
    least = _least_step_by_brute_force(district, scenario)
    event(f"least step {least}")
    if least is None:
        assert "does not help" in found, found
        return
    said = re.match(r"or allow ([\d.]+) km more travel \(max_extra_distance_km", found)
    assert said, found
    assert float(said.group(1)) == least
    assert "not settled" not in found
    if least > DISTANCE_STEPS_KM[0]:
        narrower = DISTANCE_STEPS_KM[DISTANCE_STEPS_KM.index(least) - 1]
        assert f"({narrower:g} km more would not be enough)" in found


def test_one_lp_says_no_widening_helps_when_seats_are_short_everywhere(monkeypatch):
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 0.5,
                                                   "max_utilization": 0.5}})
    calls = []
    real = distance_steps._lp_has_no_solution
    monkeypatch.setattr(distance_steps, "_lp_has_no_solution",
                        lambda *a: calls.append(a) or real(*a))

    def never(*_a, **_k):
        raise AssertionError("the widest step's LP settles every step: nothing else may run")

    monkeypatch.setattr(distance_steps, "_quick_answer", never)
    monkeypatch.setattr(distance_steps, "_repaired", never)
    monkeypatch.setattr(distance_steps, "_exists", never)
    found = distance_finding(District.from_frames(units, schools), scenario, _left(30.0))
    assert found == "allowing up to 5 km more travel (max_extra_distance_km) does not help"
    assert len(calls) == 1


def test_a_plan_from_the_repair_answers_yes_without_any_mip(monkeypatch):
    # Two schools; the west one has seats for half its nearest units only: with 0.5 km more travel
    # the middle column may go east, which the repair finds.
    units, schools = grid_frames(2, 4, [0, 3], seed=1, capacities=[150, 2000])
    units["students"] = 60
    units["low_income"] = 20
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 0.0}})

    def no_mip(*_a, **_k):
        raise AssertionError("the repair's plan settles the step: no MIP may run")

    monkeypatch.setattr("zoneopt.model.elastic.plan_exists", no_mip)
    found = distance_finding(district, scenario, _left(30.0))
    least = _least_step_by_brute_force(district, scenario)
    assert least is not None
    assert found.startswith(f"or allow {least:g} km more travel (max_extra_distance_km 0 -> ")


def test_no_finite_distance_limit_gives_no_finding():
    units, schools = grid_frames(2, 3, [0, 5], seed=1)
    assert distance_finding(District.from_frames(units, schools), Scenario(), _left(5.0)) == ""


@pytest.mark.parametrize(("answers", "words"), [
    ([NO, YES, YES, YES], "or allow 1 km more travel (max_extra_distance_km 1 -> 2): a plan then "
                          "exists (0.5 km more would not be enough)"),
    ([OPEN, OPEN, YES, YES], "or allow 2 km more travel (max_extra_distance_km 1 -> 3): a plan then "
                             "exists (whether 0.5 or 1 km would do was not settled within the "
                             "time limit)"),
    ([YES, YES, YES, YES], "or allow 0.5 km more travel (max_extra_distance_km 1 -> 1.5): a plan "
                           "then exists"),
    ([NO, NO, OPEN, OPEN], "whether up to 5 km more travel would allow a plan was not settled "
                           "within the time limit (1 km more would not be enough)"),
    ([OPEN] * 4, "whether up to 5 km more travel would allow a plan was not settled within the "
                 "time limit"),
    ([NO] * 4, "allowing up to 5 km more travel (max_extra_distance_km) does not help"),
])
def test_the_words_say_what_was_settled_and_what_was_not(answers, words):
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.0}})
    assert distance_steps._words(scenario, ["max_extra_distance_km"], DISTANCE_STEPS_KM,
                                 answers) == words
