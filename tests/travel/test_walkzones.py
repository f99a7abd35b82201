"""Walk zones: units within walk_zone_km of their status-quo school keep it, as a lock."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from districts import grid_frames

from zoneopt import District, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.cli import main
from zoneopt.errors import InfeasibleError
from zoneopt.travel.walkzones import prepare_district, walk_zone_mask


def test_optimize_with_road_matrix_walk_zones_and_barriers(helsinki_files, tmp_path):
    """The issue's 'done when': a plan whose distances, walk-zone locks and contiguity (barriers
    applied) the independent check confirms."""
    f = helsinki_files
    (f / "scenario.toml").write_text(
        '[constraints]\nwalk_zone_km = 0.3\nmax_utilization = 1.3\n'
        '[travel]\nmatrix = "walk.csv"\nbarriers = "barriers.geojson"\n'
        '[solver]\ntime_limit_s = 3\n')
    out = tmp_path / "plan"
    rc = main(["optimize", "--units", str(f / "units.gpkg"), "--schools", str(f / "schools.csv"),
               "--scenario", str(f / "scenario.toml"), "--out", str(out), "--no-maps"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["distance_source"] == "walk.csv"
    # Walk-zone units from the matrix file itself: road distance to the nearest school <= 0.3 km.
    table = pd.read_csv(f / "walk.csv", dtype=str).astype({"distance_km": float})
    nearest = table.loc[table.groupby("unit_id")["distance_km"].idxmin()].set_index("unit_id")
    walkers = nearest[nearest["distance_km"] <= 0.3]
    assert summary["walk_zone_units"] == len(walkers) > 0
    plan = pd.read_csv(out / "assignment.csv", dtype=str).set_index("unit_id")["school_id"]
    assert (plan.loc[walkers.index] == walkers["school_id"]).all()
    # The mean distance is the road distance of the plan.
    merged = pd.read_csv(out / "assignment.csv", dtype=str).merge(table, on=["unit_id",
                                                                              "school_id"])
    units = District.from_files(f / "units.gpkg", f / "schools.csv").units.set_index("unit_id")
    s = units.loc[merged["unit_id"], "students"].to_numpy()
    assert summary["mean_distance_km_after"] == pytest.approx(
        float((s * merged["distance_km"]).sum() / s.sum()))
    scenario = Scenario.from_toml(f / "scenario.toml")
    district = District.from_files(f / "units.gpkg", f / "schools.csv",
                                   travel_matrix=f / "walk.csv", barriers=f / "barriers.geojson")
    check_plan(district, scenario, plan.to_dict(), summary=summary).raise_if_failed()


def test_walk_zone_is_a_lock_that_the_checker_enforces():
    units, schools = grid_frames(4, 6, [7, 16], seed=5)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"walk_zone_km": 1.2},
                                   "solver": {"time_limit_s": 3}})
    mask = walk_zone_mask(district, scenario)
    assert 0 < mask.sum() < district.n_units
    prepared = prepare_district(district, scenario)
    assert (prepared.locked[mask] == district.status_quo[mask]).all()
    assert (prepared.locked[~mask] == -1).all()
    assert district.units["locked_school"].isna().all()  # the caller's district is unchanged
    plan = optimize(district, scenario)
    assert plan.summary["walk_zone_units"] == int(mask.sum())
    assert plan.summary["distance_source"] == "straight_line"
    assert (plan.positions[mask] == district.status_quo[mask]).all()
    check_plan(district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
    moved = plan.positions.copy()
    i = int(np.flatnonzero(mask)[0])
    moved[i] = 1 - moved[i]
    report = check_plan(district, scenario, moved)
    assert any(f"unit {district.unit_ids[i]} is" in v and "walk_zone_km 1.2" in v
               for v in report.violations)


def test_no_walk_zone_key_without_walk_zones(grid_district):
    scenario = Scenario.from_dict({"solver": {"time_limit_s": 2}})
    plan = optimize(grid_district, scenario)
    check_plan(grid_district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
    assert "walk_zone_units" not in plan.summary
    assert plan.summary["distance_source"] == "straight_line"


def test_conflict_with_a_lock_of_the_units_file_names_unit_and_schools():
    units, schools = grid_frames(3, 4, [0, 11], seed=1)
    units = units.copy()
    units["locked_school"] = [None] * len(units)
    units.loc[1, "locked_school"] = "S1"  # next to S0, locked to the far school
    district = District.from_frames(units, schools)
    with pytest.raises(InfeasibleError) as err:
        optimize(district, Scenario.from_dict({"constraints": {"walk_zone_km": 1.5},
                                               "solver": {"time_limit_s": 2}}))
    text = " ".join(err.value.diagnosis)
    assert "unit U0001" in text and "S0" in text and "locks it to S1" in text


def test_conflict_when_the_walk_zone_overfills_its_school():
    units, schools = grid_frames(3, 4, [0, 11], seed=1, capacities=[150, 5000])
    district = District.from_frames(units, schools)
    with pytest.raises(InfeasibleError) as err:
        optimize(district, Scenario.from_dict({"constraints": {"walk_zone_km": 1.5},
                                               "solver": {"time_limit_s": 2}}))
    text = " ".join(err.value.diagnosis)
    assert "school S0: its walk zone" in text and "U0001" in text


def test_conflict_when_a_walk_zone_unit_cannot_be_joined_to_its_school(tmp_path):
    """By road the middle unit is nearest S0, but a river cuts it off from S0's home unit."""
    import geopandas as gpd
    from districts import X0, Y0
    from shapely.geometry import LineString

    units, schools = grid_frames(1, 3, [0, 2], seed=1, capacity_slack=3.0)
    matrix = pd.DataFrame({"unit_id": ["U0000", "U0000", "U0001", "U0001", "U0002", "U0002"],
                           "school_id": ["S0", "S1"] * 3,
                           "distance_km": [0.1, 2.0, 0.4, 0.9, 2.0, 0.1]})
    district = District.from_frames(units, schools, travel_matrix=matrix)
    river = gpd.GeoDataFrame(geometry=[LineString([(X0 + 1000, Y0 - 50), (X0 + 1000, Y0 + 1050)])],
                             crs=units.crs)
    path = tmp_path / "river.gpkg"
    river.to_file(path)
    scenario = Scenario.from_dict({"constraints": {"walk_zone_km": 0.5},
                                   "travel": {"barriers": str(path)},
                                   "solver": {"time_limit_s": 2}})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, scenario)
    text = " ".join(err.value.diagnosis)
    assert "unit U0001 is 0.40 km from its status-quo school S0" in text
    assert "cut off by a barrier" in text
