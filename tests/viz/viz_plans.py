"""Small fake plans for the viz tests.

A fake plan has the attributes of ``zoneopt.plan.Plan`` that the viz code reads (district units
and schools, assignment, status quo, schools table, summary, title), so most viz tests do not
depend on the solver; ``test_real_plan.py`` renders real optimized plans as well.
"""

from __future__ import annotations

import types

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

CRS = "EPSG:32610"  # UTM 10N: San Francisco Bay Area
X0, Y0 = 550_000.0, 4_180_000.0
CELL = 1_000.0


def schools_table(units, schools, assignment, status_quo) -> pd.DataFrame:
    """schools.csv of CONTRACT.md, computed the straightforward way."""
    cent = units.geometry.centroid
    rows = []
    for _, s in schools.iterrows():
        row = {"school_id": s["school_id"], "name": s["name"], "capacity": int(s["capacity"])}
        for when, series in (("before", status_quo), ("after", assignment)):
            mask = (units["unit_id"].map(series) == s["school_id"]).to_numpy()
            n = int(units["students"][mask].sum())
            li = int(units["low_income"][mask].sum())
            d = cent[mask].distance(s.geometry).to_numpy() / 1000
            w = units["students"][mask].to_numpy()
            row[f"enrollment_{when}"] = n
            row[f"utilization_{when}"] = n / s["capacity"]
            row[f"low_income_{when}"] = li
            row[f"low_income_share_{when}"] = li / n if n else float("nan")
            row[f"mean_distance_km_{when}"] = float((d * w).sum() / n) if n else float("nan")
        moved_in = units["unit_id"].map(assignment).eq(s["school_id"]) & units["unit_id"].map(
            status_quo
        ).ne(s["school_id"])
        moved_out = units["unit_id"].map(status_quo).eq(s["school_id"]) & units["unit_id"].map(
            assignment
        ).ne(s["school_id"])
        row["students_gained"] = int(units["students"][moved_in].sum())
        row["students_lost"] = int(units["students"][moved_out].sum())
        rows.append(row)
    cols = [
        "school_id", "name", "capacity", "enrollment_before", "enrollment_after",
        "utilization_before", "utilization_after", "low_income_before", "low_income_after",
        "low_income_share_before", "low_income_share_after", "mean_distance_km_before",
        "mean_distance_km_after", "students_gained", "students_lost",
    ]  # fmt: skip
    return pd.DataFrame(rows)[cols]


def dissimilarity(units, series) -> float:
    school = units["unit_id"].map(series)
    low = units["low_income"].groupby(school).sum()
    other = (units["students"] - units["low_income"]).groupby(school).sum()
    return float(0.5 * (low / low.sum() - other / other.sum()).abs().sum())


def make_plan(units, schools, assignment, status_quo, *, title="", **summary_overrides):
    """A stand-in for zoneopt.plan.Plan built from frames (same attribute names and meanings)."""
    table = schools_table(units, schools, assignment, status_quo)
    students = units["students"].sum()
    moved = units["students"][
        units["unit_id"].map(assignment) != units["unit_id"].map(status_quo)
    ].sum()
    share = units["low_income"].sum() / students
    summary = {
        "status": "optimal",
        "objective": dissimilarity(units, assignment),
        "bound": dissimilarity(units, assignment) * 0.996,
        "gap": 0.004,
        "solver": "highs",
        "solve_seconds": 3.2,
        "dissimilarity_before": dissimilarity(units, status_quo),
        "dissimilarity_after": dissimilarity(units, assignment),
        "max_share_gap_before": float((table["low_income_share_before"] - share).abs().max()),
        "max_share_gap_after": float((table["low_income_share_after"] - share).abs().max()),
        "students_moved": int(moved),
        "moved_share": float(moved / students),
        "mean_distance_km_before": float(
            (table["mean_distance_km_before"] * table["enrollment_before"]).sum() / students
        ),
        "mean_distance_km_after": float(
            (table["mean_distance_km_after"] * table["enrollment_after"]).sum() / students
        ),
        "max_utilization_after": float(table["utilization_after"].max()),
        "contiguous": True,
        "islands": [],
        "n_units": len(units),
        "n_schools": len(schools),
        "district_share": float(share),
        "scenario": {
            "objective": {"balance": "dissimilarity", "distance_weight": 0.5, "moved_weight": 0.0},
            "constraints": {
                "max_utilization": 1.1,
                "min_utilization": 0.0,
                "max_distance_km": float("inf"),
                "max_extra_distance_km": 2.0,
                "contiguity": True,
                "max_moved_share": 0.3,
                "low_income_band": 0.1,
            },
            "travel": {"matrix": ""},
            "solver": {"name": "highs", "time_limit_s": 300, "mip_gap": 0.01},
        },
    }
    summary.update(summary_overrides)
    district = types.SimpleNamespace(units=units, schools=schools)
    return types.SimpleNamespace(
        district=district,
        assignment=assignment,
        status_quo=status_quo,
        schools_table=table,
        summary=summary,
        title=title,
    )


def grid_district(names=("Alder Elementary", "Birch Elementary", "Cedar Elementary")):
    """3x3 grid of 1 km squares and three schools: west column, centre, east column."""
    rng = np.random.default_rng(7)
    cells, ids, students = [], [], []
    for r in range(3):
        for c in range(3):
            cells.append(
                box(X0 + c * CELL, Y0 + r * CELL, X0 + (c + 1) * CELL, Y0 + (r + 1) * CELL)
            )
            ids.append(f"06075{r}{c}0000{r}")
            students.append(int(rng.integers(40, 120)))
    students = np.array(students)
    low = (students * np.array([0.8, 0.6, 0.5, 0.7, 0.4, 0.2, 0.6, 0.3, 0.1])).round().astype(int)
    units = gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "students": students,
            "low_income": low,
            "current_school": ["A", "B", "C"] * 3,
            "locked_school": [None] * 9,
        },
        geometry=cells,
        crs=CRS,
    )
    schools = gpd.GeoDataFrame(
        {"school_id": ["A", "B", "C"], "name": list(names), "capacity": [400, 350, 300]},
        geometry=[
            Point(X0 + 0.5 * CELL, Y0 + 1.5 * CELL),
            Point(X0 + 1.5 * CELL, Y0 + 1.5 * CELL),
            Point(X0 + 2.5 * CELL, Y0 + 1.5 * CELL),
        ],
        crs=CRS,
    )
    status_quo = pd.Series(["A", "B", "C"] * 3, index=pd.Index(ids, name="unit_id"))
    proposed = status_quo.copy()
    # Two rows move: the top-middle unit to A and the bottom-middle unit to C.
    proposed.iloc[7] = "A"
    proposed.iloc[1] = "C"
    return units, schools, status_quo, proposed


def wiggle(geom, frame, spacing=15.0, amplitude=4.0):
    """Densify edges and displace vertices by a function of their position, like TIGER lines.

    Edges have pixel-grid coordinates, so both polygons that share an edge get the same new
    vertices, and a vertex's offset depends on its position only: shared edges stay shared.
    Vertices on the outer frame stay put so the district keeps its rectangle.
    """
    import shapely

    x0, y0, x1, y1 = frame

    def move(c):
        off = amplitude * np.sin(c[:, 0] / 37.0 + c[:, 1] / 53.0)
        edge = (
            np.isclose(c[:, 0], x0) | np.isclose(c[:, 0], x1)
            | np.isclose(c[:, 1], y0) | np.isclose(c[:, 1], y1)
        )  # fmt: skip
        out = c.copy()
        out[~edge, 0] += off[~edge]
        out[~edge, 1] += off[~edge]
        return out

    return shapely.transform(shapely.segmentize(geom, spacing), move)


def voronoi_district(n_units=280, n_schools=9, seed=3):
    """An irregular district of n_units areas that tile a 12 x 9 km rectangle, and n schools.

    Areas are unions of 75 m pixels given to the nearest of n_units random seeds (with a
    wobble), so they form an exact coverage (shared edges have identical vertices) with dense,
    staircase boundaries, the way census geometry is dense: simplification has work to do.
    """
    import shapely

    rng = np.random.default_rng(seed)
    w, h, px = 12_000.0, 9_000.0, 75.0
    seeds = np.column_stack([rng.uniform(0, w, n_units), rng.uniform(0, h, n_units)])
    nx_, ny_ = int(w / px), int(h / px)
    gx, gy = np.meshgrid((np.arange(nx_) + 0.5) * px, (np.arange(ny_) + 0.5) * px)
    wobble = 120 * np.sin(gx / 400.0) * np.cos(gy / 350.0)
    d2 = (gx[..., None] + wobble[..., None] - seeds[:, 0]) ** 2 + (gy[..., None] - seeds[:, 1]) ** 2
    label = d2.argmin(axis=2).ravel()
    boxes = shapely.box(
        X0 + gx.ravel() - px / 2, Y0 + gy.ravel() - px / 2,
        X0 + gx.ravel() + px / 2, Y0 + gy.ravel() + px / 2,
    )  # fmt: skip
    keep = np.unique(label)  # a seed may win no pixel
    cells = [shapely.union_all(boxes[label == k]) for k in keep]
    n_units = len(cells)
    cells = [wiggle(c, frame=(X0, Y0, X0 + w, Y0 + h)) for c in cells]
    cx = np.array([c.centroid.x for c in cells])
    students = rng.integers(20, 160, n_units)
    gradient = (cx - X0) / w
    low = np.clip(rng.normal(0.15 + 0.6 * gradient, 0.1), 0, 1)
    low = (students * low).round().astype(int)
    ids = [f"06075{i:07d}" for i in range(n_units)]
    units = gpd.GeoDataFrame(
        {"unit_id": ids, "students": students, "low_income": low},
        geometry=cells,
        crs=CRS,
    )
    cols = int(np.ceil(np.sqrt(n_schools * w / h)))
    rows = int(np.ceil(n_schools / cols))
    spts = []
    for k in range(n_schools):
        r, c = divmod(k, cols)
        spts.append(Point(X0 + (c + 0.5) * w / cols, Y0 + (r + 0.5) * h / rows))
    schools = gpd.GeoDataFrame(
        {
            "school_id": [f"S{k + 1:02d}" for k in range(n_schools)],
            "name": [f"School {chr(65 + k)} Elementary" for k in range(n_schools)],
            "capacity": [int(students.sum() / n_schools * 1.15)] * n_schools,
        },
        geometry=spts,
        crs=CRS,
    )
    cent = units.geometry.centroid
    d = np.stack([cent.distance(p).to_numpy() for p in schools.geometry], axis=1)
    nearest = schools["school_id"].to_numpy()[d.argmin(axis=1)]
    status_quo = pd.Series(nearest, index=pd.Index(ids, name="unit_id"))
    # A proposal that moves the boundary units whose second-nearest school is close enough.
    order = np.argsort(d, axis=1)
    second = schools["school_id"].to_numpy()[order[:, 1]]
    close = d[np.arange(n_units), order[:, 1]] < d[np.arange(n_units), order[:, 0]] * 1.15
    proposed = status_quo.copy()
    proposed[close] = second[close]
    return units, schools, status_quo, proposed
