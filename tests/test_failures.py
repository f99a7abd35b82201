"""Failure modes (issue 8, items 2-5): diagnosis of impossible policies, time limits, Ctrl-C, nothing
lost (atomic outputs, untouched inputs) and solver trouble.

Infeasibility cases run through the CLI (exit status 3, the diagnosis on stderr and in summary.json) and
through the Python API (``optimize`` raising :class:`InfeasibleError` with ``.diagnosis``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from districts import grid_frames, schools_csv_frame

from zoneopt import (
    District,
    InfeasibleError,
    NoSolutionError,
    Scenario,
    ZoneoptInputError,
    optimize,
)
from zoneopt import io as zio
from zoneopt.cli import main
from zoneopt.model import eligible_pairs
from zoneopt.model.diagnose import diagnose_before_solving
from zoneopt.model.elastic import elastic_solve, explain_infeasibility, plan_exists


def _write(tmp: Path, units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame) -> tuple[Path, Path]:
    upath, spath = tmp / "units.gpkg", tmp / "schools.csv"
    units.to_crs("EPSG:4269").to_file(upath, driver="GPKG")
    schools_csv_frame(schools).to_csv(spath, index=False)
    return upath, spath


def _digests(*paths: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _run_cli(tmp: Path, units: Path, schools: Path, scenario: dict | None, *extra: str):
    args = ["optimize", "--units", str(units), "--schools", str(schools), "--out",
            str(tmp / "out"), "--no-maps", *extra]
    if scenario is not None:
        path = tmp / "scenario.toml"
        path.write_text(_toml(scenario))
        args += ["--scenario", str(path)]
    return main(args)


def _toml(data: dict) -> str:
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- infeasible cases


@dataclass
class Impossible:
    name: str
    build: object  # () -> (units, schools)
    scenario: dict
    words: list[str]
    before_solving: bool  # found by diagnose_before_solving (no solver needed)


def _grid():
    return grid_frames(6, 8, [9, 14, 33, 38], seed=1)


def _far_lock():
    units, schools = _grid()
    units["locked_school"] = [None] * 47 + ["S0"]  # the far north-east corner, locked to S0
    return units, schools


def _heavy_locks():
    units, schools = grid_frames(6, 8, [9, 14, 33, 38], seed=1, capacities=[700, 2000, 2000, 2000])
    units["locked_school"] = ["S0"] * 16 + [None] * 32
    return units, schools


def _lock_behind_another_school():
    # One row of five units: S0 at the west end, S1 in the middle; the east end locked to S0 must
    # join S0's zone through S1's home unit, which always goes to S1.
    units, schools = grid_frames(1, 5, [0, 2], seed=1)
    units["locked_school"] = [None, None, None, None, "S0"]
    return units, schools


def _crossing_locks():
    # 2 x 3 grid, S0 home at the south-west, S1 at the south-east; the north-east unit locked to S0
    # and the north-west one to S1: both zones must pass through the north-middle unit.
    units, schools = grid_frames(2, 3, [0, 2], seed=1)
    units["locked_school"] = [None, None, None, "S1", None, "S0"]
    return units, schools


def _one_big_school():
    return grid_frames(6, 8, [9, 14, 33, 38], seed=1, capacities=[4000, 1000, 1000, 1000])


def _local_shortage():
    # Two small schools side by side in the west; the big ones are too far for the western units.
    return grid_frames(6, 8, [17, 18, 21, 22], seed=1, capacities=[500, 500, 5000, 5000])


def _everyone_at_s0():
    units, schools = _grid()
    units["current_school"] = "S0"
    return units, schools


IMPOSSIBLE = [
    Impossible(
        "total capacity below total students", _grid, {"constraints": {"max_utilization": 0.5}},
        ["total capacity is too small", "students but", "seats at max_utilization 0.5",
         "short by"], True,
    ),
    Impossible(
        "units with no school allowed by the distance limits", _grid,
        {"constraints": {"max_distance_km": 2.1}},
        ["8 unit(s) have no school allowed by the limits", "U0003 (nearest school 2.24 km)",
         "U0044", "raise max_distance_km to at least 2.24"], True,
    ),
    Impossible(
        "lock contradicts the distance limit", _far_lock, {"constraints": {"max_distance_km": 4.0}},
        ["unit U0047 is locked to S0", "km away, beyond max_distance_km 4"], True,
    ),
    Impossible(
        "locks contradict capacity", _heavy_locks, {},
        ["school S0 must take", "of them locked", "more seats"], True,
    ),
    Impossible(
        "lock contradicts contiguity", _lock_behind_another_school, {},
        ["unit U0004 is locked to S0", "one connected piece"], True,
    ),
    Impossible(
        "min_utilization a school cannot reach", _one_big_school,
        {"constraints": {"min_utilization": 0.4, "max_extra_distance_km": 0.5}},
        ["school S0 can get at most", "min_utilization 0.4 of capacity 4000 needs 1600"], True,
    ),
    Impossible(
        "capacity short in one area (solver, elastic)", _local_shortage,
        {"constraints": {"max_extra_distance_km": 1.0}},
        ["needs", "more seats", "max_utilization 1 allows 500", "more seats in all",
         "or allow 1 km more travel (max_extra_distance_km 1 -> 2)"], False,
    ),
    Impossible(
        "moved share against capacity (solver, elastic)", _everyone_at_s0,
        {"constraints": {"max_moved_share": 0.2}},
        ["either: school S0 needs", "more seats", "or: max_moved_share must rise to 0.6"], False,
    ),
    Impossible(
        "low-income band too narrow (solver, elastic)", _grid,
        {"constraints": {"low_income_band": 0.01, "max_extra_distance_km": 1.5}},
        ["the low-income band must widen to", "raise low_income_band to at least"], False,
    ),
    Impossible(
        "zones cannot be connected (solver, elastic)", _crossing_locks, {},
        ["not with connected zones", "the locks", "without them a plan exists",
         "contiguity = false would allow a plan"], False,
    ),
]


@pytest.mark.parametrize("case", IMPOSSIBLE, ids=lambda c: c.name)
def test_impossible_policy_exits_3_with_a_diagnosis_in_summary_json(case, tmp_path, capsys):
    units, schools = _write(tmp_path, *case.build())
    before = _digests(units, schools)
    code = _run_cli(tmp_path, units, schools, case.scenario, "--time-limit", "10")
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith("zoneopt: infeasible: no plan satisfies the scenario")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    text = "\n".join(summary["diagnosis"])
    for word in case.words:
        assert word in err, f"{word!r} missing from: {err}"
        assert word in text
    assert not (tmp_path / "out" / "assignment.csv").exists()
    assert _digests(units, schools) == before


@pytest.mark.parametrize("case", IMPOSSIBLE, ids=lambda c: c.name)
def test_impossible_policy_raises_infeasible_error_in_the_api(case):
    district = District.from_frames(*case.build())
    scenario = Scenario.from_dict(case.scenario)
    found = diagnose_before_solving(district, scenario, eligible_pairs(district, scenario))
    assert bool(found) == case.before_solving, found
    with pytest.raises(InfeasibleError) as info:
        optimize(district, scenario, time_limit=10)
    text = "\n".join(info.value.diagnosis)
    for word in case.words:
        assert word in text, f"{word!r} missing from: {text}"
    assert info.value.plan.summary["diagnosis"] == info.value.diagnosis


def test_before_solving_total_capacity_message_has_the_numbers():
    district = District.from_frames(*_grid())
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 0.5}})
    (msg,) = diagnose_before_solving(district, scenario, eligible_pairs(district, scenario))
    total = int(district.students.sum())
    seats = int(np.floor(district.capacity * 0.5).sum())
    assert f"{total} students but {seats} seats" in msg
    assert f"short by {total - seats}" in msg
    assert f"max_utilization to at least {total / district.capacity.sum():.3f}" in msg


def test_elastic_seats_are_the_least_total_stretch():
    district = District.from_frames(*_local_shortage())
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.0}})
    eligible = eligible_pairs(district, scenario)
    result = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=10)
    assert result is not None and result.proven and result.used() == ["capacity"]
    seats = float(result.over.sum())
    # Any plan over the eligible pairs overfills the two western schools by at least this much:
    # the units whose only allowed schools are S0 and S1 hold more students than their 1000 seats.
    only_west = ~eligible[:, 2:].any(axis=1)
    assert seats >= district.students[only_west].sum() - 1000 - 1e-6
    # With these extra seats, the relaxed plan fits.
    enroll = np.bincount(result.assign, weights=district.students, minlength=4)
    assert np.all(enroll <= district.capacity + result.over + 1e-6)


def test_plan_exists_answers_yes_no_for_small_cases():
    district = District.from_frames(*_crossing_locks())
    assert plan_exists(district, Scenario(), time_limit=10) == "no"
    assert plan_exists(district, Scenario.from_dict({"constraints": {"contiguity": False}}),
                       time_limit=10) == "yes"
    local = District.from_frames(*_local_shortage())
    assert plan_exists(local, Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}}),
                       time_limit=10) == "yes"


def test_explain_infeasibility_stays_within_a_short_time_limit():
    district = District.from_frames(*_grid())
    scenario = Scenario.from_dict({"constraints": {"low_income_band": 0.0,
                                                   "max_extra_distance_km": 1.5}})
    findings = explain_infeasibility(district, scenario, eligible_pairs(district, scenario),
                                     time_limit=0.5)
    assert findings and all(isinstance(f, str) and f for f in findings)


# ----------------------------------------------------------------------- time limits, Ctrl-C


def _bigger(rows: int = 12, cols: int = 12, k: int = 6):
    rng = np.random.default_rng(0)
    cells = sorted(rng.choice(rows * cols, size=k, replace=False).tolist())
    return grid_frames(rows, cols, cells, seed=2)


def test_a_search_ended_before_its_proof_returns_the_best_plan_with_its_gap(tmp_path, capsys):
    # A work budget far too small to prove 144 units and 6 schools: feasible, with its gap, on any
    # machine; and a time limit that ends a large budget is reported as the time limit.
    units, schools = _write(tmp_path, *_bigger())
    code = _run_cli(tmp_path, units, schools, {"solver": {"work_budget": 0.001}}, "--time-limit", "60")
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "feasible" and summary["stopped_by"] == "work_budget"
    assert summary["gap"] > summary["scenario"]["solver"]["mip_gap"]
    assert summary["bound"] <= summary["objective"]
    plan = optimize(District.from_frames(*_bigger()),
                    Scenario.from_dict({"solver": {"work_budget": 1000}}), time_limit=1.5)
    assert plan.summary["stopped_by"] == "time_limit" and plan.check().ok
    # the search's work is capped by shares of the time limit at nominal rates, so on a fast
    # machine it fits in 1.5 s and the clock ends the proof instead (1 run in 3 here)
    assert {"search", "proof", "proof checkpoint"} & set(plan.summary["clock_ended"])


def test_time_limit_without_any_plan_exits_4(tmp_path, capsys):
    # A band of 0.001 on a segregated grid: nothing is found in one second, nothing is proven
    # either (a band of 0.01 the band repair now reaches).
    units, schools = _write(tmp_path, *_grid())
    code = _run_cli(tmp_path, units, schools, {"constraints": {"low_income_band": 0.001}},
                    "--time-limit", "1")
    err = capsys.readouterr().err
    assert code == 4, err
    assert "no plan satisfying the scenario was found within 1 s" in err and "--time-limit" in err
    assert "zones that keep every rule but the low-income band exist" in err  # what binds
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "no_solution"
    with pytest.raises(NoSolutionError):
        optimize(District.from_frames(*_grid()),
                 Scenario.from_dict({"constraints": {"low_income_band": 0.001}}), time_limit=1)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_a_solve_keeps_the_best_plan(caplog, monkeypatch):
    import zoneopt.solve as solve_module

    caplog.set_level("WARNING", logger="zoneopt")
    district = District.from_frames(*_bigger(16, 16, 8))
    # No new phase starts after Ctrl-C (a whole-district MIP started after an interrupted search
    # once kept a run going for 17 s more): the phases started after the signal are recorded.
    fired: list[bool] = []
    started_after: list[str] = []

    def recorded(name):
        phase = getattr(solve_module, name)

        def wrapper(*args, **kwargs):
            if fired:
                started_after.append(name)
            return phase(*args, **kwargs)
        monkeypatch.setattr(solve_module, name, wrapper)

    for name in ("large_neighbourhood_search", "run_proof", "anneal", "run_second_search"):
        recorded(name)

    def interrupt():
        fired.append(True)
        os.kill(os.getpid(), signal.SIGINT)

    # The handler in place before (Python's default, or SIG_IGN when the test runner was started
    # in the background by a shell without job control) must be back in place after.
    before = signal.getsignal(signal.SIGINT)
    timer = threading.Timer(1.5, interrupt)
    timer.start()
    try:
        plan = optimize(district, Scenario(), time_limit=60)
    finally:
        timer.cancel()
    assert plan.summary["interrupted"] is True
    assert plan.status in ("feasible", "optimal")
    assert plan.check().ok
    assert plan.summary["solve_seconds"] < 60  # it stopped on the interrupt, not the time limit
    assert signal.getsignal(signal.SIGINT) is before
    assert "interrupted: finishing with the best plan found so far" in caplog.text
    assert started_after == []


# ----------------------------------------------------------------------------- nothing lost


def test_inputs_are_never_modified_by_any_run(tmp_path, capsys):
    units, schools = _write(tmp_path, *_grid())
    matrix = tmp_path / "travel.csv"
    district = District.from_files(units, schools)
    rows = [(u, s, float(district.dist_km[i, j]) * 1.3)
            for i, u in enumerate(district.unit_ids) for j, s in enumerate(district.school_ids)]
    pd.DataFrame(rows, columns=["unit_id", "school_id", "distance_km"]).to_csv(matrix, index=False)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[travel]\nmatrix = "travel.csv"\n[constraints]\nmax_extra_distance_km = 3\n')
    paths = [units, schools, matrix, scenario]
    before = _digests(*paths)
    mtimes = [p.stat().st_mtime_ns for p in paths]
    base = ["optimize", "--units", str(units), "--schools", str(schools), "--no-maps"]
    assert main([*base, "--scenario", str(scenario), "--out", str(tmp_path / "a"),
                 "--time-limit", "2"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("[constraints]\nmax_utilization = 0.3\n")
    assert main([*base, "--scenario", str(bad), "--out", str(tmp_path / "b")]) == 3
    assert main([*base, "--scenario", str(scenario), "--solver", "nosuch",
                 "--out", str(tmp_path / "c")]) == 2
    capsys.readouterr()
    assert _digests(*paths) == before
    assert [p.stat().st_mtime_ns for p in paths] == mtimes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["units.gpkg", "schools.csv", "travel.csv", "s.toml", "bad.toml", "a", "b"])


def test_failed_write_leaves_the_previous_output_folder_whole(tmp_path, capsys, monkeypatch):
    units, schools = _write(tmp_path, *_grid())
    out = tmp_path / "out"
    assert _run_cli(tmp_path, units, schools, None, "--time-limit", "2") == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real = zio.write_text

    def flaky(path, text):
        if Path(path).name == "zones.geojson":  # after summary.json and assignment.csv
            raise OSError(28, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(zio, "write_text", flaky)
    with pytest.raises(OSError, match="No space left"):
        _run_cli(tmp_path, units, schools, {"constraints": {"max_extra_distance_km": 2.0}},
                 "--time-limit", "2")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario.toml", "schools.csv",
                                                         "units.gpkg"]


def test_interrupt_while_writing_keeps_the_previous_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"status": "optimal"}')
    with pytest.raises(KeyboardInterrupt), zio.atomic_directory(out) as tmp:
        (tmp / "summary.json").write_text('{"status": "half"}')
        raise KeyboardInterrupt
    assert (out / "summary.json").read_text() == '{"status": "optimal"}'
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_complete_folder_replaces_the_old_one_only_at_the_end(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    with zio.atomic_directory(out) as tmp:
        (tmp / "summary.json").write_text("{}")
        assert (out / "stale.csv").exists() and not (out / "summary.json").exists()
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_file_write_leaves_no_temporary_file_on_failure(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old\n")

    class Boom:
        def to_csv(self, **kwargs):
            raise ValueError("cannot serialise")

    with pytest.raises(ValueError):
        zio.write_csv(target, Boom())
    with pytest.raises(TypeError):
        zio.write_json(target, {"x": object()})
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_infeasible_run_writes_a_complete_folder_with_only_the_diagnosis(tmp_path, capsys):
    units, schools = _write(tmp_path, *_grid())
    out = tmp_path / "out"
    assert _run_cli(tmp_path, units, schools, None, "--time-limit", "2") == 0
    assert (out / "assignment.csv").exists()
    assert _run_cli(tmp_path, units, schools, {"constraints": {"max_utilization": 0.4}}) == 3
    capsys.readouterr()
    # The old plan's files are gone with it: no folder mixes an old plan with a new diagnosis.
    assert [p.name for p in out.iterdir()] == ["summary.json"]


# ---------------------------------------------------------------------------- solver trouble


def test_solver_not_installed_names_the_fix_and_the_fallback_used(tmp_path, capsys):
    import json

    import pulp

    missing = next(s for s in pulp.listSolvers() if s not in pulp.listSolvers(onlyAvailable=True))
    units, schools = _write(tmp_path, *_grid())
    # The fallback, not the proof, is what is tested: a work budget far too small to prove this
    # grid (its bound stays 0) ends the run in seconds instead of 26 s.
    code = _run_cli(tmp_path, units, schools, {"solver": {"work_budget": 0.001}}, "--solver",
                    missing)
    out = capsys.readouterr().out
    assert code == 0
    assert f"solver '{missing}' is not installed or not executable" in out
    assert "install it" in out and "fell back to highs" in out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["solver"] == "highs" and "fell back to highs" in summary["solver_note"]


def test_missing_highspy_names_pip_install_and_cbc(monkeypatch):
    from zoneopt.solve.backends import check_solver

    monkeypatch.setitem(sys.modules, "highspy", None)  # import highspy now raises ImportError
    with pytest.raises(ZoneoptInputError, match=r"pip install highspy \(or choose --solver cbc\)"):
        check_solver("highs")


def test_solver_name_in_the_scenario_file_is_checked_too(tmp_path, capsys):
    units, schools = _write(tmp_path, *_grid())
    code = _run_cli(tmp_path, units, schools, {"solver": {"name": "hihgs"}})
    assert code == 2
    assert "unknown solver 'hihgs'" in capsys.readouterr().err
