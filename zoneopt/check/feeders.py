"""The checker's second level: middle zones, the nesting, split feeders and neighbourhoods.

Re-derived from the input files with code of its own: the middle schools file and the neighbourhoods
file are read again here, the middle counts come from the raw units columns, adjacency is recomputed
from the unit polygons (shared boundary at least 1 cm) and membership from polygon areas. Nothing of
:mod:`zoneopt.feeders`, :mod:`zoneopt.neighbourhoods` or the model is used.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..district import District
from ..scenario import Scenario

MIN_SHARED_M = 0.01
TOL = 1e-6


@dataclass
class SecondLevel:
    """Violations, figures and the objective term the second level adds."""

    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    objective: float = 0.0


def check_second_level(district: District, scenario: Scenario, pos: np.ndarray,
                       summary: dict[str, Any] | None) -> SecondLevel:
    """Check the feeders and neighbourhoods of a plan (nothing when neither is used)."""
    out = SecondLevel()
    f = scenario.feeders
    if f.mode != "none" and f.middle_schools:
        _check_feeders(district, scenario, pos, summary, out)
    if scenario.constraints.neighbourhoods:
        _check_neighbourhoods(district, scenario, pos, out)
    return out


# ------------------------------------------------------------------------------------ geometry


def _adjacency(geoms: np.ndarray) -> list[list[int]]:
    """Rook neighbours: the two boundaries share a line at least 1 cm long."""
    n = len(geoms)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    bounds = shapely.boundary(geoms)
    tree = shapely.STRtree(geoms)
    for a in range(n):
        for b in tree.query(geoms[a]):
            b = int(b)
            if b <= a:
                continue
            common = shapely.intersection(bounds[a], bounds[b])
            if shapely.length(common) >= MIN_SHARED_M or shapely.length(
                    shapely.intersection(geoms[a], bounds[b])) >= MIN_SHARED_M:
                nbrs[a].append(b)
                nbrs[b].append(a)
    return nbrs


def _flood(nbrs: list[list[int]], start: set[int], allowed: set[int]) -> set[int]:
    seen = set(start)
    queue = deque(start)
    while queue:
        u = queue.popleft()
        for v in nbrs[u]:
            if v in allowed and v not in seen:
                seen.add(v)
                queue.append(v)
    return seen


def _read_points(path: str, crs: Any) -> gpd.GeoDataFrame:
    if Path(path).suffix.lower() in (".csv", ".txt", ".tsv"):
        t = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                        encoding="utf-8-sig")
        t.columns = [c.strip() for c in t.columns]
        low = {c.lower(): c for c in t.columns}
        lon = next(low[c] for c in ("lon", "longitude", "lng", "x") if c in low)
        lat = next(low[c] for c in ("lat", "latitude", "y") if c in low)
        g = gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t[lon].astype(float), t[lat].astype(float)),
                             crs="EPSG:4326")
    else:
        g = gpd.read_file(path)
    g["school_id"] = g["school_id"].astype(str).str.strip()
    return g.to_crs(crs)


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    t = str(v).strip()
    return t or None


# ------------------------------------------------------------------------------------ feeders


def _check_feeders(district, scenario, pos, summary, out: SecondLevel) -> None:
    f = scenario.feeders
    mids = _read_points(f.middle_schools, district.crs)
    mid_ids = list(mids["school_id"])
    index = {s: k for k, s in enumerate(mid_ids)}
    kk = len(mid_ids)
    cap = pd.to_numeric(mids["capacity"]).to_numpy(float)
    units = district.units
    ms = pd.to_numeric(units["middle_students"]).to_numpy(float)
    ml = (pd.to_numeric(units["middle_low_income"]).to_numpy(float)
          if "middle_low_income" in units.columns else np.zeros(len(units)))
    geoms = units.geometry.to_numpy()
    cent = shapely.centroid(geoms)
    pts = mids.geometry.to_numpy()
    dist = shapely.distance(cent[:, None], pts[None, :])
    today = np.argmin(dist, axis=1)
    if "current_middle_school" in units.columns:
        for i, v in enumerate(units["current_middle_school"]):
            t = _text(v)
            if t is not None:
                if t.endswith(".0") and t[:-2] in index:
                    t = t[:-2]
                today[i] = index[t]
    hit = shapely.intersects(geoms[:, None], pts[None, :])
    homes = [int(np.flatnonzero(hit[:, k])[0]) for k in range(kk)]
    eids = list(district.school_ids)
    if f.mode == "nested" and summary is not None and summary.get("feeder_map") is not None:
        fmap = summary["feeder_map"]
        feeds = np.zeros(len(eids), dtype=np.int64)
        for j, e in enumerate(eids):
            target = fmap.get(e)
            if target not in index:
                out.violations.append(f"elementary school {e} feeds unknown middle school {target}")
                return
            feeds[j] = index[target]
        after = feeds[pos]
    else:
        after = today.copy()
    elem_students = district.units["students"].to_numpy(float)
    sq = np.asarray(_own_status_quo(district))

    def splits(elem, mid, weights) -> dict[int, set[int]]:
        go: dict[int, set[int]] = {}
        for j, k, w in zip(elem.tolist(), mid.tolist(), weights.tolist(), strict=True):
            if w > 0:
                go.setdefault(j, set()).add(k)
        return {j: ks for j, ks in go.items() if len(ks) > 1}

    def diss(mid) -> float:
        lo = np.bincount(mid, weights=ml, minlength=kk)
        ot = np.bincount(mid, weights=ms - ml, minlength=kk)
        if lo.sum() == 0 or ot.sum() == 0:
            return 0.0
        return float(0.5 * np.abs(lo / lo.sum() - ot / ot.sum()).sum())

    enr = np.bincount(after, weights=ms, minlength=kk)
    out.figures.update({
        "middle_dissimilarity_before": diss(today),
        "middle_dissimilarity_after": diss(after),
        "split_feeders_before": len(splits(sq, today, elem_students)),
        "split_feeders_after": len(splits(pos, after, elem_students)),
        "middle_max_utilization_after": float(np.max(enr / cap)),
    })
    if f.mode != "nested":
        return
    out.objective = f.balance_weight * out.figures["middle_dissimilarity_after"]
    for j, ks in splits(pos, after, np.ones(len(pos))).items():
        parts = ", ".join(f"{mid_ids[k]} ({int(ms[(pos == j) & (after == k)].sum())} middle students)"
                          for k in sorted(ks))
        out.violations.append(f"elementary school {eids[j]} feeds {len(ks)} middle schools: {parts}")
    for k in range(kk):
        limit = cap[k] * f.middle_max_utilization
        if enr[k] > limit + TOL:
            out.violations.append(f"middle school {mid_ids[k]}: enrollment {enr[k]:.0f} above "
                                  f"{f.middle_max_utilization:g} x capacity {cap[k]:.0f}")
    if not scenario.constraints.contiguity:
        return
    nbrs = _adjacency(geoms)
    comp = np.full(len(geoms), -1)
    for s0 in range(len(geoms)):
        if comp[s0] < 0:
            for u in _flood(nbrs, {s0}, set(range(len(geoms)))):
                comp[u] = s0
    with_school = {comp[h] for h in homes}
    islands = np.array([comp[i] not in with_school for i in range(len(geoms))])
    for k in range(kk):
        h = homes[k]
        holder = min(kk2 for kk2 in range(kk) if homes[kk2] == h)
        zone = {int(i) for i in np.flatnonzero((after == k) & ~islands)}
        if holder == k:
            if after[h] != k:
                out.violations.append(f"middle school {mid_ids[k]}'s own unit {district.unit_ids[h]} "
                                      f"is in the zone of {mid_ids[after[h]]}")
                continue
            reached = _flood(nbrs, {h}, zone)
        else:
            reached = _flood(nbrs, {v for v in nbrs[h] if v in zone}, zone)
        stray = sorted(zone - reached)
        if stray:
            out.violations.append(
                f"middle zone of {mid_ids[k]} is not connected to its school: {len(stray)} unit(s) "
                f"cut off, e.g. {district.unit_ids[stray[0]]}")


# ------------------------------------------------------------------------------ neighbourhoods


def _check_neighbourhoods(district, scenario, pos, out: SecondLevel) -> None:
    polys = gpd.read_file(scenario.constraints.neighbourhoods).to_crs(district.crs)
    names = polys["name"].astype(str).str.strip().to_numpy()
    hgeoms = shapely.make_valid(polys.geometry.to_numpy())
    ugeoms = district.units.geometry.to_numpy()
    member: list[str | None] = [None] * len(ugeoms)
    tree = shapely.STRtree(hgeoms)
    for u, g in enumerate(ugeoms):
        area = shapely.area(g)
        by_name: dict[str, float] = {}
        for h in tree.query(g, predicate="intersects").tolist():
            piece = shapely.area(shapely.intersection(g, hgeoms[h]))
            by_name[names[h]] = by_name.get(names[h], 0.0) + piece
        top = max(by_name.items(), key=lambda kv: kv[1], default=(None, 0.0))
        member[u] = top[0] if area > 0 and top[1] / area > 0.5 else None
    sq = np.asarray(_own_status_quo(district))

    def split(assign) -> dict[str, set[int]]:
        go: dict[str, set[int]] = {}
        for name, j in zip(member, assign.tolist(), strict=True):
            if name is not None:
                go.setdefault(name, set()).add(j)
        return {k: v for k, v in go.items() if len(v) > 1}

    after = split(pos)
    out.figures["split_neighbourhoods_before"] = len(split(sq))
    out.figures["split_neighbourhoods_after"] = len(after)
    if scenario.constraints.keep_neighbourhoods:
        ids = district.school_ids
        for name in sorted(after):
            out.violations.append(f"neighbourhood '{name}' is split between schools "
                                  f"{', '.join(ids[j] for j in sorted(after[name]))}")


def _own_status_quo(district) -> np.ndarray:
    """Today's school per unit as the checker derives it from the files (check/geometry.py)."""
    from .geometry import derive

    return derive(district).status_quo
