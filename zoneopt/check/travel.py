"""The checker's own view of travel: distances from the files, walk-zone locks, barriers.

Re-derived from the input files with code of its own (it imports nothing from zoneopt.travel, the
model, the search or the metrics): the travel matrix CSV is re-read with pandas, straight lines are
recomputed from the units' geometry, and the barrier rule is measured differently from
:mod:`zoneopt.travel.barriers` (by sampling points along each shared boundary instead of
intersecting it with buffers), so that a mistake in one cannot hide in the other.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: The barrier rule of CONTRACT.md as documented in the README: within 30 m, over half the length.
TOLERANCE_M = 30.0
SHARE = 0.5
#: Spacing of the sample points along a shared boundary, metres.
SAMPLE_M = 0.5
#: Shortest shared boundary that makes two units neighbours (CONTRACT.md: 1 cm).
MIN_SHARED_M = 0.01


def barrier_blocked_pairs(
    unit_geoms: np.ndarray,
    barrier_geoms: np.ndarray,
    *,
    tolerance_m: float = TOLERANCE_M,
    share: float = SHARE,
    pairs: list[tuple[int, int]] | None = None,
) -> set[tuple[int, int]]:
    """Neighbour pairs ``(i, j)``, ``i < j``, whose shared boundary runs along a barrier.

    Parameters
    ----------
    unit_geoms
        Unit polygons in a projected CRS (metres).
    barrier_geoms
        Barrier lines (or polygons) in the same CRS.
    tolerance_m, share
        "Along" = within ``tolerance_m`` of a barrier, for more than ``share`` of the length.
    pairs
        The neighbour pairs to test (default: every pair of units sharing a boundary >= 1 cm).

    Returns
    -------
    set of tuple
        The pairs that are not neighbours because of a barrier; check_plan subtracts them from its
        own adjacency.
    """
    unit_geoms = np.asarray(unit_geoms, dtype=object)
    barrier_geoms = np.asarray(barrier_geoms, dtype=object)
    if len(barrier_geoms) == 0:
        return set()
    if pairs is None:
        pairs = rook_pairs(unit_geoms)
    if not pairs:
        return set()
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    lines = shapely.intersection(shapely.boundary(unit_geoms[a]), shapely.boundary(unit_geoms[b]))
    btree = shapely.STRtree(barrier_geoms)
    near_pair, near_bar = btree.query(lines, predicate="dwithin", distance=tolerance_m)
    out: set[tuple[int, int]] = set()
    for k in np.unique(near_pair):
        line = lines[k]
        if shapely.length(line) <= 0:
            continue
        pts = _sample(line)
        dmin = np.full(len(pts), np.inf)
        for bar in near_bar[near_pair == k]:
            dmin = np.minimum(dmin, shapely.distance(pts, barrier_geoms[bar]))
        if np.mean(dmin <= tolerance_m) > share:
            out.add((int(min(a[k], b[k])), int(max(a[k], b[k]))))
    return out


def rook_pairs(unit_geoms: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of units whose boundaries share at least 1 cm (CONTRACT.md's adjacency)."""
    tree = shapely.STRtree(unit_geoms)
    a, b = tree.query(unit_geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    lengths = shapely.length(shapely.intersection(shapely.boundary(unit_geoms[a]),
                                                  shapely.boundary(unit_geoms[b])))
    ok = lengths >= MIN_SHARED_M
    return list(zip(a[ok].tolist(), b[ok].tolist(), strict=True))


def _sample(line: Any) -> np.ndarray:
    """Points every SAMPLE_M metres along each part of a (multi)line, at the middle of each step."""
    out = []
    for part in shapely.get_parts(shapely.line_merge(line) if line.geom_type != "LineString"
                                  else line):
        if part.geom_type not in ("LineString", "LinearRing"):
            continue
        n = max(1, math.ceil(part.length / SAMPLE_M))
        out.extend(shapely.line_interpolate_point(part, (np.arange(n) + 0.5) / n, normalized=True))
    return np.asarray(out, dtype=object)


def _stamp(path: str) -> tuple[int, int]:
    """The file's modification time and size: a changed file is read again."""
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _file_distances(path: str, stamp: tuple[int, int], uids: tuple, sids: tuple) -> np.ndarray:
    """Unit x school km from the travel matrix CSV (inf where absent); cached per file version,
    since check_plan runs many times on one district (the search, the editor)."""
    table = pd.read_csv(path, dtype={"unit_id": str, "school_id": str})
    ui = pd.Index(uids).get_indexer(table["unit_id"].str.strip())
    sj = pd.Index(sids).get_indexer(table["school_id"].str.strip())
    d = np.full((len(uids), len(sids)), np.inf)
    ok = (ui >= 0) & (sj >= 0)
    d[ui[ok], sj[ok]] = table["distance_km"].to_numpy(dtype=float)[ok]
    d.setflags(write=False)
    return d


@lru_cache(maxsize=4)
def _file_barrier_graph(path: str, stamp: tuple[int, int], crs_wkt: str, geoms_key: bytes,
                        geoms_wkb: tuple) -> tuple[tuple, frozenset]:
    """(rook pairs, barrier-blocked pairs) of the units against the barriers file; cached."""
    geoms = np.asarray(shapely.from_wkb(list(geoms_wkb)), dtype=object)
    lines = gpd.read_file(path)
    bgeoms = (lines.to_crs(crs_wkt).geometry.to_numpy() if len(lines)
              else np.zeros(0, dtype=object))
    pairs = rook_pairs(geoms)
    return tuple(pairs), frozenset(barrier_blocked_pairs(geoms, bgeoms, pairs=pairs))


def _matrix_path(district: Any, scenario: Any) -> str:
    return str(district.sources.get("travel_matrix") or scenario.travel.matrix or "")


_DISTANCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def own_distances(district: Any, scenario: Any) -> tuple[np.ndarray, str]:
    """Unit x school km from the travel matrix file (inf where absent), or straight lines.

    Kept per district object and file (path and modification time), read-only: the what-if editor
    checks a plan after every move.
    """
    path = _matrix_path(district, scenario)
    key = (path, Path(path).stat().st_mtime_ns if path and Path(path).exists() else None)
    try:
        cached = _DISTANCES.setdefault(district, {})
    except TypeError:  # not weakly referenceable: no cache
        cached = {}
    if key not in cached:
        d, source = _own_distances(district, path)
        d.setflags(write=False)
        cached[key] = (d, source)
    return cached[key]


def _own_distances(district: Any, path: str) -> tuple[np.ndarray, str]:
    uids = [str(u) for u in district.units["unit_id"]]
    sids = [str(s) for s in district.schools["school_id"]]
    if path:
        return _file_distances(path, _stamp(path), tuple(uids), tuple(sids)).copy(), Path(path).name
    frame = getattr(district, "travel_matrix", None)
    if frame is not None:  # a matrix given as a frame, with no file to re-read: the input itself
        d = np.full((len(uids), len(sids)), np.inf)
        ui = pd.Index(uids).get_indexer(frame["unit_id"].astype(str).str.strip())
        sj = pd.Index(sids).get_indexer(frame["school_id"].astype(str).str.strip())
        ok = (ui >= 0) & (sj >= 0)
        d[ui[ok], sj[ok]] = pd.to_numeric(frame["distance_km"]).to_numpy(dtype=float)[ok]
        return d, district.distance_source_name
    cent = district.units.geometry.centroid
    d = np.empty((len(uids), len(sids)))
    for j, pt in enumerate(district.schools.geometry):
        d[:, j] = cent.distance(pt).to_numpy() / 1000.0
    return d, "straight_line"


def check_travel(district: Any, scenario: Any, pos: np.ndarray) -> tuple[list[str], dict[str, Any]]:
    """Violations and figures of the travel rules for one assignment (school positions by unit).

    - the district's distances are those of the travel matrix file (or the straight lines);
    - every unit within ``walk_zone_km`` of its status-quo school is assigned to it;
    (``[travel] barriers`` act through :func:`barrier_pairs_of`, which check_plan takes off its
    own adjacency before it checks contiguity.)
    """
    violations: list[str] = []
    figures: dict[str, Any] = {}
    uids = [str(u) for u in district.units["unit_id"]]
    sids = [str(s) for s in district.schools["school_id"]]
    n = len(uids)
    d, source = own_distances(district, scenario)
    figures["distance_source"] = source
    # Status quo from the raw column, else the nearest school by the checker's own distances.
    current = district.units["current_school"].to_numpy(dtype=object)
    sidx = {s: j for j, s in enumerate(sids)}
    nearest = np.where(np.isfinite(d).any(axis=1), np.argmin(np.where(np.isfinite(d), d, np.inf),
                                                             axis=1), -1)
    sq = np.array([sidx[str(c)] if c is not None and not pd.isna(c) else nearest[i]
                   for i, c in enumerate(current)], dtype=np.int64)
    km = scenario.constraints.walk_zone_km
    if km > 0:
        count = 0
        for i in range(n):
            if sq[i] < 0 or not d[i, sq[i]] <= km + 1e-9:
                continue
            count += 1
            if pos[i] != sq[i]:
                violations.append(
                    f"unit {uids[i]} is {d[i, sq[i]]:.3f} km from its status-quo school "
                    f"{sids[sq[i]]}, within walk_zone_km {km:g}, but is assigned to {sids[pos[i]]}")
        figures["walk_zone_units"] = count
    return violations, figures


def barrier_pairs_of(district: Any, scenario: Any) -> set[tuple[int, int]]:
    """The unit pairs that ``[travel] barriers`` keep from being neighbours, from the files.

    Re-reads the barriers file and applies :func:`barrier_blocked_pairs` to the units' polygons;
    check_plan takes these pairs off its own adjacency (cached per file version and geometry).
    """
    barriers = str(district.sources.get("barriers") or scenario.travel.barriers or "")
    if not barriers:
        return set()
    wkb = tuple(shapely.to_wkb(district.units.geometry.to_numpy()).tolist())
    key = hashlib.sha256(b"".join(wkb)).digest()
    _, blocked = _file_barrier_graph(barriers, _stamp(barriers), district.units.crs.to_wkt(), key,
                                     wkb)
    return set(blocked)
