"""Small generated districts shared by the tests (grids of square units in a UTM CRS)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

CRS = "EPSG:32610"  # UTM 10N, around Sacramento
X0, Y0 = 630_000.0, 4_270_000.0


def grid_frames(
    rows: int,
    cols: int,
    school_cells: list[int],
    *,
    seed: int = 0,
    cell_m: float = 1000.0,
    capacity_slack: float = 1.3,
    students: np.ndarray | None = None,
    low_income: np.ndarray | None = None,
    capacities: list[int] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units on a rows x cols grid and schools at the centres of ``school_cells``.

    Students are 20-120 per unit; low-income shares rise from west to east (a poorer side of town),
    so today's nearest-school zones are segregated and balancing has work to do.
    """
    rng = np.random.default_rng(seed)
    n = rows * cols
    geoms, ids = [], []
    for r in range(rows):
        for c in range(cols):
            x, y = X0 + c * cell_m, Y0 + r * cell_m
            geoms.append(box(x, y, x + cell_m, y + cell_m))
            ids.append(f"U{r * cols + c:04d}")
    if students is None:
        students = rng.integers(20, 121, size=n)
    if low_income is None:
        col_of = np.arange(n) % cols
        share = 0.1 + 0.7 * col_of / max(cols - 1, 1) + rng.uniform(-0.08, 0.08, size=n)
        low_income = np.clip(np.round(students * np.clip(share, 0, 1)), 0, students).astype(int)
    units = gpd.GeoDataFrame(
        {"unit_id": ids, "students": students, "low_income": low_income}, geometry=geoms, crs=CRS
    )
    m = len(school_cells)
    total = int(np.sum(students))
    if capacities is None:
        capacities = [int(np.ceil(total * capacity_slack / m))] * m
    schools = gpd.GeoDataFrame(
        {
            "school_id": [f"S{j}" for j in range(m)],
            "name": [f"School {j}" for j in range(m)],
            "capacity": capacities,
        },
        geometry=[geoms[c].centroid for c in school_cells],
        crs=CRS,
    )
    return units, schools


def schools_csv_frame(schools: gpd.GeoDataFrame) -> pd.DataFrame:
    """The schools as the contract's CSV (lon/lat in WGS84)."""
    wgs = schools.to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "school_id": wgs["school_id"],
            "name": wgs["name"],
            "capacity": wgs["capacity"],
            "lon": [p.x for p in wgs.geometry],
            "lat": [p.y for p in wgs.geometry],
        }
    )


__all__ = ["grid_frames", "schools_csv_frame", "Point"]
