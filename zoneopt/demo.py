"""The shipped real-data example: a sub-area of Sacramento County (Census 2000 tracts) and its
illustrative elementary schools, sized as elementary schools are.

How the demo district is made (deterministic, documented here and in data/README.md):

- **Units**: the :data:`SUBAREA_TRACTS` census tracts of Sacramento County (GEOID prefix 06067)
  whose centroids are nearest to :data:`SUBAREA_CENTRE` (38.614 N, 121.299 W, between Carmichael
  and Fair Oaks, in the county's eastern suburbs), from the Census 2000 SF3 tract file shipped
  with the package (EPSG:4269). A school district is a part of a county: this one is a coherent,
  connected sub-area whose tracts each hold at most 900 elementary-age children, so that every
  school can serve an elementary-sized zone (the county has tracts of up to 1,300 such children,
  which alone would make a school above 900).
- **Students**: elementary-age children (5 to 10). The file gives the population under 16
  (``POP_16``); with ages spread evenly, six of those sixteen single years are 5 to 10, so
  ``students = round(POP_16 x 6/16)``.
- **Low-income students**: the file's only income-to-poverty split is persons below the poverty line
  (``POV_TOT`` of ``POV_POP``). ``low_income = round(students x POV_TOT / POV_POP)``. This counts
  children under 100% of the poverty line, fewer than the 185% free/reduced-price-lunch line a district
  would use, so shares are lower than a real district's FRL shares; the geography of poverty is real.
- **Schools**: the data holds no school locations, so one *illustrative* elementary school is sited
  per :data:`STUDENTS_PER_SCHOOL` students, where students live: a student-weighted k-means of
  tract centroids (k-means++ start, seed 2000), each school at the representative point of the
  tract nearest its cluster centre (one school per tract). Each school's capacity is its load
  under today's zones (the nearest school) times a fixed pseudo-random factor (0.9 to 1.3, seed
  2000), rounded up to 25 seats and kept within 550 to 900 seats: some schools are overcrowded
  today and others have room, as in a district due for rezoning. These are not real schools;
  their names are "Elementary 1" ... (numbered west to east).
- **Status quo**: no current zones are known, so today's school is the nearest one (CONTRACT.md).

The whole county (279 tracts, 24 schools of the first release, sited by the same k-means) stays
available as a scale example for the benchmarks: :func:`county_frames`, :func:`county_district`.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .district import District, rook_adjacency
from .scenario import Scenario

#: The county example's number of schools (the first release's demo; a scale example now).
N_SCHOOLS = 24
CAPACITY_FACTOR = 1.08
COUNTY_PREFIX = "06067"
#: The demo's sub-area: the tracts whose centroids are nearest to this point (lat, lon).
SUBAREA_CENTRE = (38.6144, -121.2987)
SUBAREA_TRACTS = 45
#: One illustrative school per this many students (elementary schools of 300 to 900).
STUDENTS_PER_SCHOOL = 700
#: Capacity bounds of the illustrative schools, in seats.
MIN_SEATS, MAX_SEATS = 550, 900

#: The demo's policy: balance, no school over capacity or below 55% full (303 students at 550 seats), at most 4 km farther
#: than the nearest school, connected zones; 60 s keeps `make demo` near a minute.
DEMO_SCENARIO = {
    "objective": {"balance": "dissimilarity"},
    "constraints": {
        "max_utilization": 1.0,
        "min_utilization": 0.55,
        "max_extra_distance_km": 4.0,
        "contiguity": True,
    },
    "solver": {"time_limit_s": 60.0, "mip_gap": 0.01},
    "report": {
        "title": "Eastern Sacramento County demo: illustrative elementary schools on real "
        "census tracts",
        "unit_name": "census tracts",
    },
}


def tracts_path() -> Path:
    """Path of the shipped Sacramento tract shapefile."""
    return Path(str(resources.files("zoneopt") / "data" / "sacramento2" / "sacramentot2.shp"))


def county_units() -> gpd.GeoDataFrame:
    """The 279 tracts of Sacramento County with students and low-income students (see above).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4269 polygons with ``unit_id``, ``students``, ``low_income`` and the source columns
        ``median_household_income``, ``poverty_rate``; sorted by GEOID.
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
    return gpd.GeoDataFrame(
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


def county_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The whole county with 24 large illustrative schools: a scale example for benchmarks.

    Returns
    -------
    (units, schools)
        The 279 tracts (:func:`county_units`) and :data:`N_SCHOOLS` schools of
        :func:`site_schools` (4,000 to 9,000 students each: not elementary-sized).
    """
    units = county_units()
    return units, site_schools(units, N_SCHOOLS)


def county_district() -> District:
    """The county scale example (:func:`county_frames`), ready to optimise."""
    units, schools = county_frames()
    return District.from_frames(
        units, schools,
        sources={"units": "Sacramento County tracts", "schools": "county example schools"},
    )


def subarea_units() -> gpd.GeoDataFrame:
    """The demo's units: the :data:`SUBAREA_TRACTS` county tracts nearest :data:`SUBAREA_CENTRE`.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`county_units`, only the sub-area's tracts (sorted by GEOID).
    """
    units = county_units()
    utm = units.estimate_utm_crs()
    centroids = units.to_crs(utm).geometry.centroid
    lat, lon = SUBAREA_CENTRE
    centre = gpd.GeoSeries.from_xy([lon], [lat], crs="EPSG:4326").to_crs(utm).iloc[0]
    # Ties in distance are broken by GEOID (the frame's order): deterministic.
    order = np.argsort(centroids.distance(centre).to_numpy(), kind="stable")
    keep = np.sort(order[:SUBAREA_TRACTS])
    return units.iloc[keep].reset_index(drop=True)


def demo_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo's units and schools, derived from the shipped tracts as the module docstring says.

    Returns
    -------
    (units, schools)
        Units in EPSG:4269 with ``unit_id``, ``students``, ``low_income`` (and the source columns
        ``median_household_income``, ``poverty_rate``); schools as WGS84 points with ``school_id``,
        ``name``, ``capacity``.
    """
    units = subarea_units()
    schools = site_elementary_schools(units)
    from .demo_feeders import add_middle_counts  # middle-school counts (zoneopt/demo_feeders.py)

    return add_middle_counts(units), schools


def site_elementary_schools(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Illustrative elementary schools whose nearest-school zones hold 350 to 900 students.

    Sited as :func:`site_schools` does, one school per :data:`STUDENTS_PER_SCHOOL` students;
    then, while today's (nearest-school) zone of a school holds more than :data:`MAX_SEATS`
    students, the zone is split in two by a weighted 2-means and a school is added at the tract
    nearest the new half's centre; while a zone holds fewer than 350, its school is removed.
    Capacity is near each school's load under today's zones, as the module docstring says, and
    never below 110% of the school's own tract (its home unit, which always attends it).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``school_id`` (``E01``..., west to east), ``name``, ``capacity``.
    """
    k = max(2, int(round(units["students"].sum() / STUDENTS_PER_SCHOOL)))
    utm = units.estimate_utm_crs()
    proj = units.to_crs(utm)
    xy = shapely.get_coordinates(shapely.centroid(proj.geometry.to_numpy()))
    w = proj["students"].to_numpy(float)
    points, _ = _kmeans_sites(proj, k)
    sites = [_tract_of(proj, pt) for pt in points]
    for _ in range(4 * k):
        nearest, load = _nearest_loads(xy, w, proj, sites)
        over, under = int(np.argmax(load)), int(np.argmin(load))
        if load[over] > MAX_SEATS:
            zone = np.flatnonzero(nearest == over)
            far = zone[np.argmax(((xy[zone] - xy[sites[over]]) ** 2).sum(axis=1))]
            centres = np.array([xy[sites[over]], xy[far]])
            for _ in range(20):
                half = np.argmin(((xy[zone, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
                for h in (0, 1):
                    if w[zone[half == h]].sum() > 0:
                        sel = zone[half == h]
                        centres[h] = (xy[sel] * w[sel, None]).sum(axis=0) / w[sel].sum()
            free = [i for i in zone if i not in sites]
            sites.append(min(free, key=lambda i: (((xy[i] - centres[1]) ** 2).sum(), i)))
        elif load[under] < 350:
            fewer = sites[:under] + sites[under + 1:]
            if _nearest_loads(xy, w, proj, fewer)[1].max() > MAX_SEATS:
                break
            sites = fewer
        else:
            break
    sites.sort(key=lambda i: (xy[i, 0], xy[i, 1]))
    k = len(sites)
    pts = shapely.get_coordinates(
        np.array([proj.geometry.iloc[i].representative_point() for i in sites], dtype=object))
    dist = np.sqrt(((xy[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)) / 1000.0
    extra = DEMO_SCENARIO["constraints"]["max_extra_distance_km"]
    eligible = dist <= dist.min(axis=1, keepdims=True) + extra
    zones = _balanced_zones(rook_adjacency(proj.geometry.to_numpy()), w, sites, eligible, dist)
    # Capacity: the balanced zones' load times a fixed pseudo-random factor, so that those zones
    # meet every rule of the demo (a plan exists) while today's nearest-school zones leave some
    # schools over capacity and others with room.
    load = np.bincount(zones, weights=w, minlength=k)
    factor = 1.0 + 0.3 * np.random.default_rng(2000).random(k)
    capacity = np.clip(np.ceil(load * factor / 25.0) * 25, MIN_SEATS, MAX_SEATS)
    capacity = np.maximum(capacity, load).astype(np.int64)
    schools = gpd.GeoDataFrame(
        {
            "school_id": [f"E{j + 1:02d}" for j in range(k)],
            "name": [f"Elementary {j + 1}" for j in range(k)],
            "capacity": capacity,
        },
        geometry=[proj.geometry.iloc[i].representative_point() for i in sites],
        crs=utm,
    )
    return schools.to_crs("EPSG:4326")


def _balanced_zones(
    adjacency: Any, w: np.ndarray, sites: list[int], eligible: np.ndarray, dist: np.ndarray
) -> np.ndarray:
    """Connected zones grown from the sites, the least-loaded zone taking its nearest neighbour.

    Only tracts within the demo's distance limit of a school join its zone, and never past
    :data:`MAX_SEATS` students while another zone can take the tract. Returns each tract's zone.
    """
    zone = np.full(len(w), -1)
    load = np.zeros(len(sites))
    for j, i in enumerate(sites):
        zone[i] = j
        load[j] += w[i]
    while (zone < 0).any():
        best = None
        for strict in (True, False):
            for j in np.argsort(load, kind="stable"):
                members = np.flatnonzero(zone == j)
                frontier = {int(n) for m in members for n in adjacency[m].indices if zone[n] < 0}
                frontier = [n for n in frontier if eligible[n, j]
                            and (not strict or load[j] + w[n] <= MAX_SEATS)]
                if frontier:
                    best = (int(j), min(frontier, key=lambda n: (dist[n, j], n)))
                    break
            if best is not None:
                break
        if best is None:  # a tract no zone can reach: nearest school (not in the demo's data)
            rest = np.flatnonzero(zone < 0)
            zone[rest] = np.argmin(dist[rest], axis=1)
            break
        j, n = best
        zone[n] = j
        load[j] += w[n]
    return zone


def _tract_of(proj: gpd.GeoDataFrame, point: Any) -> int:
    return int(np.flatnonzero(proj.geometry.contains(point).to_numpy())[0])


def _nearest_loads(
    xy: np.ndarray, w: np.ndarray, proj: gpd.GeoDataFrame, sites: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each tract's nearest site (as CONTRACT.md measures it) and each site's students."""
    pts = shapely.get_coordinates(
        np.array([proj.geometry.iloc[i].representative_point() for i in sites], dtype=object))
    nearest = np.argmin(((xy[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2), axis=1)
    return nearest, np.bincount(nearest, weights=w, minlength=len(sites))


def _kmeans_sites(proj: gpd.GeoDataFrame, k: int) -> tuple[list, np.ndarray]:
    """Student-weighted k-means of tract centroids; one site per cluster, in distinct tracts.

    Returns
    -------
    (points, label)
        Each site (the representative point of the tract nearest its cluster centre) and each
        tract's cluster.
    """
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
    return points, label


def site_schools(units: gpd.GeoDataFrame, k: int) -> gpd.GeoDataFrame:
    """Site ``k`` illustrative schools where students live (student-weighted k-means, deterministic).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 points with ``school_id`` (``S01``...), ``name``, ``capacity``.
    """
    utm = units.estimate_utm_crs()
    proj = units.to_crs(utm)
    w = proj["students"].to_numpy(float)
    points, label = _kmeans_sites(proj, k)
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
        units, schools,
        sources={"units": "demo units (eastern Sacramento County tracts)",
                 "schools": "demo schools"},
    )


def demo_scenario(*, years: bool = False) -> Scenario:
    """The demo's scenario (see :data:`DEMO_SCENARIO`); with ``years``, planned for 2027-2031 with
    the demo's projection (:mod:`zoneopt.census.demo_projection`)."""
    from .census.demo_projection import demo_years_scenario

    extra = demo_years_scenario() if years else {}
    return Scenario.from_dict({**DEMO_SCENARIO, **extra}, source="demo scenario")


def write_demo_inputs(folder: str | os.PathLike) -> dict[str, Path]:
    """Write the demo's input files (units.gpkg, schools.csv, scenario.toml) for the CLI.

    Returns
    -------
    dict
        Paths by role.
    """
    from . import io
    from .census.demo_projection import demo_projections

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
        "projections": io.write_csv(folder / "projections.csv", demo_projections(units)),
        "scenario_years": demo_scenario(years=True).with_values(
            {"years.projections": "projections.csv"}).save(folder / "scenario_years.toml"),
    }
    from .demo_feeders import write_middle_schools  # the illustrative middle schools

    paths["middle_schools"] = write_middle_schools(folder / "middle_schools.csv", units, schools)
    return paths
