"""Comparing plans side by side, parsing --vary, and the scenario-file errors a planner meets."""

import math

import numpy as np
import pandas as pd
import pytest
from districts import grid_frames

from zoneopt import District, Plan, Scenario, ZoneoptInputError
from zoneopt.scenarios import (
    check_values,
    compare,
    compare_html,
    compare_schools,
    parse_vary,
    solve_order,
)


@pytest.fixture(scope="module")
def small_district():
    units, schools = grid_frames(3, 4, [0, 11], seed=3)
    return District.from_frames(units, schools)


@pytest.fixture(scope="module")
def two_plans(small_district):
    """Today's zones and a plan that moves the two middle columns' first row to the other school."""
    d = small_district
    today = Plan.from_assignment(d, Scenario(), d.status_quo)
    moved = d.status_quo.copy()
    moved[[1, 2]] = 1 - moved[[1, 2]]
    looser = Scenario.from_dict({"constraints": {"max_moved_share": 0.5}})
    other = Plan.from_assignment(d, looser, moved)
    return today, other


# ------------------------------------------------------------------------------------ compare
def test_compare_has_one_column_per_plan_and_every_summary_figure(two_plans):
    today, other = two_plans
    table = compare({"today": today, "moved <2>": other})
    assert list(table.columns) == ["today", "moved <2>"]
    summary_keys = [k for k in today.summary if k != "scenario"]
    assert list(table.index[: len(summary_keys)]) == summary_keys
    for key in summary_keys:
        assert table.loc[key, "today"] == today.summary[key]
        assert table.loc[key, "moved <2>"] == other.summary[key]
    assert table.loc["students_moved", "today"] == 0
    assert table.loc["students_moved", "moved <2>"] == other.summary["students_moved"] > 0


def test_compare_lists_only_the_scenario_settings_that_differ(two_plans):
    table = compare(list(two_plans))
    assert list(table.columns) == ["plan 1", "plan 2"]
    scenario_rows = [r for r in table.index if r.startswith("scenario: ")]
    assert scenario_rows == ["scenario: constraints.max_moved_share"]
    assert list(table.loc["scenario: constraints.max_moved_share"]) == [1.0, 0.5]


def test_compare_labels_repeated_titles_apart(small_district):
    s = Scenario.from_dict({"report": {"title": "Option A"}})
    p = Plan.from_assignment(small_district, s, small_district.status_quo)
    assert list(compare([p, p]).columns) == ["Option A", "Option A (2)"]


def test_compare_shows_a_failed_plans_diagnosis(small_district, two_plans):
    failed = Plan.failed(small_district, Scenario(), "infeasible", ["school S0 needs 5 more seats"],
                         0.1, "highs")
    table = compare({"ok": two_plans[0], "impossible": failed})
    assert table.loc["status", "impossible"] == "infeasible"
    assert table.loc["dissimilarity_after", "impossible"] is None
    assert table.loc["diagnosis", "impossible"] == "school S0 needs 5 more seats"
    assert table.loc["diagnosis", "ok"] == ""


def test_compare_rejects_what_is_not_a_plan():
    with pytest.raises(ValueError, match="at least one plan"):
        compare([])
    with pytest.raises(TypeError, match="not a zoneopt Plan"):
        compare({"x": 3})


def test_compare_schools_matches_each_plans_schools_table(small_district, two_plans):
    today, other = two_plans
    table = compare_schools({"today's zones": today, "new": other})
    assert list(table.index) == list(small_district.school_ids)
    assert table.columns.names == ["figure", "plan"]
    own = other.schools_table.set_index("school_id")
    for figure in ("enrollment", "utilization", "low_income_share", "mean_distance_km"):
        np.testing.assert_allclose(table[(figure, "new")], own[f"{figure}_after"])
        np.testing.assert_allclose(table[(figure, "today")], own[f"{figure}_before"])
    np.testing.assert_allclose(table[("students_gained", "new")], own["students_gained"])
    # The plan that keeps today's zones changes nothing.
    np.testing.assert_allclose(table[("enrollment", "today's zones")], table[("enrollment", "today")])
    assert table[("enrollment", "new")].sum() == small_district.students.sum()


def test_compare_schools_leaves_a_failed_plans_figures_empty(small_district, two_plans):
    failed = Plan.failed(small_district, Scenario(), "no_solution", ["out of time"], 1.0, "highs")
    table = compare_schools({"ok": two_plans[1], "none": failed})
    assert table[("enrollment", "none")].isna().all()
    assert table[("enrollment", "ok")].notna().all()


def test_compare_html_escapes_labels_and_values(small_district):
    s = Scenario.from_dict({"report": {"title": "<script>alert(1)</script>"}})
    p = Plan.from_assignment(small_district, s, small_district.status_quo)
    text = compare_html({"A & <b>B</b>": p})
    assert "<script>" not in text and "&lt;script&gt;" not in text  # titles are not figures
    assert "A &amp; &lt;b&gt;B&lt;/b&gt;" in text
    assert "<b>B</b>" not in text
    assert "Schools: today and under each plan" in text and "<table" in text
    assert f"{p.summary['dissimilarity_after']:.4g}" in text


# ------------------------------------------------------------------------------------ --vary
def test_parse_vary_converts_values_to_the_keys_type():
    key, values = parse_vary("constraints.max_extra_distance_km=1, 2,4.5,inf")
    assert key == "constraints.max_extra_distance_km"
    assert values[:3] == [1.0, 2.0, 4.5] and math.isinf(values[3])
    assert parse_vary("constraints.contiguity=true,false")[1] == [True, False]
    assert parse_vary("solver.threads=1,2")[1] == [1, 2]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("constraints.max_moved_share", "has no '='"),
        ("=0.1,0.2", "no key before"),
        ("constraints.max_moved_share=", "one or more values"),
        ("constraints.max_moved_share=0.1,,0.2", "none empty"),
        ("constraints.max_moved_shares=0.1", "did you mean 'max_moved_share'"),
        ("constrains.max_moved_share=0.1", "unknown section"),
        ("max_moved_share=0.1", "section.key"),
        ("constraints.max_moved_share=0.1,1.5", "between 0 and 1"),
        ("constraints.max_extra_distance_km=1,far", "is not a number"),
        ("constraints.max_moved_share=0.1,0.10", "given twice"),
        ("travel.matrix=a.csv,b.csv", "cannot be varied"),
    ],
)
def test_parse_vary_errors_name_the_key(text, words):
    with pytest.raises(ZoneoptInputError, match=words) as info:
        parse_vary(text)
    key = text.partition("=")[0]
    assert key in str(info.value) or "--vary" in str(info.value)


def test_values_are_checked_against_the_base_scenario():
    base = Scenario.from_dict({"constraints": {"max_utilization": 0.9}})
    with pytest.raises(ZoneoptInputError, match="above max_utilization"):
        check_values(base, "constraints.min_utilization", [0.5, 0.95])


def test_solve_order_goes_from_tightest_to_loosest():
    assert solve_order("constraints.max_extra_distance_km", [4, 1, math.inf, 2]) == [1, 3, 0, 2]
    assert solve_order("constraints.max_moved_share", [0.3, 0.1]) == [1, 0]
    assert solve_order("constraints.min_utilization", [0.5, 0.8, 0.0]) == [1, 0, 2]
    assert solve_order("constraints.contiguity", [False, True]) == [1, 0]
    # Not a constraint: neighbouring values make the best starts, so ascending.
    assert solve_order("objective.distance_weight", [0.1, 0.0, 0.05]) == [1, 2, 0]
    assert solve_order("solver.name", ["highs", "cbc"]) == [0, 1]


# ------------------------------------------------------------------------- scenario files (gaps)
def test_scenario_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[constraints\nmax_moved_share = 0.2\n")
    with pytest.raises(ZoneoptInputError, match="not valid TOML") as info:
        Scenario.from_toml(path)
    assert "policy.toml" in str(info.value)


def test_missing_scenario_file_is_bad_input(tmp_path):
    with pytest.raises(ZoneoptInputError, match="does not exist"):
        Scenario.from_toml(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("[solver]\nthreads = 1.5\n", "solver.threads", "not a whole number"),
        ("[solver]\ntime_limit_s = 0\n", "solver.time_limit_s", "greater than 0"),
        ("[solver]\ncontiguity_model = 'fast'\n", "solver.contiguity_model", "'exact'"),
        ("[objective]\ndistance_weight = -1\n", "objective.distance_weight", ">= 0"),
        ("[constraints]\nmax_utilization = 0\n", "constraints.max_utilization", "greater than 0"),
        ("[constraints]\nlow_income_band = -0.1\n", "constraints.low_income_band", "negative"),
        ("[travel]\nmatrix = 3\n", "travel.matrix", "not a str"),
        ("constraints = 3\n", "constraints", "table of keys"),
    ],
)
def test_scenario_file_errors_name_file_and_key(tmp_path, toml, key, words):
    path = tmp_path / "s.toml"
    path.write_text(toml)
    with pytest.raises(ZoneoptInputError, match=words) as info:
        Scenario.from_toml(path)
    assert info.value.column == key
    assert str(path) in str(info.value)


def test_relative_travel_matrix_is_relative_to_the_scenario_file(tmp_path):
    folder = tmp_path / "district"
    folder.mkdir()
    (folder / "s.toml").write_text("[travel]\nmatrix = 'roads.csv'\n")
    s = Scenario.from_toml(folder / "s.toml")
    assert s.travel.matrix == str((folder / "roads.csv").resolve())


def test_with_values_keeps_the_rest_and_never_changes_the_original():
    base = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2}})
    varied = base.with_values({"constraints.max_moved_share": "0.25"})
    assert varied.constraints.max_moved_share == 0.25
    assert varied.constraints.max_extra_distance_km == 2
    assert base.constraints.max_moved_share == 1.0
    assert pd.Series(varied.to_dict()["constraints"]).equals(
        pd.Series({**base.to_dict()["constraints"], "max_moved_share": 0.25}))
