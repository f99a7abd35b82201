"""The Sacramento demo's second level: illustrative middle schools and neighbourhoods.

**Middle-school students.** The demo's elementary students are six sixteenths of a tract's population
under 16 (``POP_16``, six grades of ages 0-15); middle-school students are three sixteenths (grades
6-8), and their low-income count uses the tract's poverty rate, as for elementary students.

**Middle schools.** One per three or four elementary schools (``round(n / 3.5)``, 7 for the demo's 24),
sited by the same documented method as the elementary schools (:func:`zoneopt.demo.site_schools`:
student-weighted k-means with a deterministic start, each school at a point inside the tract nearest
its cluster's centre), applied to the elementary schools themselves so that each middle school has a
group of elementary schools around it; see :func:`site_middle_schools`. Ids ``M01``...; capacities
follow the group's middle-school students with a fixed pseudo-random spread; today's middle zones
(nearest middle school) differ from the groups, so some middle schools are crowded today.

**Neighbourhoods.** The shipped tracts carry no place names, so the demo's illustrative
neighbourhoods are the tracts that were split from one earlier census tract (same first four digits
of the six-digit tract code, e.g. 0074.15 and 0074.19), named "Tract 74.1 area"; a group holding
two elementary schools, or covering more than 10 km2 (rural tracts), is left out. They stand in for the
subdivisions or census places a district would give (``zoneopt units --neighbourhoods``).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Elementary schools per middle school (three or four).
ELEMENTARY_PER_MIDDLE = 3.5
#: Larger groups of split tracts (rural ones) are not one neighbourhood in any planner's sense.
MAX_NEIGHBOURHOOD_KM2 = 10.0


def add_middle_counts(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of the demo units with ``middle_students`` and ``middle_low_income`` (see above)."""
    out = units.copy()
    elementary = out["students"].to_numpy(float)
    middle = np.round(elementary * 3.0 / 6.0).astype(np.int64)
    rate = out["poverty_rate"].to_numpy(float) if "poverty_rate" in out.columns else (
        out["low_income"].to_numpy(float) / np.maximum(elementary, 1))
    out["middle_students"] = middle
    out["middle_low_income"] = np.minimum(np.round(middle * rate).astype(np.int64), middle)
    return out


def site_middle_schools(units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Illustrative middle schools for the demo's units and elementary schools (method above).

    The elementary schools are grouped by the demo's siting method (student-weighted k-means with
    a deterministic k-means++ start, :func:`zoneopt.demo._kmeans_pp_start`), here over the
    elementary schools' locations weighted by the middle-school students of their zones today
    (nearest school), with ``round(n / 3.5)`` groups; each group's middle school stands at a point
    inside the unit nearest the group's weighted centre (the next nearest when a middle school
    already stands there). Capacity follows the group's middle-school students times a fixed
    pseudo-random factor (1.0 to 1.35: every middle school has room for its own group), rescaled to
    1.08 seats per student, rounded up to 10 seats.

    Parameters
    ----------
    units
        Demo units with ``middle_students`` (see :func:`add_middle_counts`).
    schools
        The demo's elementary schools.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``school_id`` (``M01``...), ``name``, ``capacity``.
    """
    from .demo import CAPACITY_FACTOR, _kmeans_pp_start

    k = max(1, int(round(len(schools) / ELEMENTARY_PER_MIDDLE)))
    utm = units.estimate_utm_crs()
    proj = units.to_crs(utm).geometry.to_numpy()
    cent = shapely.get_coordinates(shapely.centroid(proj))
    sxy = shapely.get_coordinates(schools.to_crs(utm).geometry.to_numpy())
    nearest = np.argmin(((cent[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2), axis=1)
    ms = units["middle_students"].to_numpy(float)
    w = np.bincount(nearest, weights=ms, minlength=len(sxy)) + 1.0
    centres = _kmeans_pp_start(sxy, w, k)
    for _ in range(100):
        label = np.argmin(((sxy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        new = centres.copy()
        for j in range(k):
            sel = label == j
            if sel.any():
                new[j] = (sxy[sel] * w[sel, None]).sum(axis=0) / w[sel].sum()
        if np.allclose(new, centres):
            break
        centres = new
    taken: set[int] = set()
    points = []
    for j in range(k):
        order = np.argsort(((cent - centres[j]) ** 2).sum(axis=1), kind="stable")
        i = next(int(i) for i in order if int(i) not in taken)
        taken.add(i)
        points.append(proj[i].representative_point())
    cluster = np.array([w[label == j].sum() for j in range(k)])
    # Unlike elementary schools, every middle school has room for its own group (factor >= 1):
    # nested zones must be able to send a whole group of elementary zones to it.
    factor = 1.0 + 0.35 * np.random.default_rng(2000).random(k)
    raw = cluster * factor
    raw *= CAPACITY_FACTOR * ms.sum() / raw.sum()
    out = gpd.GeoDataFrame(
        {
            "school_id": [f"M{j + 1:02d}" for j in range(k)],
            "name": [f"Illustrative Middle School {j + 1}" for j in range(k)],
            "capacity": (np.ceil(raw / 10.0) * 10).astype(np.int64),
        },
        geometry=points, crs=utm,
    )
    return out.to_crs("EPSG:4326")


def demo_neighbourhoods(units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame | None = None
                        ) -> gpd.GeoDataFrame:
    """The demo's illustrative neighbourhoods: tracts split from one earlier tract (see above).

    With ``schools``, a group holding two elementary schools is left out (each school keeps its own
    tract, so such a group could never be whole).
    """
    code = units["unit_id"].astype(str).str[5:10]
    counts = code.value_counts()
    keep = code.isin(counts[counts > 1].index).to_numpy().copy()
    if schools is not None:
        pts = schools.to_crs(units.crs).geometry.to_numpy()
        geoms = units.geometry.to_numpy()
        held = shapely.intersects(geoms[:, None], pts[None, :]).any(axis=1)
        per_code = pd.Series(held).groupby(code.to_numpy()).sum()
        keep &= ~code.map(per_code > 1).to_numpy(dtype=bool)
    frame = gpd.GeoDataFrame({"name": [f"Tract {int(c) / 10:g} area" for c in code[keep]]},
                             geometry=units.geometry[keep].to_numpy(), crs=units.crs)
    hoods = frame.dissolve(by="name", sort=True).reset_index()[["name", "geometry"]]
    area_km2 = hoods.to_crs(units.estimate_utm_crs()).area / 1e6
    return hoods[(area_km2 <= MAX_NEIGHBOURHOOD_KM2).to_numpy()].reset_index(drop=True)


def _points_csv(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame({"school_id": frame["school_id"], "name": frame["name"],
                         "capacity": frame["capacity"], "lon": frame.geometry.x.round(6),
                         "lat": frame.geometry.y.round(6)})


def write_middle_schools(path: str | os.PathLike, units: gpd.GeoDataFrame,
                         schools: gpd.GeoDataFrame) -> Path:
    """Write the demo's middle schools (sited for these units and schools) as a schools CSV."""
    from . import io

    return io.write_csv(path, _points_csv(site_middle_schools(units, schools)))


def write_demo_feeder_inputs(folder: str | os.PathLike) -> dict[str, Path]:
    """Write the demo's inputs with its second level: units.gpkg (with middle columns),
    schools.csv, middle_schools.csv and neighbourhoods.geojson.

    Returns
    -------
    dict
        Paths by role (``units``, ``schools``, ``middle_schools``, ``neighbourhoods``).
    """
    from . import io
    from .demo import demo_frames

    folder = Path(folder)
    units, schools = demo_frames()
    if "middle_students" not in units.columns:
        units = add_middle_counts(units)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "units": io.write_vector(folder / "units.gpkg", units, driver="GPKG"),
        "schools": io.write_csv(folder / "schools.csv", _points_csv(schools)),
        "middle_schools": write_middle_schools(folder / "middle_schools.csv", units, schools),
        "neighbourhoods": io.write_vector(folder / "neighbourhoods.geojson",
                                          demo_neighbourhoods(units, schools).to_crs("EPSG:4326"),
                                          driver="GeoJSON"),
    }


__all__ = ["add_middle_counts", "site_middle_schools", "demo_neighbourhoods",
           "write_demo_feeder_inputs"]
