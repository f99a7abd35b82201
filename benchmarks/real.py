"""Real public geographies for the benchmark, shipped in benchmarks/data with their licence.

Both come from the example datasets of PySAL's libpysal (BSD 3-clause, ``data/LICENSE-libpysal.txt``;
each folder keeps libpysal's README with the original source). Schools are illustrative, sited
exactly as the Sacramento demo's (:func:`zoneopt.demo.site_schools`: a student-weighted k-means, one
school per unit, capacities following each cluster's students times a fixed pseudo-random factor,
108% seats per student), so today's nearest-school zones overfill some schools.

- ``georgia``: the 159 counties of Georgia (1990), with their real population ``TotPop90`` and
  poverty rate ``PctPov``. Students: 9% of the population (a K-5 share); low-income students: that
  times the poverty rate. 10 schools. The shapefile has no ``.prj``: its coordinates are UTM zone 16N
  metres (NAD83, EPSG:26916), as its ``X``/``Y`` columns and ``Latitude``/``Longitud`` agree.
- ``albuquerque``: the 195 census tracts (2000) of the Albuquerque CBSA (code 10740), lon/lat NAD83
  (EPSG:4269, no ``.prj`` either). One tract is an island: it shares no boundary with the others.
  The file holds geography only, so students are *modelled*: census tracts are drawn for about
  4,000 residents each, so every tract gets 300 to 700 elementary students (a fixed pseudo-random
  draw, seed 10740) and a low-income share rising from the tracts' north-east to south-west (10% to
  60%, plus noise). 12 schools, all on the main landmass. Real geometry with an island, modelled people: a test of the solver
  on real shapes, not a statement about Albuquerque.
- ``county``: the Sacramento demo's 279 census tracts (2000) and 24 schools (:func:`zoneopt.demo.county_frames`,
  shipped with zoneopt under its own licence and provenance), with no distance limit: the district
  where every relaxation balances the schools and only the search decides the plan.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

DATA = Path(__file__).resolve().parent / "data"

#: name -> (label, schools, max_extra_distance_km)
REAL_DISTRICTS = {
    # Counties and rural tracts are large: tighter limits leave some units only a full school, or
    # no connected way to an allowed one (the diagnosis proves those scenarios infeasible).
    "georgia": ("Georgia counties 1990 (real population)", 10, 80.0),
    "albuquerque": ("Albuquerque tracts 2000 (island; modelled students)", 12, 40.0),
    # The demo's whole county with no distance limit: every relaxation balances it (root LP 0).
    "county": ("Sacramento county tracts 2000, no distance limit", 24, float("inf")),
}


def real_frames(name: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units and schools of a shipped real district (see the module docstring)."""
    from zoneopt.demo import county_frames, site_schools

    if name == "county":
        return county_frames()  # the demo's own schools and students (zoneopt.demo)
    if name == "georgia":
        g = gpd.read_file(DATA / "georgia" / "G_utm.shp").set_crs("EPSG:26916", allow_override=True)
        g = g.sort_values("AreaKey").reset_index(drop=True)
        students = np.round(g["TotPop90"].to_numpy(float) * 0.09).astype(np.int64)
        low = np.minimum(np.round(students * g["PctPov"].to_numpy(float) / 100.0), students)
        ids = g["AreaKey"].astype(int).astype(str).to_numpy()
    elif name == "albuquerque":
        g = gpd.read_file(DATA / "albuquerque" / "10740.shp").set_crs("EPSG:4269",
                                                                      allow_override=True)
        g = g.sort_values("STFID").reset_index(drop=True)
        rng = np.random.default_rng(10740)
        students = rng.integers(300, 701, len(g))
        c = g.geometry.to_crs(g.estimate_utm_crs()).centroid
        x, y = c.x.to_numpy(), c.y.to_numpy()
        t = ((x.max() - x) + (y.max() - y)) / ((x.max() - x.min()) + (y.max() - y.min()))
        share = np.clip(0.1 + 0.5 * t + rng.uniform(-0.08, 0.08, len(g)), 0.0, 1.0)
        low = np.round(students * share)
        ids = g["STFID"].astype(str).to_numpy()
    else:
        raise KeyError(f"unknown real district {name!r}; choose from {', '.join(REAL_DISTRICTS)}")
    units = gpd.GeoDataFrame(
        {"unit_id": ids, "students": students.astype(np.int64), "low_income": low.astype(np.int64)},
        geometry=g.geometry.to_numpy(), crs=g.crs,
    )
    # Schools only on the main landmass, so that the island is an island (a part with no school).
    from scipy.sparse.csgraph import connected_components

    from zoneopt.district import rook_adjacency

    proj = units.to_crs(units.estimate_utm_crs())
    _, comp = connected_components(rook_adjacency(proj.geometry.to_numpy()), directed=False)
    main = comp == np.argmax(np.bincount(comp))
    return units, site_schools(units[main], REAL_DISTRICTS[name][1])
