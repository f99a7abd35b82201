"""`zoneopt optimize` with nested feeders and whole neighbourhoods on a synthetic district, then an
independent check from the written files alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from feeder_districts import write_hoods, write_middle

from zoneopt.check import check_plan
from zoneopt.cli import main
from zoneopt.district import District
from zoneopt.scenario import Scenario
from zoneopt.synthetic import synthetic_district


def test_nested_plan_from_the_command_line_checks_out_from_its_files(tmp_path):
    import geopandas as gpd

    units, schools = synthetic_district(150, 8, seed=5)
    rng = np.random.default_rng(5)
    ms = np.round(units["students"].to_numpy() * rng.uniform(0.4, 0.6, len(units))).astype(int)
    units["middle_students"] = ms
    units["middle_low_income"] = np.minimum(
        np.round(ms * units["low_income"] / np.maximum(units["students"], 1)).astype(int), ms)
    proj = schools.to_crs(units.crs)
    middle = gpd.GeoDataFrame({"school_id": ["M1", "M2", "M3"], "name": ["A", "B", "C"],
                               "capacity": [int(ms.sum() * 0.5)] * 3},
                              geometry=list(proj.geometry.iloc[[0, 3, 6]]), crs=units.crs)
    upath, spath = tmp_path / "units.gpkg", tmp_path / "schools.gpkg"
    units.to_file(upath)
    schools.to_file(spath)
    write_middle(middle, tmp_path / "middle.csv")
    write_hoods({"Estate": [10, 11]}, units, tmp_path / "hoods.geojson")
    (tmp_path / "s.toml").write_text(
        '[feeders]\nmiddle_schools = "middle.csv"\nmode = "nested"\n'
        '[constraints]\nneighbourhoods = "hoods.geojson"\nmax_utilization = 1.2\n'
        '[solver]\ntime_limit_s = 5\n')
    out = tmp_path / "out"
    assert main(["optimize", "--units", str(upath), "--schools", str(spath), "--scenario",
                 str(tmp_path / "s.toml"), "--out", str(out), "--no-maps"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["split_feeders_after"] == 0
    assert "split_neighbourhoods_before" in summary and "split_neighbourhoods_after" in summary
    district = District.from_files(upath, spath)
    scenario = Scenario.from_toml(tmp_path / "s.toml")
    plan = pd.read_csv(out / "assignment.csv", dtype=str)
    report = check_plan(district, scenario, dict(zip(plan["unit_id"], plan["school_id"], strict=True)),
                        summary=summary)
    report.raise_if_failed()
    feeders = pd.read_csv(out / "feeders.csv", dtype=str)
    proposed = feeders[feeders["plan"] == "proposed"]
    assert proposed.groupby("school_id")["middle_school_id"].nunique().max() == 1


def test_bad_middle_schools_file_exits_2_naming_file_row_and_column(tmp_path, capsys):
    from districts import grid_frames, schools_csv_frame

    units, schools = grid_frames(2, 3, [0, 5], seed=1)
    units["middle_students"] = 10
    units.to_file(tmp_path / "units.gpkg")
    schools_csv_frame(schools).to_csv(tmp_path / "schools.csv", index=False)
    (tmp_path / "middle.csv").write_text("school_id,name,capacity,lon,lat\nM1,Mid,-5,"
                                         f"{schools_csv_frame(schools)['lon'][0]},"
                                         f"{schools_csv_frame(schools)['lat'][0]}\n")
    (tmp_path / "s.toml").write_text('[feeders]\nmiddle_schools = "middle.csv"\nmode = "report"\n'
                                     '[solver]\ntime_limit_s = 2\n')
    code = main(["optimize", "--units", str(tmp_path / "units.gpkg"), "--schools",
                 str(tmp_path / "schools.csv"), "--scenario", str(tmp_path / "s.toml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "middle.csv" in err and "M1" in err and "'capacity'" in err
