import math

import pytest

from zoneopt import Scenario, ZoneoptInputError


def test_defaults_follow_the_contract():
    s = Scenario()
    assert s.objective.balance == "dissimilarity"
    assert s.constraints.max_utilization == 1.0 and s.constraints.contiguity is True
    assert math.isinf(s.constraints.max_distance_km)
    assert s.solver.name == "highs" and s.solver.time_limit_s == 300 and s.solver.mip_gap == 0.01


def test_toml_round_trip_keeps_infinities(tmp_path):
    s = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2, "low_income_band": 0.1}})
    path = s.save(tmp_path / "s.toml")
    again = Scenario.from_toml(path)
    assert again.constraints == s.constraints
    assert math.isinf(again.constraints.max_distance_km)


def test_toml_inf_literal_is_read(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[constraints]\nmax_distance_km = inf\nmax_moved_share = 0.3\n")
    s = Scenario.from_toml(path)
    assert math.isinf(s.constraints.max_distance_km) and s.constraints.max_moved_share == 0.3


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"constraint": {}}, "did you mean 'constraints'"),
        ({"constraints": {"max_extra_distance": 1}}, "did you mean 'max_extra_distance_km'"),
        ({"constraints": {"max_distance_km": -1}}, "cannot be negative"),
        ({"constraints": {"min_utilization": 0.9, "max_utilization": 0.8}}, "above max_utilization"),
        ({"constraints": {"min_utilization": -0.1}}, "cannot be below 0"),
        ({"constraints": {"max_moved_share": 1.5}}, "between 0 and 1"),
        ({"constraints": {"contiguity": "maybe"}}, "is not a bool"),
        ({"solver": {"mip_gap": 1}}, "mip_gap"),
        ({"objective": {"balance": "gini"}}, "objective.balance"),
    ],
)
def test_bad_scenarios_name_the_key(data, words):
    with pytest.raises(ZoneoptInputError, match=words):
        Scenario.from_dict(data)


def test_with_values_parses_text_and_rejects_unknown_keys():
    s = Scenario().with_values({"constraints.max_extra_distance_km": "2.5"})
    assert s.constraints.max_extra_distance_km == 2.5
    with pytest.raises(ZoneoptInputError, match="unknown key"):
        Scenario().with_values({"constraints.nope": 1})


def test_describe_speaks_plainly():
    s = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2, "max_moved_share": 0.2}})
    text = " ".join(s.describe())
    assert "2 km farther" in text and "20% of students" in text
