"""The shipped real-data example: Sacramento County census tracts (Census 2000) and 24 schools.

How the demo district is made (deterministic, documented here and in data/README.md):

- **Units**: the 279 tracts of Sacramento County (GEOID prefix 06067) from the Census 2000 SF3 tract
  file shipped with the package (EPSG:4269).
- **Students**: elementary-age children (5 to 10). The file gives the population under 16
  (``POP_16``); with ages spread evenly, six of those sixteen single years are 5 to 10, so
  ``students = round(POP_16 x 6/16)``.
- **Low-income students**: the file's only income-to-poverty split is persons below the poverty line
  (``POV_TOT`` of ``POV_POP``). ``low_income = round(students x POV_TOT / POV_POP)``. This counts
  children under 100% of the poverty line, fewer than the 185% free/reduced-price-lunch line a district
  would use, so shares are lower than a real district's FRL shares; the geography of poverty is real.
- **Schools**: the data holds no school locations, so 24 *illustrative* schools are sited where
  students live: a student-weighted k-means of tract centroids (k-means++ start, seed 2000),
  each school placed at the representative point of the tract nearest its cluster centre (one school
  per tract). Capacity follows the students of each school's cluster times a fixed pseudo-random
  factor (0.75 to 1.35, seed 2000), rescaled to 108% seats per student and rounded up to 10 seats:
  today's nearest-school zones leave some schools overcrowded and others with room, as in a district
  due for rezoning. These are not real schools.
- **Status quo**: no current zones are known, so today's school is the nearest one (CONTRACT.md).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .district import District
from .scenario import Scenario

N_SCHOOLS = 24
CAPACITY_FACTOR = 1.08
COUNTY_PREFIX = "06067"

#: The demo's policy: balance, no school over capacity, at most 4 km farther than the nearest school,
#: connected zones; 60 s keeps `make demo` well under three minutes on two cores.
DEMO_SCENARIO = {
    "objective": {"balance": "dissimilarity"},
    "constraints": {"max_utilization": 1.0, "max_extra_distance_km": 4.0, "contiguity": True},
    "solver": {"time_limit_s": 60.0, "mip_gap": 0.01},
    "report": {"title": "Sacramento County demo: illustrative schools on real census tracts"},
}


def tracts_path() -> Path:
    """Path of the shipped Sacramento tract shapefile."""
    return Path(str(resources.files("zoneopt") / "data" / "sacramento2" / "sacramentot2.shp"))


def demo_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo's units and schools, derived from the shipped tracts as the module docstring says.

    Returns
    -------
    (units, schools)
        Units in EPSG:4269 with ``unit_id``, ``students``, ``low_income`` (and the source columns
        ``median_household_income``, ``poverty_rate``); schools as WGS84 points with ``school_id``,
        ``name``, ``capacity``.
    """
    tracts = gpd.read_file(tracts_path())
    if tracts.crs is None:
        tracts = tracts.set_crs("EPSG:4269")
    tracts = tracts[tracts["FIPS"].astype(str).str.startswith(COUNTY_PREFIX)]
    tracts = tracts.sort_values("FIPS").reset_index(drop=True)
    students = np.round(tracts["POP_16"].to_numpy(float) * 6.0 / 16.0).astype(np.int64)
    pov_pop = tracts["POV_POP"].to_numpy(float)
    rate = np.divide(tracts["POV_TOT"].to_numpy(float), pov_pop, out=np.zeros(len(tracts)),
                     where=pov_pop > 0)
    low = np.minimum(np.round(students * rate).astype(np.int64), students)
    units = gpd.GeoDataFrame(
        {
            "unit_id": tracts["FIPS"].astype(str).to_numpy(),
            "students": students,
            "low_income": low,
            "median_household_income": tracts["HH_INC"].to_numpy(np.int64),
            "poverty_rate": rate,
        },
        geometry=tracts.geometry.to_numpy(),
        crs=tracts.crs,
    )
    schools = site_schools(units, N_SCHOOLS)
    from .demo_feeders import add_middle_counts  # middle-school counts (zoneopt/demo_feeders.py)

    return add_middle_counts(units), schools


def site_schools(units: gpd.GeoDataFrame, k: int) -> gpd.GeoDataFrame:
    """Site ``k`` illustrative schools where students live (student-weighted k-means, deterministic).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``school_id`` (``S01``...), ``name``, ``capacity``.
    """
    utm = units.estimate_utm_crs()
    proj = units.to_crs(utm)
    xy = shapely.get_coordinates(shapely.centroid(proj.geometry.to_numpy()))
    w = proj["students"].to_numpy(float)
    centres = _kmeans_pp_start(xy, w, k)
    for _ in range(100):
        label = np.argmin(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        new = centres.copy()
        for j in range(k):
            sel = label == j
            if w[sel].sum() > 0:
                new[j] = (xy[sel] * w[sel, None]).sum(axis=0) / w[sel].sum()
        if np.allclose(new, centres):
            break
        centres = new
    taken: set[int] = set()
    points = []
    for j in range(k):
        order = np.argsort(((xy - centres[j]) ** 2).sum(axis=1), kind="stable")
        i = next(int(i) for i in order if int(i) not in taken)
        taken.add(i)
        points.append(proj.geometry.iloc[i].representative_point())
    # Capacity follows the students of each school's cluster, scaled by a fixed pseudo-random factor
    # (0.75 to 1.35) so that some schools are overcrowded today and others have room, then rescaled so
    # the district has CAPACITY_FACTOR seats per student; rounded up to 10 seats.
    cluster = np.array([w[label == j].sum() for j in range(k)])
    factor = 0.75 + 0.6 * np.random.default_rng(2000).random(k)
    raw = cluster * factor
    raw *= CAPACITY_FACTOR * w.sum() / raw.sum()
    capacity = (np.ceil(raw / 10.0) * 10).astype(np.int64)
    schools = gpd.GeoDataFrame(
        {
            "school_id": [f"S{j + 1:02d}" for j in range(k)],
            "name": [f"Illustrative School {j + 1}" for j in range(k)],
            "capacity": capacity,
        },
        geometry=points,
        crs=utm,
    )
    return schools.to_crs("EPSG:4326")


def _kmeans_pp_start(xy: np.ndarray, w: np.ndarray, k: int, seed: int = 2000) -> np.ndarray:
    """k-means++ start weighted by students, with a fixed seed (deterministic)."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.choice(len(xy), p=w / w.sum()))]
    d2 = ((xy - xy[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = w * d2
        nxt = int(rng.choice(len(xy), p=p / p.sum()))
        chosen.append(nxt)
        d2 = np.minimum(d2, ((xy - xy[nxt]) ** 2).sum(axis=1))
    return xy[chosen].copy()


def demo_district() -> District:
    """The demo district, ready to optimise."""
    units, schools = demo_frames()
    return District.from_frames(
        units, schools, sources={"units": "demo units (Sacramento tracts)", "schools": "demo schools"}
    )


def demo_scenario() -> Scenario:
    """The demo's scenario (see :data:`DEMO_SCENARIO`)."""
    return Scenario.from_dict(DEMO_SCENARIO, source="demo scenario")


def write_demo_inputs(folder: str | os.PathLike) -> dict[str, Path]:
    """Write the demo's input files (units.gpkg, schools.csv, scenario.toml) for the CLI.

    Returns
    -------
    dict
        Paths by role.
    """
    from . import io

    folder = Path(folder)
    units, schools = demo_frames()
    paths = {
        "units": io.write_vector(folder / "units.gpkg", units, driver="GPKG"),
        "schools": io.write_csv(
            folder / "schools.csv",
            pd.DataFrame({
                "school_id": schools["school_id"],
                "name": schools["name"],
                "capacity": schools["capacity"],
                "lon": schools.geometry.x.round(6),
                "lat": schools.geometry.y.round(6),
            }),
        ),
        "scenario": demo_scenario().save(folder / "scenario.toml"),
    }
    from .demo_feeders import write_middle_schools  # the illustrative middle schools

    paths["middle_schools"] = write_middle_schools(folder / "middle_schools.csv", units, schools)
    return paths
