"""The map's walk-zone and barrier layers, and the report's travel sentences."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from districts import CRS, X0, Y0, grid_frames
from shapely.geometry import LineString

from zoneopt import District, Scenario
from zoneopt.check import check_plan
from zoneopt.plan import Plan
from zoneopt.travel.walkzones import prepare_district
from zoneopt.viz.maps import map_html
from zoneopt.viz.report import report_html
from zoneopt.viz.walkzones import LAYER_BARRIERS, LAYER_WALK, travel_sentences


def _plan(tmp_path, walk_km: float, barriers: bool) -> Plan:
    units, schools = grid_frames(3, 4, [0, 11], seed=1, capacity_slack=1.6)
    travel = {}
    if barriers:
        path = tmp_path / "rail.geojson"
        gpd.GeoDataFrame({"kind": ["rail"]}, geometry=[
            LineString([(X0 + 2000, Y0 - 100), (X0 + 2000, Y0 + 3100)])], crs=CRS).to_file(path)
        travel = {"barriers": str(path)}
    scenario = Scenario.from_dict({"constraints": {"walk_zone_km": walk_km}, "travel": travel})
    district = prepare_district(District.from_frames(units, schools), scenario)
    west_east = np.array([int(i % 4 >= 2) for i in range(12)])  # the two sides of the railway
    plan = Plan.from_assignment(district, scenario, west_east)
    check_plan(district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
    return plan


def test_map_shows_walk_zones_and_barriers_as_layers(tmp_path):
    page = map_html(_plan(tmp_path, 1.5, True))
    assert LAYER_WALK in page and LAYER_BARRIERS in page
    assert "Walk zone of School 0: 4 unit(s) within 1.5 km in a straight line keep this school" in page


def test_map_without_travel_rules_has_no_travel_layers(tmp_path):
    page = map_html(_plan(tmp_path, 0.0, False))
    assert LAYER_WALK not in page and LAYER_BARRIERS not in page


def test_report_states_distances_walk_zones_and_barriers(tmp_path):
    page = report_html(_plan(tmp_path, 1.5, True))
    assert "Distances are straight-line distances" in page
    assert "every area within 1.5 km of its current school keeps that school" in page
    assert "rail.geojson" in page


def test_road_distance_sentence_names_the_matrix_file():
    lines = travel_sentences({"matrix": "/data/roads/walk.csv"}, {"walk_zone_km": 0.8}, "walk.csv")
    assert lines[0] == ("Distances are road distances along the street network, from the travel "
                        "matrix walk.csv.")
    assert "within 0.8 km of its current school by road" in lines[1]


def test_layer_control_lists_the_travel_layers_after_defining_them(tmp_path):
    """The control's script names each layer's variable: it must come after the layers' scripts."""
    import re

    page = map_html(_plan(tmp_path, 1.5, True))
    for name in (LAYER_WALK, LAYER_BARRIERS):
        var = re.search(re.escape(f'"{name}" : ') + r"(\w+)", page).group(1)
        assert page.index(f"var {var} = ") < page.index(f'"{name}" : {var}')
