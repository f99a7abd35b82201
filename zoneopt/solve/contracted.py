r"""Whole neighbourhoods as single units: the district contracted, each neighbourhood one unit.

With ``keep_neighbourhoods`` (and no nested feeders) a plan is an assignment of neighbourhoods, not
of units: every unit of a neighbourhood goes to one school. Contract each neighbourhood into one
unit (its polygons dissolved, its students and low-income students summed, a school allowed only
where every unit of it may go, its distance the students' mean) and the problem becomes the plain
single-level problem of the contracted district, which the whole single-level search solves
(:mod:`zoneopt.solve.whole`): repair, neighbourhood search and proof, on fewer units (300 x 15
with 1.5-km squares as neighbourhoods: 122-124 units).

**Exactness.** Let :math:`P` map units to their neighbourhood (or to themselves). For a plan
:math:`x` of the contracted district, :math:`x \circ P` is a plan of the original with every
neighbourhood whole, with the same objective when

* the objective's terms and every rule are sums over units (dissimilarity, mean distance, seats,
  bands) - they are, except the students moved: moved students only add up when every unit of a
  neighbourhood has the same school today, so with ``moved_weight > 0`` or ``max_moved_share < 1``
  contraction applies only then;
* SES tiers and ``[years]`` plans are not used (a neighbourhood's units may hold different tiers
  and projections), nor walk zones (their rule is per unit);
* each neighbourhood is connected: then a zone of the contracted district is connected exactly
  when the units of its neighbourhoods are.

Conversely every whole-neighbourhood plan of the original contracts to a plan of the contracted
district (contracting a connected zone leaves it connected), so the contracted problem's proven
bound is a bound of the exact problem. Every rule is still checked on the expanded plan, against
the original district and scenario, by the independent checker.

**A neighbourhood in pieces** (its units in parts that share no boundary, as a census place can
be) is contracted piece by piece: the contracted problem is then a relaxation (the pieces may go
to different schools), whose bound is still valid (``Contracted.exact`` is False).
:func:`pieces_together` restricts it the other way, each such neighbourhood's pieces to one
school, so that its plans are the original's.

:func:`contract` returns None, with the reason, where any of this does not hold (and the two-level
search runs instead); it also compares the contracted district's own adjacency and home units
(derived from the dissolved polygons) with the contraction of the original's, so that barriers or
digitising slivers that make them differ never make the problem another one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ..district import District
from ..scenario import Scenario


@dataclass(frozen=True)
class Contracted:
    """A district whose neighbourhoods (or their connected pieces) are single units.

    Attributes
    ----------
    district : District
        The contracted district.
    scenario : Scenario
        The scenario on it: neighbourhoods off (each is one unit), distance limits already applied
        (a neighbourhood's pairs beyond them are missing from its travel matrix).
    of_unit : numpy.ndarray
        The contracted unit of each original unit.
    exact : bool
        Whether the contracted problem is the original one (every neighbourhood one connected
        piece). Otherwise it is a relaxation: each piece of a neighbourhood in pieces is whole, but
        the pieces may go to different schools; its bound is still valid, its plans may split them.
    together : bool
        Made by :func:`pieces_together`: a restriction (the pieces of each neighbourhood in pieces
        sent to one school), whose plans keep every neighbourhood whole but whose bounds and
        infeasibility are not the original's.
    """

    district: District
    scenario: Scenario
    of_unit: np.ndarray
    exact: bool
    together: bool = False

    def expand(self, positions: np.ndarray) -> np.ndarray:
        """The original district's plan of a contracted plan (school positions by unit)."""
        return np.asarray(positions, dtype=np.int64)[self.of_unit]

    def contract_plan(self, positions: np.ndarray) -> np.ndarray | None:
        """The contracted plan of an original plan, or None when it splits a contracted unit."""
        pos = np.asarray(positions, dtype=np.int64)
        out = np.full(self.district.n_units, -1, dtype=np.int64)
        out[self.of_unit] = pos
        return out if np.array_equal(out[self.of_unit], pos) else None

    def start_of(self, original: District, start: Any) -> np.ndarray | None:
        """A start given for the original district (a plan, or ``unit_id -> school_id``) on the
        contracted one, or None (none given, or it splits a contracted unit)."""
        if start is None:
            return None
        pos = (start.positions if hasattr(start, "positions")
               else original.assignment_positions(start))
        return None if pos is None else self.contract_plan(pos)


def why_not(district: District, scenario: Scenario, groups: list[np.ndarray]) -> str:
    """Why the contracted district would not be the same problem ("" when it would)."""
    c, o = scenario.constraints, scenario.objective
    if o.balance not in ("dissimilarity", "none") or math.isfinite(c.tier_band):
        return "SES tiers"
    if scenario.years.plan or scenario.years.projections:
        return "a [years] plan"
    if c.walk_zone_km > 0:
        return "walk zones"
    sq = district.status_quo
    if (o.moved_weight > 0 or c.max_moved_share < 1) and any(
            len(np.unique(sq[g])) > 1 for g in groups):
        return "students moved, with neighbourhoods split today"
    return ""


def _middle_columns(district: District, members: list[np.ndarray], units: gpd.GeoDataFrame) -> None:
    """The middle counts of each contracted unit (sums), and today's middle school of most of its
    middle students (the nested search's start only)."""
    from ..feeders import CURRENT_MIDDLE, MIDDLE_LOW_INCOME, MIDDLE_STUDENTS

    u = district.units
    for col in (MIDDLE_STUDENTS, MIDDLE_LOW_INCOME):
        if col in u.columns:
            v = pd.to_numeric(u[col], errors="coerce").to_numpy(dtype=float)
            units[col] = [int(round(v[g].sum())) for g in members]
    if CURRENT_MIDDLE in u.columns:
        cur = u[CURRENT_MIDDLE].to_numpy(dtype=object)
        ms = (pd.to_numeric(u[MIDDLE_STUDENTS], errors="coerce").to_numpy(dtype=float)
              if MIDDLE_STUDENTS in u.columns else np.ones(len(u)))
        out = []
        for g in members:
            held: dict[object, float] = {}
            for i in g.tolist():
                if cur[i] is not None and cur[i] == cur[i]:  # not None, not NaN
                    held[cur[i]] = held.get(cur[i], 0.0) + ms[i] + 1e-9
            out.append(max(held, key=held.get) if held else None)
        units[CURRENT_MIDDLE] = out


def _same_middle_homes(district: District, small: District, scenario: Scenario,
                       small_scenario: Scenario, of_unit: np.ndarray) -> bool:
    """Whether each middle school's unit on the contracted district is the contraction of its
    unit on the original (both read from the middle schools file)."""
    from ..feeders import load_feeders

    try:
        big, little = load_feeders(district, scenario), load_feeders(small, small_scenario)
    except Exception:  # noqa: BLE001 - any failure only means the other search runs
        return False
    return big is None or (little is not None and np.array_equal(little.home_unit, of_unit[big.home_unit])
                           and np.array_equal(little.home_owner, big.home_owner))


def connected_pieces(adjacency, group: np.ndarray) -> list[np.ndarray]:
    """The connected pieces of a set of units (unit positions) on the unit graph."""
    group = np.asarray(group, dtype=np.int64)
    n, label = connected_components(adjacency[group][:, group], directed=False)
    return [group] if n == 1 else [group[label == p] for p in range(n)]


def pieces(district: District, scenario: Scenario, group: np.ndarray) -> list[np.ndarray]:
    """The connected pieces of one neighbourhood (itself when contiguity is off or it is one)."""
    if not scenario.constraints.contiguity:
        return [group]
    return connected_pieces(district.adjacency, group)


def contract(district: District, scenario: Scenario, groups: list[np.ndarray],
             eligible: np.ndarray, names: list[str]) -> tuple[Contracted | None, str]:
    """The contracted district of ``district`` (see the module docstring), or None and why not.

    Parameters
    ----------
    district, scenario
        The problem (``keep_neighbourhoods``).
    groups, names
        The neighbourhoods of more than one unit (unit positions each) and their names.
    eligible
        The eligible pairs with whole neighbourhoods (a unit only where its whole neighbourhood
        may go).

    Returns
    -------
    tuple
        ``(Contracted, "")``, or ``(None, reason)``.
    """
    reason = why_not(district, scenario, groups)
    if reason:
        return None, reason
    n = district.n_units
    members, ids = [], []
    for g, name in zip(groups, names, strict=True):
        parts = pieces(district, scenario, np.asarray(g, dtype=np.int64))
        for k, piece in enumerate(parts):
            members.append(piece)
            ids.append(f"neighbourhood {name}" + (f" (piece {k + 1})" if len(parts) > 1 else ""))
    exact = len(members) == len(groups)
    of_unit = np.full(n, -1, dtype=np.int64)
    for k, g in enumerate(members):
        of_unit[g] = k
    singles = np.flatnonzero(of_unit < 0)
    of_unit[singles] = len(members) + np.arange(len(singles))
    members += [np.array([i]) for i in singles.tolist()]
    ids += [str(district.unit_ids[i]) for i in singles.tolist()]
    if len(set(ids)) != len(ids):
        return None, "a unit id reads like a neighbourhood's"
    k = len(members)

    ok = np.ones((k, district.n_schools), dtype=bool)
    np.logical_and.at(ok, of_unit, eligible)
    if not ok.any(axis=1).all():
        return None, "a neighbourhood with no school its every unit may go to"

    s = district.students.astype(float)
    low = district.low_income.astype(float)
    sq, locked, sids = district.status_quo, district.locked, district.school_ids
    geoms = district.units.geometry.to_numpy()
    rows = []
    for g, uid in zip(members, ids, strict=True):
        held = np.bincount(sq[g], weights=s[g] + 1e-9, minlength=district.n_schools)
        lock = locked[g][locked[g] >= 0]
        rows.append({
            "unit_id": uid,
            "students": int(round(s[g].sum())),
            "low_income": int(round(low[g].sum())),
            # Today's school of most of its students: the repair's start (moved students count
            # only where every unit of a piece has one school today: why_not).
            "current_school": sids[int(np.argmax(held))],
            "locked_school": sids[int(lock[0])] if len(lock) else None,
            "geometry": geoms[g[0]] if len(g) == 1 else shapely.union_all(geoms[g]),
        })
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs=district.units.crs)
    nested = scenario.feeders.mode == "nested"
    if nested:
        _middle_columns(district, members, units)
    # Students' mean distance, so that students x distance sums as the units' do; a pair some unit
    # may not use is left out of the matrix (the contracted district's "no route").
    w = sp.csr_matrix((np.where(s > 0, s, 1.0), (of_unit, np.arange(n))), shape=(k, n))
    d = np.where(np.isfinite(district.dist_km), district.dist_km, 0.0)
    mean = np.asarray(w @ d) / np.asarray(w.sum(axis=1))
    gi, sj = np.nonzero(ok)
    matrix = pd.DataFrame({"unit_id": units["unit_id"].to_numpy()[gi],
                           "school_id": sids[sj], "distance_km": mean[gi, sj]})
    try:
        small = District.from_frames(units, district.schools, travel_matrix=matrix,
                                     sources={"units": "contracted neighbourhoods",
                                              "schools": district.sources.get("schools",
                                                                              "schools")})
    except Exception as exc:  # noqa: BLE001 - any failure only means the other search runs
        return None, f"the dissolved neighbourhoods are not a valid district ({exc})"

    p = sp.csr_matrix((np.ones(n), (np.arange(n), of_unit)), shape=(n, k))
    want = (p.T @ district.adjacency.astype(float) @ p).tolil()
    want.setdiag(0)
    want = want.tocsr()
    want.eliminate_zeros()
    if (want.astype(bool) != small.adjacency.astype(bool)).nnz:
        return None, "the dissolved neighbourhoods' adjacency differs from the units'"
    if not np.array_equal(small.home_unit, of_unit[district.home_unit]):
        return None, "a school's unit differs after dissolving"
    if not np.array_equal(small.home_owner, district.home_owner):
        return None, "two schools share a neighbourhood"
    plain = scenario.with_values({
        "constraints.keep_neighbourhoods": False, "constraints.neighbourhoods": "",
        "constraints.max_distance_km": math.inf, "constraints.max_extra_distance_km": math.inf,
        "travel.matrix": "", "travel.barriers": "",
        # Middle schools only reported (mode "report") add nothing to the objective; their
        # figures are the original plan's. Nested, they stay: their counts are sums too.
        **({} if nested else {"feeders.mode": "none", "feeders.middle_schools": ""}),
    })
    if nested and not _same_middle_homes(district, small, scenario, plain, of_unit):
        return None, "a middle school's unit differs after dissolving"
    return Contracted(small, plain, of_unit, exact), ""


def pieces_together(district: District, scenario: Scenario, groups: list[np.ndarray],
                    eligible: np.ndarray, names: list[str], assign: np.ndarray,
                    choice: int = 0) -> tuple[Contracted | None, list[int]]:
    """The contraction with each neighbourhood in pieces sent whole to one school: a restriction
    of the problem whose every plan keeps every neighbourhood whole (each piece is one unit, all
    pieces at one school, and a zone connected on the contracted district is connected on the
    units). Its bounds are not bounds of the problem.

    Each such neighbourhood's schools are ranked by its students there in ``assign`` (the caller
    passes today's zones), then by the students' mean distance; ``choice`` picks the rank (the
    last one where it has fewer).

    Returns
    -------
    tuple
        The contraction (None where it does not apply, or ``choice`` is past every such
        neighbourhood's last school) and the school chosen for each such neighbourhood.
    """
    s = district.students.astype(float)
    w = np.where(s > 0, s, 1.0)
    fixed = eligible.copy()
    more, chosen = False, []
    for g in groups:
        if len(pieces(district, scenario, g)) == 1:
            continue
        ok = np.flatnonzero(eligible[g[0]])
        held = np.bincount(assign[g], weights=s[g] + 1e-9, minlength=district.n_schools)[ok]
        d = district.dist_km[g][:, ok]
        km = (w[g] @ np.where(np.isfinite(d), d, 1e9)) / w[g].sum()
        ranked = ok[np.lexsort((km, -held))]
        more = more or choice < len(ranked)
        chosen.append(int(ranked[min(choice, len(ranked) - 1)]))
        fixed[g] = False
        fixed[g, chosen[-1]] = True
    if not more:
        return None, chosen
    con, _ = contract(district, scenario, groups, fixed, names)
    return (None if con is None else replace(con, together=True)), chosen


__all__ = ["Contracted", "connected_pieces", "contract", "pieces", "pieces_together",
           "why_not"]
