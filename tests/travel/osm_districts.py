"""Test districts laid over real OpenStreetMap extracts: grid units clipped to the extract, schools
on real streets (at nodes of the drive network)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

DATA = Path(__file__).resolve().parents[2] / "data" / "osm"
HELSINKI = DATA / "Helsinki.osm.pbf"
OAKLAND = DATA / "West-Oakland.osm.bz2"


def osm_grid_district(
    extract: Path,
    rows: int,
    cols: int,
    school_cells: list[int],
    *,
    seed: int = 0,
    margin: float = 0.08,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units: a rows x cols grid over the extract's drive-network bounding box (shrunk by ``margin``
    on each side so every unit has streets); schools at the drive-network node nearest the centre of
    each of ``school_cells`` (so on a real street), capacity with 30% slack."""
    from zoneopt.travel import read_network

    net = read_network(extract, "drive")
    pts = gpd.GeoSeries(gpd.points_from_xy(net.lonlat[:, 0], net.lonlat[:, 1]), crs="EPSG:4326")
    utm = pts.estimate_utm_crs()
    xy = shapely.get_coordinates(pts.to_crs(utm).to_numpy())
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    x0, x1, y0, y1 = x0 + dx, x1 - dx, y0 + dy, y1 - dy
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    geoms = [box(x0 + c * w, y0 + r * h, x0 + (c + 1) * w, y0 + (r + 1) * h)
             for r in range(rows) for c in range(cols)]
    rng = np.random.default_rng(seed)
    n = rows * cols
    students = rng.integers(20, 121, size=n)
    share = np.clip(0.1 + 0.7 * (np.arange(n) % cols) / max(cols - 1, 1)
                    + rng.normal(0, 0.05, n), 0, 1)
    units = gpd.GeoDataFrame({
        "unit_id": [f"U{i:03d}" for i in range(n)],
        "students": students,
        "low_income": np.round(students * share).astype(int),
    }, geometry=geoms, crs=utm)
    chosen = []
    for cell in school_cells:
        c = np.asarray(geoms[cell].centroid.coords[0])
        inside = shapely.contains_xy(geoms[cell], xy[:, 0], xy[:, 1])
        cand = np.flatnonzero(inside)
        if len(cand) == 0:
            raise ValueError(f"cell {cell} has no street node")
        k = cand[np.argmin(np.hypot(*(xy[cand] - c).T))]
        chosen.append(k)
    total = int(students.sum())
    cap = int(np.ceil(total * 1.3 / len(school_cells)))
    schools = pd.DataFrame({
        "school_id": [f"S{j}" for j in range(len(school_cells))],
        "name": [f"School {j}" for j in range(len(school_cells))],
        "capacity": cap,
        "lon": net.lonlat[chosen, 0],
        "lat": net.lonlat[chosen, 1],
    })
    return units, schools
