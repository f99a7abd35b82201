"""Realistic synthetic school districts, for benchmarks, tests and teaching.

A synthetic district looks like a mid-sized American city seen through census units: a city
outline about 15 to 40 km across (larger for more units), units as Voronoi cells of points that
crowd towards the centre (so central units are small and outer ones large, as block groups are),
students per unit varying smoothly across town, a low-income share that follows a smooth random
field plus a poorer side of town, schools sited where the students are, and capacities that leave
some schools overcrowded and others half empty under the status quo (every unit attends its
nearest school), as in any district that is due for rezoning.

The frames follow the input format of CONTRACT.md, so they can be saved and fed to the CLI or passed
to ``District.from_frames`` unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["synthetic_district"]

# Sacramento-ish centre in UTM zone 10N (EPSG:32610), so coordinates are metres and plausible.
_CENTRE_XY = (631_000.0, 4_271_000.0)

# Snapping every vertex to a millimetre grid makes the vertices that two neighbouring cells share
# bit-for-bit identical after clipping, so shared boundaries are found exactly by any overlay.
_GRID_M = 0.001


def _city_diameter_km(n_units: int) -> float:
    # Grows slowly with the number of units: ~15 km at 200 units, ~39 km at 5,000.
    return float(np.clip(3.0 * n_units**0.3, 5.0, 40.0))


def _outline(rng: np.random.Generator, radius: float) -> shapely.Polygon:
    """A smooth, irregular, star-shaped city outline around the origin."""
    theta = np.linspace(0.0, 2.0 * np.pi, 256, endpoint=False)
    r = np.ones_like(theta)
    for k, amp in ((2, 0.10), (3, 0.07), (5, 0.04)):
        r += amp * rng.uniform(0.5, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r *= radius
    return shapely.Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))


def _sample_points(rng: np.random.Generator, n: int, outline: shapely.Polygon, radius: float):
    """``n`` distinct points inside ``outline``, denser at the centre (Gaussian core + uniform)."""
    shapely.prepare(outline)
    pts = np.empty((0, 2))
    while len(pts) < n:
        m = 2 * (n - len(pts)) + 16
        core = rng.normal(0.0, 0.38 * radius, size=(m, 2))
        flat = rng.uniform(-1.3 * radius, 1.3 * radius, size=(m, 2))
        cand = np.where(rng.random(m)[:, None] < 0.65, core, flat)
        cand = cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]
        pts = np.unique(np.vstack([pts, cand]), axis=0) if len(pts) else cand
    # np.unique sorted the points; shuffle back so unit ids carry no spatial order.
    return pts[rng.permutation(len(pts))[:n]]


def _smooth_field(rng: np.random.Generator, xy: np.ndarray, radius: float, k: int = 12):
    """A smooth random field with zero mean and unit variance (random Fourier features)."""
    wavelength = rng.uniform(0.35, 1.4, size=k) * radius
    angle = rng.uniform(0, 2 * np.pi, size=k)
    freq = (2 * np.pi / wavelength)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    phase = rng.uniform(0, 2 * np.pi, size=k)
    field = np.cos(xy @ freq.T + phase).sum(axis=1)
    sd = field.std()
    return (field - field.mean()) / (sd if sd > 0 else 1.0)


def _site_schools(rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, n_schools: int):
    """Unit positions of the schools: student-weighted k-means centres snapped to distinct units."""
    n = len(xy)
    start = rng.choice(n, size=n_schools, replace=False, p=weight / weight.sum())
    centres = xy[start].copy()
    for _ in range(12):
        d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = d2.argmin(axis=1)
        w = np.bincount(label, weights=weight, minlength=n_schools)
        for axis in (0, 1):
            s = np.bincount(label, weights=weight * xy[:, axis], minlength=n_schools)
            centres[:, axis] = np.where(w > 0, s / np.where(w > 0, w, 1), centres[:, axis])
    chosen: list[int] = []
    taken = np.zeros(n, dtype=bool)
    for c in centres:
        d2 = ((xy - c) ** 2).sum(axis=1)
        d2[taken] = np.inf
        i = int(d2.argmin())
        taken[i] = True
        chosen.append(i)
    return np.array(chosen)


def _capacities(rng: np.random.Generator, enrolment: np.ndarray, total_students: int):
    """Capacities with total ~1.1 x students, some schools at 120-140%, some near 50% full."""
    m = len(enrolment)
    util = rng.uniform(0.85, 1.0, size=m)
    order = rng.permutation(m)
    n_over = max(1, round(0.2 * m))
    n_under = max(1, round(0.2 * m)) if m > 1 else 0
    over, under = order[:n_over], order[n_over : n_over + n_under]
    mid = order[n_over + n_under :]
    util[over] = rng.uniform(1.2, 1.4, size=len(over))
    util[under] = rng.uniform(0.45, 0.6, size=len(under))
    enrol = np.maximum(enrolment, 1).astype(float)
    cap = enrol / util
    target = 1.1 * total_students
    if len(mid):
        # Scale only the middle group so the extremes keep their story; keep it believable.
        fixed = cap[over].sum() + cap[under].sum()
        scale = (target - fixed) / cap[mid].sum()
        cap[mid] *= float(np.clip(scale, 0.75, 1.35))
    cap = np.maximum(np.round(cap), 1).astype(int)
    return cap


def synthetic_district(
    n_units: int,
    n_schools: int,
    *,
    seed: int = 0,
    crs: str = "EPSG:32610",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Generate a realistic synthetic district in the input format of CONTRACT.md.

    Parameters
    ----------
    n_units
        Number of census-like units (Voronoi cells), at least 2.
    n_schools
        Number of schools, between 1 and ``n_units``; each school sits in its own unit.
    seed
        Seed of the random generator; the same seed always gives the same district.
    crs
        A projected CRS in metres to label the coordinates with. The geometry is laid out around
        Sacramento in UTM zone 10N; another CRS only relabels it (use it for tests of CRS handling).

    Returns
    -------
    units : geopandas.GeoDataFrame
        One polygon per unit with ``unit_id`` (zero-padded text), ``students`` (int, 50-400),
        ``low_income`` (int, 5%-90% of ``students``, spatially correlated) and ``current_school``
        (the ``school_id`` of the nearest school, measured from the unit's centroid).
    schools : geopandas.GeoDataFrame
        One point per school with ``school_id``, ``name`` and ``capacity`` (int). Each point is
        the representative point of a distinct unit. Total capacity is about 1.1 x the students;
        under the status quo about a fifth of the schools run at 120-140% and a fifth at 45-60%.

    Raises
    ------
    ValueError
        If the counts are out of range.

    Examples
    --------
    >>> from zoneopt.synthetic import synthetic_district
    >>> units, schools = synthetic_district(200, 10, seed=1)
    >>> len(units), len(schools)
    (200, 10)
    >>> bool((units["low_income"] <= units["students"]).all())
    True
    """
    if n_units < 2:
        raise ValueError(f"n_units must be at least 2, got {n_units}")
    if not 1 <= n_schools <= n_units:
        raise ValueError(f"n_schools must be between 1 and n_units ({n_units}), got {n_schools}")

    rng = np.random.default_rng(seed)
    radius = 500.0 * _city_diameter_km(n_units)  # metres
    outline = _outline(rng, radius)
    pts = _sample_points(rng, n_units, outline, radius)

    # Voronoi cells, in the order of the points, clipped to the outline. Every cell is kept.
    extent = shapely.box(-3 * radius, -3 * radius, 3 * radius, 3 * radius)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=extent, ordered=True)
    cells = np.asarray(shapely.get_parts(cells))
    cells = shapely.intersection(cells, outline)
    # A convex cell cut by a concave stretch of the outline can come out in pieces; keep the
    # piece holding the cell's point so every unit is one polygon (land beyond is a park).
    multi = np.flatnonzero(shapely.get_type_id(cells) != 3)
    for i in multi:
        parts = shapely.get_parts(cells[i])
        inside = shapely.contains_xy(parts, pts[i, 0], pts[i, 1])
        cells[i] = parts[int(np.argmax(inside))] if inside.any() else parts[0]
    cells = shapely.set_precision(shapely.transform(cells, lambda c: c + _CENTRE_XY), _GRID_M)

    centroid = shapely.get_coordinates(shapely.centroid(cells))
    local = centroid - np.asarray(_CENTRE_XY)

    # Students: roughly even per unit (census units are drawn for even population) with smooth
    # variation across town, as family neighbourhoods cluster.
    fam = _smooth_field(rng, local, radius)
    students = 170.0 * np.exp(0.35 * fam + 0.2 * rng.normal(size=n_units))
    students = np.clip(np.round(students), 50, 400).astype(int)

    # Low-income share: smooth field plus one poorer side of town.
    side = rng.uniform(0, 2 * np.pi)
    gradient = (local @ np.array([np.cos(side), np.sin(side)])) / radius
    poor = _smooth_field(rng, local, radius) * 0.9 + 1.6 * gradient + 0.25 * rng.normal(size=n_units)
    share = 0.05 + 0.85 / (1.0 + np.exp(-(poor - 0.3)))
    low_income = np.clip(np.round(students * share), 0, students).astype(int)

    # Schools where the students are, each at the representative point of its own unit.
    home = _site_schools(rng, local, students.astype(float), n_schools)
    school_pts = shapely.point_on_surface(cells[home])
    school_xy = shapely.get_coordinates(school_pts)
    width_s = len(str(n_schools))
    school_ids = np.array([f"S{k + 1:0{width_s}d}" for k in range(n_schools)])

    # Status quo: the nearest school from each unit's centroid (CONTRACT.md's distance), except
    # that a school's own unit always attends it.
    d2 = ((centroid[:, None, :] - school_xy[None, :, :]) ** 2).sum(axis=2)
    nearest = d2.argmin(axis=1)
    nearest[home] = np.arange(n_schools)

    enrolment = np.bincount(nearest, weights=students, minlength=n_schools)
    capacity = _capacities(rng, enrolment, int(students.sum()))

    width_u = len(str(n_units))
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"{i + 1:0{width_u}d}" for i in range(n_units)],
            "students": students,
            "low_income": low_income,
            "current_school": school_ids[nearest],
        },
        geometry=gpd.GeoSeries(cells),
        crs=crs,
    )
    names = _school_names(rng, n_schools)
    schools = gpd.GeoDataFrame(
        {"school_id": school_ids, "name": names, "capacity": capacity},
        geometry=gpd.GeoSeries(school_pts),
        crs=crs,
    )
    return units, schools


_NAME_A = [
    "Oak", "Cedar", "Maple", "Willow", "River", "Lincoln", "Sierra", "Sutter", "Pioneer",
    "Valley", "Hillcrest", "Meadow", "Lakeview", "Parkway", "Sunrise", "Golden", "Almond",
    "Bridgeway", "Harbor", "Mission", "Redwood", "Elm", "Cypress", "Laurel", "Vista",
]  # fmt: skip
_NAME_B = ["Elementary", "Primary", "Academy", "School", "Community School"]


def _school_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct, plausible school names (maps and reports show names, and twins confuse)."""
    first = rng.permutation(len(_NAME_A))
    names = []
    for k in range(n):
        a = _NAME_A[int(first[k % len(_NAME_A)])]
        b = _NAME_B[int(rng.integers(len(_NAME_B)))]
        # After the first round of names, a running number keeps them unique.
        suffix = "" if k < len(_NAME_A) else f" {k // len(_NAME_A) + 1}"
        names.append(f"{a}{suffix} {b}")
    return names


if __name__ == "__main__":  # pragma: no cover - a quick look from the shell
    u, s = synthetic_district(800, 40)
    print(u.head(), s.head(), sep="\n")
    print(pd.Series(u["students"]).describe())
