"""Many districts on a Dask LocalCluster: every plan written, broken districts reported, rest done."""

import json

import pandas as pd
import pytest
from districts import grid_frames, schools_csv_frame

from zoneopt import District, Scenario, ZoneoptInputError, check_plan
from zoneopt.batch import batch, dask_client, district_files, find_districts, solve_district
from zoneopt.cli import main

GOOD = {"north": 1, "south": 2, "west": 4}


def _write_district(folder, seed, *, scenario=None, drop_column=None, schools=True):
    folder.mkdir(parents=True)
    units, school_frame = grid_frames(3, 4, [0, 11], seed=seed)
    if drop_column:
        units = units.drop(columns=[drop_column])
    units.to_crs("EPSG:4269").to_file(folder / "units.gpkg", driver="GPKG")
    if schools:
        schools_csv_frame(school_frame).to_csv(folder / "schools.csv", index=False)
    if scenario is not None:
        (folder / "scenario.toml").write_text(scenario)


@pytest.fixture(scope="module")
def districts_dir(tmp_path_factory):
    """Three good districts, one with bad units, one without schools, one impossible policy."""
    root = tmp_path_factory.mktemp("districts")
    for name, seed in GOOD.items():
        _write_district(root / name, seed,
                        scenario="[solver]\ntime_limit_s = 20\nmip_gap = 0.0\n"
                                 "contiguity_model = 'exact'\n" if name == "west" else None)
    _write_district(root / "broken_units", 5, drop_column="low_income")
    _write_district(root / "no_schools", 6, schools=False)
    _write_district(root / "impossible", 7, scenario="[constraints]\nmax_utilization = 0.2\n")
    _write_district(root / "typo", 8, scenario="[constraints]\nmax_moved_shares = 0.2\n")
    (root / "notes.txt").write_text("not a district")
    (root / ".hidden").mkdir()
    return root


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as local, Client(local) as client:
        yield local, client


@pytest.fixture(scope="module")
def batch_run(districts_dir, cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch_out")
    table = batch(districts_dir, out, client=cluster[1], time_limit=10, maps=False,
                  progress=False)
    return table, out


def test_every_good_district_is_planned_and_its_plan_checks(batch_run, districts_dir):
    table, out = batch_run
    rows = table.set_index("district")
    for name in GOOD:
        assert rows.loc[name, "status"] in ("optimal", "feasible")
        assert rows.loc[name, "exit_code"] == 0 and rows.loc[name, "error"] == ""
        folder = out / rows.loc[name, "folder"]
        summary = json.loads((folder / "summary.json").read_text())
        assignment = pd.read_csv(folder / "assignment.csv", dtype=str)
        files = district_files(districts_dir / name)
        scenario = Scenario.from_toml(files.scenario) if files.scenario else Scenario()
        district = District.from_files(files.units, files.schools)
        report = check_plan(district, scenario.with_values({"solver.threads": 1}),
                            dict(zip(assignment.unit_id, assignment.school_id, strict=True)),
                            summary=summary)
        assert report.ok, report.violations
        assert rows.loc[name, "dissimilarity_after"] == pytest.approx(summary["dissimilarity_after"])
        assert rows.loc[name, "students_moved"] == summary["students_moved"]
    # The district's own scenario file is used (west asks for a proof with no gap).
    west = json.loads((out / "west" / "summary.json").read_text())
    assert west["scenario"]["solver"]["contiguity_model"] == "exact"
    assert west["scenario"]["solver"]["time_limit_s"] == 10  # the command line wins


def test_broken_districts_are_reported_with_their_error_and_exit_code(batch_run):
    table, out = batch_run
    rows = table.set_index("district")
    assert list(table["district"]) == sorted(table["district"])
    assert set(rows.index) == {*GOOD, "broken_units", "no_schools", "impossible", "typo"}
    broken = rows.loc["broken_units"]
    assert broken["status"] == "error" and broken["exit_code"] == 2
    assert "low_income" in broken["error"] and "units.gpkg" in broken["error"]
    assert rows.loc["no_schools", "exit_code"] == 2
    assert "no schools file" in rows.loc["no_schools", "error"]
    assert "did you mean 'max_moved_share'" in rows.loc["typo", "error"]
    impossible = rows.loc["impossible"]
    assert impossible["status"] == "infeasible" and impossible["exit_code"] == 3
    assert impossible["diagnosis"]
    assert json.loads((out / "impossible" / "summary.json").read_text())["status"] == "infeasible"
    assert not (out / "broken_units").exists()


def test_batch_csv_is_the_returned_table(batch_run):
    table, out = batch_run
    on_disk = pd.read_csv(out / "batch.csv", dtype={"folder": str})
    assert list(on_disk.columns[:6]) == ["district", "status", "exit_code", "error", "folder",
                                         "wall_seconds"]
    assert {"objective", "gap", "dissimilarity_after", "moved_share", "diagnosis"} <= set(
        on_disk.columns)
    assert list(on_disk["district"]) == list(table["district"])
    assert list(on_disk["status"]) == list(table["status"])
    # Counts stay whole numbers although failed rows leave gaps.
    assert str(table["students_moved"].dtype) == "Int64"


def test_batch_command_on_a_given_scheduler(districts_dir, cluster, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["batch", str(districts_dir), "--out", str(out), "--scheduler",
                 cluster[0].scheduler_address, "--time-limit", "5", "--no-maps"])
    # Every district gets its row; the exit status is the first failure's (broken_units: 2).
    assert code == 2
    assert len(pd.read_csv(out / "batch.csv")) == 7
    captured = capsys.readouterr()
    assert "3 of 7 districts planned" in captured.out
    assert "broken_units" in captured.err


def test_unreachable_scheduler_is_bad_input():
    with pytest.raises(ZoneoptInputError, match="cannot reach the Dask scheduler"), dask_client(
            scheduler="tcp://127.0.0.1:9", timeout=1):
        pass


def test_missing_or_empty_districts_folder_is_bad_input(tmp_path):
    with pytest.raises(ZoneoptInputError, match="does not exist"):
        find_districts(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ZoneoptInputError, match="no district subfolders"):
        find_districts(tmp_path / "empty")


def test_output_folder_inside_the_districts_folder_is_not_a_district(tmp_path):
    _write_district(tmp_path / "a", 1)
    (tmp_path / "out").mkdir()
    assert [p.name for p in find_districts(tmp_path, exclude=tmp_path / "out")] == ["a"]


def test_two_units_files_are_ambiguous(tmp_path):
    _write_district(tmp_path / "a", 1)
    (tmp_path / "a" / "units.geojson").write_text("{}")
    with pytest.raises(ZoneoptInputError, match="several units files"):
        district_files(tmp_path / "a")


def test_a_task_that_fails_once_is_retried_and_one_that_keeps_failing_is_reported(
        tmp_path, monkeypatch):
    # In-process workers share this process, so the patched solver is the one the tasks call.
    from dask.distributed import Client, LocalCluster

    import zoneopt.solve

    real = zoneopt.solve.optimize
    calls: dict[int, int] = {}

    def flaky(district, scenario, **kwargs):
        n = district.n_units
        calls[n] = calls.get(n, 0) + 1
        if n == 6 or (n == 12 and calls[n] == 1):
            raise RuntimeError(f"worker trouble {calls[n]}")
        return real(district, scenario, **kwargs)

    monkeypatch.setattr(zoneopt.solve, "optimize", flaky)
    root = tmp_path / "d"
    _write_district(root / "once", 1)  # 12 units: fails on the first try only
    units, schools = grid_frames(2, 3, [0, 5], seed=2)
    (root / "always").mkdir()
    units.to_file(root / "always" / "units.gpkg", driver="GPKG")
    schools_csv_frame(schools).to_csv(root / "always" / "schools.csv", index=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as local, Client(local) as client:
        table = batch(root, tmp_path / "out", client=client, time_limit=5, maps=False,
                      progress=False).set_index("district")
    assert calls == {12: 2, 6: 2}
    assert table.loc["once", "status"] in ("optimal", "feasible")
    assert table.loc["always", "status"] == "error" and table.loc["always", "exit_code"] == 1
    assert "RuntimeError: worker trouble 2" in table.loc["always", "error"]


def test_solve_district_runs_alone_without_dask(tmp_path):
    _write_district(tmp_path / "solo", 3)
    row = solve_district(tmp_path / "solo", tmp_path / "out" / "solo", time_limit=5, maps=True)
    assert row["status"] in ("optimal", "feasible") and row["exit_code"] == 0
    assert {"map.html", "report.html", "summary.json"} <= {
        p.name for p in (tmp_path / "out" / "solo").iterdir()}
    assert "scenario" not in row  # the nested scenario stays in summary.json


def test_batch_starts_its_own_local_cluster_when_given_nothing(tmp_path):
    _write_district(tmp_path / "d" / "only", 9)
    table = batch(tmp_path / "d", tmp_path / "out", workers=1, time_limit=5, maps=False,
                  progress=False)
    assert list(table["status"]) in (["optimal"], ["feasible"])
    assert (tmp_path / "out" / "only" / "assignment.csv").exists()


def test_zoneopts_local_cluster_runs_without_the_workers_profiler():
    """Dask's profiler can deadlock Python 3.11 before 3.11.9 (CPython gh-106883): off in the
    workers of the cluster zoneopt starts, whatever the caller's Dask settings."""
    import dask

    with dask.config.set({"distributed.worker.profile.enabled": True}), dask_client(
            n_workers=1) as client:
        answers = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert list(answers.values()) == [False]
