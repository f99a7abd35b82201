"""Small two-level districts for the feeder and neighbourhood tests (grids, files in a folder)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from districts import CRS, grid_frames
from shapely.geometry import box

from zoneopt import District, Scenario


def two_level_frames(rows, cols, school_cells, middle_cells, *, seed=0, middle_slack=1.3,
                     middle_capacities=None, **kwargs):
    """Grid units with middle counts (about half the elementary ones) and middle schools."""
    units, schools = grid_frames(rows, cols, school_cells, seed=seed, **kwargs)
    rng = np.random.default_rng(seed + 100)
    ms = np.round(units["students"].to_numpy() * rng.uniform(0.3, 0.7, len(units))).astype(int)
    share = units["low_income"].to_numpy() / np.maximum(units["students"].to_numpy(), 1)
    units["middle_students"] = ms
    units["middle_low_income"] = np.minimum(np.round(ms * share).astype(int), ms)
    k = len(middle_cells)
    cap = middle_capacities or [int(np.ceil(ms.sum() * middle_slack / k))] * k
    geoms = units.geometry.to_numpy()
    middle = gpd.GeoDataFrame(
        {"school_id": [f"M{k_}" for k_ in range(k)], "name": [f"Middle {k_}" for k_ in range(k)],
         "capacity": cap},
        geometry=[geoms[c].centroid for c in middle_cells], crs=CRS,
    )
    return units, schools, middle


def write_middle(middle, path):
    """The middle schools as the contract's CSV (lon/lat), whatever columns they have."""
    wgs = middle.to_crs("EPSG:4326")
    table = wgs.drop(columns="geometry").assign(lon=wgs.geometry.x, lat=wgs.geometry.y)
    table.to_csv(path, index=False)
    return path


def write_hoods(cells_by_name, units, path):
    """Neighbourhood polygons: each the union of the named grid cells, slightly shrunk."""
    geoms = units.geometry.to_numpy()
    rows = []
    for name, cells in cells_by_name.items():
        for c in cells:
            x0, y0, x1, y1 = geoms[c].bounds
            rows.append({"name": name, "geometry": box(x0 + 1, y0 + 1, x1 - 1, y1 - 1)})
    gpd.GeoDataFrame(rows, crs=CRS).to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def scenario(tmp_path, middle=None, hoods=None, **sections):
    """A scenario using the files written into ``tmp_path``."""
    data = {k: dict(v) for k, v in sections.items()}
    if middle is not None:
        data.setdefault("feeders", {})["middle_schools"] = str(middle)
    if hoods is not None:
        data.setdefault("constraints", {})["neighbourhoods"] = str(hoods)
    return Scenario.from_dict(data)


def synthetic_two_level(tmp_path, n, m, seed, *, middle_seats=1.0, **sections):
    """``synthetic_district(n, m, seed)`` with the demo's middle counts and middle schools (their
    capacity times ``middle_seats``), 3 km extra distance and nested feeders: the district and the
    scenario."""
    from zoneopt.demo_feeders import add_middle_counts, site_middle_schools
    from zoneopt.synthetic import synthetic_district

    units, schools = synthetic_district(n, m, seed=seed)
    units = add_middle_counts(units)
    middle = site_middle_schools(units, schools)
    middle["capacity"] = np.floor(middle["capacity"] * middle_seats).astype(int)
    path = write_middle(middle, tmp_path / "middle.csv")
    data = {"constraints": {"max_extra_distance_km": 3.0}, "feeders": {"mode": "nested"}}
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    return District.from_frames(units, schools), scenario(tmp_path, middle=path, **data)


def synthetic_two_level_start(tmp_path, n, m, seed, middle_seats=1.0):
    """:func:`synthetic_two_level` with what the feeder repair starts from: the middle schools'
    data, the eligible pairs and the repair's plan of the single-level rules."""
    from zoneopt.feeders import load_feeders
    from zoneopt.model import eligible_pairs
    from zoneopt.solve.repair import repair_status_quo

    district, scen = synthetic_two_level(tmp_path, n, m, seed, middle_seats=middle_seats)
    data = load_feeders(district, scen)
    eligible = eligible_pairs(district, scen)
    plan = repair_status_quo(district, scen.with_values({"feeders.mode": "none"}), eligible)
    return district, scen, data, eligible, plan


def synthetic_hoods(tmp_path, n, m, seed, *, step_m=1500.0, seats=1.0, **sections):
    """``synthetic_district(n, m, seed)`` (school capacities times ``seats``) with squares of
    ``step_m`` metres as neighbourhoods, kept whole, and 3 km extra distance: the district and the
    scenario."""
    from zoneopt.synthetic import synthetic_district

    units, schools = synthetic_district(n, m, seed=seed)
    schools = schools.copy()
    schools["capacity"] = np.floor(schools["capacity"] * seats).astype(int)
    x0, y0, x1, y1 = units.total_bounds
    cells = [box(x, y, x + step_m, y + step_m) for x in np.arange(x0, x1, step_m)
             for y in np.arange(y0, y1, step_m)]
    hoods = gpd.GeoDataFrame({"name": [f"H{i}" for i in range(len(cells))]}, geometry=cells,
                             crs=units.crs)
    path = tmp_path / "hoods.geojson"
    hoods.to_file(path, driver="GeoJSON")
    data = {"constraints": {"max_extra_distance_km": 3.0, "keep_neighbourhoods": True}}
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    return District.from_frames(units, schools), scenario(tmp_path, hoods=path, **data)


__all__ = ["two_level_frames", "write_middle", "write_hoods", "scenario", "District",
           "synthetic_two_level", "synthetic_two_level_start", "synthetic_hoods"]
