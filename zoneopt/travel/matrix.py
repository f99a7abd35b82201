"""The travel matrix: road or walking distance from every unit to every school (CONTRACT.md).

``distance_km`` = straight line from the unit's centroid to the nearest node of the mode's network
+ shortest path along the network to the node nearest the school + straight line from that node to
the school. Everything is measured in the district's UTM zone (as the straight-line distances are),
so by the triangle inequality a road distance is never shorter than the straight line.

How: a KD-tree snaps centroids and schools to nodes; one Dijkstra search per school (on the reversed
graph when driving, so one-way streets count in the direction of the trip from home to school),
bounded by ``max_km``, gives the distance from every node to that school at once.

``minutes`` is the time along that same shortest route: walking at 4.8 km/h; driving at each way's
speed (``maxspeed`` or the class default). The two off-network legs (centroid to the first node,
last node to the school door) count at walking speed in both modes: there is no mapped road on them.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .. import io
from ..errors import ZoneoptInputError
from .network import WALK_KMH, Network, read_network

#: A unit or school farther than this from every node of the network (km) gets a warning: most
#: likely an area with no mapped road, or an extract that does not cover the district.
SNAP_WARN_KM = 1.0

#: Searches over more node-visits than this show a progress bar (when ``progress`` is None).
PROGRESS_MIN_WORK = 5_000_000

#: Searches over more node-visits than this are shared between two processes (when ``workers`` is
#: None): below it, starting a process costs more than it saves.
PARALLEL_MIN_WORK = 20_000_000

COLUMNS = ["unit_id", "school_id", "distance_km", "minutes"]


class TravelWarning(UserWarning):
    """A unit or school far from the network, or a unit that reaches no school."""


def matrix(
    units: str | os.PathLike | gpd.GeoDataFrame,
    schools: str | os.PathLike | gpd.GeoDataFrame | pd.DataFrame,
    network: str | os.PathLike | Network,
    *,
    mode: str = "walk",
    max_km: float = math.inf,
    progress: bool | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Compute the travel matrix of a district from an OpenStreetMap extract.

    Parameters
    ----------
    units
        The units file (or frame), as for ``zoneopt optimize``.
    schools
        The schools file (or frame).
    network
        An ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` / osmnx ``.graphml`` file, or a :class:`Network`
        (whose own mode is then used).
    mode
        ``"walk"`` or ``"drive"``.
    max_km
        Pairs farther than this are left out (and so not allowed when the matrix is used).
    progress
        Show a progress bar over schools; None shows it on long runs only.
    workers
        Processes for the searches; None: two on long runs when the machine has two cores.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, school_id, distance_km, minutes`` for every pair with a path within ``max_km``,
        in the order of the units and then the schools. ``attrs["snap_km"]`` holds each unit's
        distance to its node (a dict by unit_id).

    Warns
    -----
    TravelWarning
        Naming units (and schools) more than :data:`SNAP_WARN_KM` from the network, and units that
        reach no school.

    Examples
    --------
    >>> import zoneopt.travel  # doctest: +SKIP
    >>> table = zoneopt.travel.matrix("units.gpkg", "schools.csv", "city.osm.pbf", mode="walk")
    >>> zoneopt.travel.write_matrix(table, "travel.csv")
    """
    from ..district import District

    if not (max_km > 0):
        raise ZoneoptInputError(f"--max-km {max_km}: must be a positive number of km", column="max_km")
    net = network if isinstance(network, Network) else read_network(network, mode)
    mode = net.mode
    if isinstance(units, str | os.PathLike) or isinstance(schools, str | os.PathLike):
        uframe = io.read_units(units) if isinstance(units, str | os.PathLike) else units
        sframe = io.read_schools(schools) if isinstance(schools, str | os.PathLike) else schools
        sources = {"units": str(units) if isinstance(units, str | os.PathLike) else "units",
                   "schools": str(schools) if isinstance(schools, str | os.PathLike) else "schools"}
    else:
        uframe, sframe, sources = units, schools, {}
    # The district's own validation and projection: the same centroids and UTM zone as the
    # straight-line distances it will be compared with.
    district = District.from_frames(uframe, sframe, sources=sources)
    crs = district.crs
    uxy = shapely.get_coordinates(shapely.centroid(district.units.geometry.to_numpy()))
    sxy = shapely.get_coordinates(district.schools.geometry.to_numpy())
    nxy = net.project(crs)
    g_km, g_min = net.graph(nxy)

    tree = cKDTree(nxy)
    du, nu = tree.query(uxy)
    ds, ns = tree.query(sxy)
    du, ds = du / 1000.0, ds / 1000.0
    _warn_far(district.unit_ids, du, "unit", mode)
    _warn_far(district.school_ids, ds, "school", mode)

    # From each school backwards to every node: the reversed graph (identical when walking).
    search = g_km.T.tocsr() if mode == "drive" else g_km
    targets, inverse = np.unique(nu, return_inverse=True)
    n_units, n_schools = len(uxy), len(sxy)
    limits = max_km - ds
    # Schools on one node share a search when no bound makes their searches differ.
    keys = ns if math.isinf(max_km) else np.arange(n_schools)
    first = {}
    for j in range(n_schools):
        if limits[j] >= 0:
            first.setdefault(int(keys[j]), j)
    todo = sorted(first.values())
    work = len(todo) * net.n_nodes
    show = progress if progress is not None else work > PROGRESS_MIN_WORK
    if workers is None:
        workers = _default_workers(work)
    road, road_min = _search_all(search, g_min if mode == "drive" else None,
                                 ns[todo], limits[todo], targets, workers, show, mode)
    row_of = {j: k for k, j in enumerate(todo)}

    rows_u: list[np.ndarray] = []
    rows_s: list[np.ndarray] = []
    rows_d: list[np.ndarray] = []
    rows_m: list[np.ndarray] = []
    for j in range(n_schools):
        if limits[j] < 0:
            continue
        k = row_of[first[int(keys[j])]]
        total = du + road[k][inverse] + ds[j]
        ok = np.isfinite(total) & (total <= max_km + 1e-12)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        if road_min is None:
            minutes = total[idx] / WALK_KMH * 60.0
        else:
            minutes = road_min[k][inverse[idx]] + (du[idx] + ds[j]) / WALK_KMH * 60.0
        rows_u.append(idx)
        rows_s.append(np.full(len(idx), j))
        rows_d.append(total[idx])
        rows_m.append(minutes)
    if rows_u:
        ui, sj = np.concatenate(rows_u), np.concatenate(rows_s)
        dist, mins = np.concatenate(rows_d), np.concatenate(rows_m)
    else:
        ui = sj = np.zeros(0, dtype=np.int64)
        dist = mins = np.zeros(0)
    order = np.lexsort((sj, ui))
    table = pd.DataFrame({
        "unit_id": district.unit_ids[ui[order]],
        "school_id": district.school_ids[sj[order]],
        "distance_km": dist[order],
        "minutes": mins[order],
    })
    reached = np.zeros(n_units, dtype=bool)
    reached[ui] = True
    if not reached.all():
        _warn_list(district.unit_ids[~reached],
                   f"reach no school along the {mode} network"
                   + (f" within {max_km:g} km" if math.isfinite(max_km) else "")
                   + " (a network piece cut off from the schools?); they will have no school "
                   "allowed when this matrix is used")
    # Plain dicts: a Series in attrs would break pandas' merges and concatenations of the table.
    table.attrs["snap_km"] = {str(u): float(d) for u, d in zip(district.unit_ids, du, strict=True)}
    table.attrs["network"] = net.source
    return table


def _default_workers(work: int) -> int:
    """Two processes on long runs (csgraph holds the GIL, so threads would not help)."""
    import multiprocessing as mp

    if work < PARALLEL_MIN_WORK or (os.cpu_count() or 1) < 2 or mp.current_process().daemon:
        return 1
    return 2


def _search_all(search, g_min, sources, limits, targets, workers: int, show: bool, mode: str):
    """Road km (and, when driving, minutes) from every target node to each source node.

    Returns two ``(len(sources), len(targets))`` arrays (the second None when walking). With
    ``workers`` > 1 the searches are shared among spawned processes that receive the graph once.
    """
    from tqdm.auto import tqdm

    n = len(sources)
    road = np.full((n, len(targets)), np.inf)
    road_min = None if g_min is None else np.full((n, len(targets)), np.inf)
    bar = tqdm(total=n, desc=f"travel ({mode})", unit="school", disable=not show, leave=False)
    jobs = [(k, int(sources[k]), float(limits[k])) for k in range(n)]
    try:
        if workers <= 1 or n < 2:
            _init_worker(search, g_min, targets)
            results = map(_search_one, jobs)
            pool = None
        else:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(
                workers, initializer=_init_worker, initargs=(search, g_min, targets))
            results = pool.imap_unordered(_search_one, jobs, chunksize=max(1, n // (8 * workers)))
        for k, dist, minutes in results:
            road[k] = dist
            if road_min is not None:
                road_min[k] = minutes
            bar.update()
        if pool is not None:
            pool.close()
            pool.join()
            pool = None
    finally:
        bar.close()
        if workers <= 1 or n < 2:
            _WORKER.clear()
        elif pool is not None:
            pool.terminate()
    return road, road_min


_WORKER: dict[str, Any] = {}


#: Driving searches add up km and minutes in one number: whole millimetres (each arc rounded up, so
#: a route is never shorter than its geometry) times 2**26, plus minutes in 1e-4 units, which stay
#: below 2**26 on any route the exactness check admits (speeds are at least 5 km/h). Sums of whole
#: numbers are exact in float64 below 2**53, so one search gives the shortest route (ties within a
#: millimetre go to the faster route) and its exact minutes; beyond 2**53 (routes over 134 km) the
#: search falls back to the float graph and adds minutes along its tree.
_PACK = float(2**26)
_EXACT = float(2**53)


def _init_worker(search, g_min, targets) -> None:
    _WORKER.update(search=search, targets=targets, packed=None,
                   arc_min=_ArcLookup(g_min) if g_min is not None else None)
    if g_min is not None:
        t_min = g_min.T.tocsr()
        t_min.sort_indices()
        search.sort_indices()
        if (np.array_equal(t_min.indptr, search.indptr)
                and np.array_equal(t_min.indices, search.indices)):
            packed = search.copy()
            packed.data = (np.ceil(search.data * 1e6) * _PACK
                           + np.minimum(np.round(t_min.data * 1e4), _PACK - 1))
            _WORKER["packed"] = packed


def _search_one(job):
    k, source, limit = job
    graph, targets, arc_min = _WORKER["search"], _WORKER["targets"], _WORKER["arc_min"]
    if arc_min is None:
        dist = dijkstra(graph, directed=True, indices=source, limit=limit)
        return k, dist[targets], None
    packed = _WORKER["packed"]
    if packed is not None:
        lim = (math.floor(limit * 1e6) + 1) * _PACK if math.isfinite(limit) else np.inf
        both = dijkstra(packed, directed=True, indices=source, limit=lim)[targets]
        reached = np.isfinite(both)
        if not (both[reached] >= _EXACT).any():
            mm = np.floor(both / _PACK)
            minutes = np.full(len(targets), np.inf)
            minutes[reached] = (both[reached] - mm[reached] * _PACK) / 1e4
            return k, mm / 1e6, minutes
    dist, pred = dijkstra(graph, directed=True, indices=source, limit=limit,
                          return_predecessors=True)
    return k, dist[targets], _route_minutes(pred, arc_min, source)[targets]


class _ArcLookup:
    """Minutes of arc ``(u, v)`` for many arcs at once (a sorted key search on the csr arrays)."""

    def __init__(self, g_min) -> None:
        g = g_min.tocsr()
        g.sort_indices()
        n = g.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        self.n = n
        self.keys = rows * n + g.indices.astype(np.int64)
        self.values = g.data

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.keys, u.astype(np.int64) * self.n + v)
        return self.values[k]


def _route_minutes(pred: np.ndarray, arc_min: _ArcLookup, source: int) -> np.ndarray:
    """Minutes from every node along its shortest-path-tree route to ``source`` (inf if none).

    The tree comes from the search on the reversed graph: ``pred[v] = u`` stands for the original
    arc ``v -> u``. Route times add up by pointer doubling (log2 of the tree depth vector steps).
    """
    n = len(pred)
    reached = np.flatnonzero(pred >= 0)
    acc = np.zeros(n)
    parent = np.arange(n)
    acc[reached] = arc_min(reached, pred[reached])
    parent[reached] = pred[reached]
    sub = np.concatenate([[source], reached])  # only the tree's nodes take part
    while True:
        p = parent[sub]
        if np.all(parent[p] == p):
            acc[sub] = acc[sub] + acc[p] * (p != sub)
            break
        acc[sub] = acc[sub] + acc[p]
        parent[sub] = parent[p]
    out = np.full(n, np.inf)
    out[sub] = acc[sub]
    out[source] = 0.0
    return out


def _warn_far(ids: np.ndarray, snap_km: np.ndarray, what: str, mode: str) -> None:
    far = np.flatnonzero(snap_km > SNAP_WARN_KM)
    if len(far):
        far = far[np.argsort(-snap_km[far], kind="stable")]
        named = ", ".join(f"{ids[i]} ({snap_km[i]:.2f} km)" for i in far[:10])
        more = f" and {len(far) - 10} more" if len(far) > 10 else ""
        warnings.warn(
            f"{len(far)} {what}(s) more than {SNAP_WARN_KM:g} km from the nearest node of the {mode} "
            f"network (no mapped road nearby, or the extract does not cover them): {named}{more}; "
            "their distances include that straight-line leg",
            TravelWarning, stacklevel=3,
        )


def _warn_list(ids: np.ndarray, what: str) -> None:
    named = ", ".join(str(u) for u in ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10
                                                   else "")
    warnings.warn(f"{len(ids)} unit(s) {what}: {named}", TravelWarning, stacklevel=3)


def write_matrix(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a travel matrix CSV (``unit_id,school_id,distance_km,minutes``) atomically."""
    return io.write_csv(path, table[COLUMNS])
