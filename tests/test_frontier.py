"""The frontier: one plan per value, monotone where the mathematics says so, files a board can read."""

import json
import math

import pandas as pd
import pytest
from districts import grid_frames

from zoneopt import District, Plan, Scenario, ZoneoptInputError, optimize
from zoneopt.cli import main
from zoneopt.scenarios import _make_monotone, frontier, frontier_table

#: Proven optimality on tiny grids: the exact contiguity model and no optimality gap.
EXACT = {"solver": {"mip_gap": 0.0, "contiguity_model": "exact", "time_limit_s": 30}}

SUMMARY_KEYS = [
    "status", "objective", "bound", "gap", "solver", "solve_seconds", "dissimilarity_before",
    "dissimilarity_after", "max_share_gap_before", "max_share_gap_after", "students_moved",
    "moved_share", "mean_distance_km_before", "mean_distance_km_after", "max_utilization_after",
    "contiguous", "islands", "n_units", "n_schools",
]


def _district(seed, rows=3, cols=4, schools=(0, 11)):
    units, school_frame = grid_frames(rows, cols, list(schools), seed=seed)
    return District.from_frames(units, school_frame)


SWEEPS = {
    "constraints.max_extra_distance_km": [2.0, 0.0, math.inf, 1.0, 0.5, 3.0],
    "constraints.max_moved_share": [0.3, 0.0, 1.0, 0.1, 0.5, 0.2],
}


@pytest.mark.parametrize("key", list(SWEEPS))
@pytest.mark.parametrize(("seed", "schools"), [(3, (0, 11)), (7, (1, 10)), (13, (0, 5, 11)),
                                               (12, (0, 6, 11))])
def test_loosening_a_constraint_never_raises_the_proven_optimum(key, seed, schools):
    district = _district(seed, schools=schools)
    values = SWEEPS[key]
    result = frontier(district, Scenario.from_dict(EXACT), key, values, progress=False)
    table = result.table
    assert list(table["value"]) == values, "rows stay in the order given"
    by_value = table.set_index("value").sort_index()
    statuses = list(by_value["status"])
    # Loosening never loses feasibility: any infeasible values are the tightest ones.
    n_infeasible = statuses.count("infeasible")
    assert statuses[n_infeasible:] == ["optimal"] * (len(values) - n_infeasible), by_value
    assert not table["time_limited"].any()
    objectives = by_value["objective"].to_numpy()[n_infeasible:]
    assert all(b <= a + 1e-9 for a, b in zip(objectives, objectives[1:], strict=False)), by_value
    for value, plan in zip(values, result.plans, strict=True):
        assert plan.scenario.to_dict()["constraints"][key.split(".")[1]] == value
        if plan.ok:
            assert plan.check().ok
            assert plan.summary["bound"] <= plan.summary["objective"] + 1e-12


def test_some_sweep_really_loses_feasibility_when_tightened():
    # Guards the test above against only ever seeing feasible values.
    district = _district(12, schools=(0, 6, 11))
    result = frontier(district, Scenario.from_dict(EXACT), "constraints.max_moved_share",
                      [0.0, 0.3], progress=False)
    assert list(result.table["status"]) == ["infeasible", "optimal"]
    assert result.table.loc[0, "diagnosis"]


# Regression: HiGHS once answered this warm-started cut round with the start vector and a wrong
# objective; the backend now verifies every answer (zoneopt.solve.backends.consistent).
def test_exact_mode_proves_every_value_of_a_three_school_sweep():
    district = _district(11, schools=(0, 5, 11))
    result = frontier(district, Scenario.from_dict(EXACT), "constraints.max_moved_share",
                      [0.2], progress=False)
    assert result.table.loc[0, "status"] == "optimal"
    assert result.table.loc[0, "objective"] == pytest.approx(0.3737213403880071)


def test_warm_started_plans_are_as_good_as_independent_solves():
    district = _district(7, schools=(1, 10))
    base = Scenario.from_dict(EXACT)
    values = [0.1, 0.3, 1.0]
    result = frontier(district, base, "constraints.max_moved_share", values, progress=False)
    for value, row in zip(values, result.table.itertuples(), strict=True):
        alone = optimize(district, base.with_values({"constraints.max_moved_share": value}))
        assert row.objective == pytest.approx(alone.summary["objective"], abs=1e-9)
    assert list(result.table["warm_start_from"].iloc[1:]) == [0.1, 0.3]
    assert pd.isna(result.table["warm_start_from"].iloc[0])


def test_frontier_writes_csv_chart_and_a_folder_per_value(tmp_path):
    district = _district(3)
    base = Scenario.from_dict(EXACT)
    values = [0.05, 0.0, 0.5]  # 0.0 is impossible: no school's share can equal the district's
    out = tmp_path / "frontier"
    result = frontier(district, base, "constraints.low_income_band", values, out=out,
                      progress=False, maps=False)
    table = pd.read_csv(out / "frontier.csv")
    assert list(table.columns[: len(SUMMARY_KEYS) + 1]) == ["value", *SUMMARY_KEYS]
    assert {"scenario", "diagnosis", "time_limited", "folder"} <= set(table.columns)
    assert list(table["value"]) == values
    assert list(table["status"]) == ["optimal", "infeasible", "optimal"]
    assert "band" in table.loc[1, "diagnosis"]
    assert table.loc[0, "scenario"] == "constraints.low_income_band=0.05"
    for folder, status in zip(table["folder"], table["status"], strict=True):
        summary = json.loads((out / folder / "summary.json").read_text())
        assert summary["status"] == status
        assert (out / folder / "assignment.csv").exists() == (status == "optimal")
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "frontier.html").read_text()
    assert "<svg" in page and "constraints.low_income_band" in page and "<?xml" not in page
    assert result.out == out and len(result.plans) == 3
    assert list(result.compare().columns) == [
        "low_income_band = 0.05", "low_income_band = 0", "low_income_band = 0.5"]


def test_unknown_key_or_bad_value_is_bad_input_before_any_solve():
    district = _district(3)
    with pytest.raises(ZoneoptInputError, match="max_extra_distance_km"):
        frontier(district, None, "constraints.max_extra_distance", [1, 2], progress=False)
    with pytest.raises(ZoneoptInputError, match="constraints.max_moved_share"):
        frontier(district, None, "constraints.max_moved_share", [0.5, 2], progress=False)


def test_a_time_limited_row_says_so():
    district = _district(3)
    ten = Scenario.from_dict({"solver": {"time_limit_s": 10}})

    def plan(status, seconds, bound, **kw):
        return Plan.from_assignment(district, ten, district.status_quo, status=status,
                                    bound=bound, seconds=seconds, **kw)

    d = plan("optimal", 0.1, 0.0).summary["objective"]
    rows = [
        plan("feasible", 10.02, 0.01),  # used its whole budget without proof
        plan("optimal", 0.5, d),  # proven
        plan("feasible", 0.3, 0.01),  # stopped early without proof: not the time limit
        plan("feasible", 2.0, 0.01, interrupted=True),  # Ctrl-C
    ]
    table = frontier_table("constraints.max_moved_share", [0.2, 0.4, 0.6, 0.8], rows)
    assert list(table["time_limited"]) == [True, False, False, True]
    assert table.loc[0, "gap"] > 0.9


def test_a_worse_looser_plan_is_replaced_by_the_tighter_plan_it_could_have_used():
    # What a time-limited or independent (parallel) solve can produce: the looser value's plan is
    # worse than the tighter one's, although the tighter plan satisfies the looser rules too.
    district = _district(3)
    key = "constraints.max_moved_share"
    base = Scenario.from_dict(EXACT)
    scenarios = [base.with_values({key: v}) for v in (0.3, 1.0)]
    good = optimize(district, scenarios[0])
    poor = Plan.from_assignment(district, scenarios[1], district.status_quo, status="feasible",
                                bound=0.001)
    plans = [good, poor]
    improved = [None, None]
    _make_monotone(district, scenarios, [0, 1], plans, [0.3, 1.0], improved)
    assert improved == [None, 0.3]
    assert plans[1].summary["objective"] == pytest.approx(good.summary["objective"])
    assert plans[1].scenario == scenarios[1]
    assert plans[1].summary["bound"] == pytest.approx(0.001)  # the looser problem's own bound
    assert plans[1].summary["status"] == "feasible"
    assert plans[1].check().ok


def test_parallel_frontier_on_a_dask_cluster_matches_the_sequential_one():
    from dask.distributed import LocalCluster

    district = _district(11, schools=(0, 5, 11))
    base = Scenario.from_dict(EXACT)
    values = [1.0, 0.0, 2.0]
    sequential = frontier(district, base, "constraints.max_extra_distance_km", values,
                          progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        parallel = frontier(district, base, "constraints.max_extra_distance_km", values,
                            progress=False, parallel=True, scheduler=cluster.scheduler_address)
    assert list(parallel.table["value"]) == values
    pd.testing.assert_series_equal(parallel.table["objective"], sequential.table["objective"],
                                   atol=1e-9)
    assert all(p.check().ok for p in parallel.plans if p.ok)


def test_frontier_command_end_to_end(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    out = tmp_path / "out"
    code = main(["frontier", "--units", str(units), "--schools", str(schools), "--vary",
                 "constraints.max_extra_distance_km=2,1,inf", "--out", str(out),
                 "--time-limit", "4", "--no-maps"])
    assert code == 0
    table = pd.read_csv(out / "frontier.csv")
    assert list(table["value"]) == [2.0, 1.0, math.inf]
    assert len({p.name for p in out.iterdir() if p.is_dir()}) == 3
    text = capsys.readouterr().out
    assert "constraints.max_extra_distance_km=2:" in text and "frontier.csv" in text


def test_frontier_command_bad_vary_exits_2(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    code = main(["frontier", "--units", str(units), "--schools", str(schools), "--vary",
                 "constraints.max_moved_share=0.1,x", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "constraints.max_moved_share" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_frontier_command_all_infeasible_exits_3(grid_inputs, tmp_path):
    units, schools = grid_inputs
    code = main(["frontier", "--units", str(units), "--schools", str(schools), "--vary",
                 "constraints.max_utilization=0.1,0.2", "--out", str(tmp_path / "o"),
                 "--time-limit", "4"])
    assert code == 3
    table = pd.read_csv(tmp_path / "o" / "frontier.csv")
    assert list(table["status"]) == ["infeasible", "infeasible"]


def test_dropping_contiguity_never_raises_the_optimum_and_charts_a_yes_no_key(tmp_path):
    district = _district(7, schools=(1, 10))
    result = frontier(district, Scenario.from_dict(EXACT), "constraints.contiguity",
                      [False, True], out=tmp_path, progress=False, maps=False)
    table = result.table
    assert list(table["value"]) == [False, True]
    assert list(table["status"]) == ["optimal", "optimal"]
    assert table.loc[0, "objective"] <= table.loc[1, "objective"] + 1e-9
    assert table.loc[0, "warm_start_from"] is True  # true is solved first: it is the tighter rule
    assert bool(table.loc[1, "contiguous"])
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "01_contiguity=false", "02_contiguity=true"]
    assert (tmp_path / "frontier.png").stat().st_size > 1000
