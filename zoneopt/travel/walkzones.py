"""Walk zones: a unit within ``[constraints] walk_zone_km`` of its status-quo school keeps it.

The rule is a lock (CONTRACT.md, Additions): :func:`prepare_district` turns it into the units'
``locked_school``, so the eligible pairs of the model, the local search, the elastic diagnosis and the
checker's lock rule all treat it like a lock written in the units file. The distance is the
district's distance (the travel matrix when one is given, else the straight line).

:func:`walk_zone_conflicts` names, before any search, each walk-zone unit that cannot keep its
school: a different lock in the units file, a home unit owned by another school, a distance rule
that forbids the pair, a school whose walk zone alone overfills it, or (with contiguity) a unit that
cannot be joined to its school's zone through units that may go to that school.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from ..district import District, _home_owners
from ..scenario import Scenario


def walk_zone_mask(district: District, scenario: Scenario) -> np.ndarray:
    """Units within ``walk_zone_km`` of their status-quo school (all False when the key is 0)."""
    km = scenario.constraints.walk_zone_km
    if not km > 0:
        return np.zeros(district.n_units, dtype=bool)
    sq = district.status_quo
    ok = sq >= 0
    d = np.full(district.n_units, np.inf)
    d[ok] = district.dist_km[np.flatnonzero(ok), sq[ok]]
    return np.isfinite(d) & (d <= km + 1e-9)


def uses_matrix(district: District) -> bool:
    """Whether the district's distances come from a travel matrix."""
    return "travel_matrix" in district.sources or district.distance_source.startswith("travel")


def prepare_district(district: District, scenario: Scenario) -> District:
    """The district as the scenario's travel rules see it.

    - ``[travel] barriers`` not yet applied to ``district``: its adjacency loses the barrier pairs.
    - ``[travel] matrix`` not yet used by ``district``: its distances come from the matrix.
    - ``walk_zone_km`` > 0: walk-zone units without a lock of their own are locked to their
      status-quo school.

    The district passed in is not modified; it is returned as is when nothing applies.
    """
    t = scenario.travel
    if t.barriers and district.barriers is None:
        from .barriers import blocked_by_barriers, read_barriers, without_pairs

        lines = read_barriers(t.barriers).to_crs(district.crs)
        cut = blocked_by_barriers(district.units.geometry.to_numpy(), district.adjacency,
                                  lines.geometry.to_numpy())
        district = dataclasses.replace(
            district, adjacency=without_pairs(district.adjacency, cut), barriers=lines,
            barrier_pairs=tuple(cut), sources={**district.sources, "barriers": str(t.barriers)})
    if t.matrix and not uses_matrix(district):
        from .. import io
        from ..district import _matrix_distances

        dist = _matrix_distances(io.read_travel_matrix(t.matrix), district.units, district.schools,
                                 str(t.matrix))
        dist.setflags(write=False)
        district = dataclasses.replace(
            district, dist_km=dist, distance_source=f"travel matrix {t.matrix}",
            sources={**district.sources, "travel_matrix": str(t.matrix)})
    mask = walk_zone_mask(district, scenario)
    free = mask & (district.locked < 0)
    if not free.any():
        return district
    units = district.units.copy()
    column = units["locked_school"].astype(object).to_numpy().copy()
    column[free] = district.school_ids[district.status_quo[free]]
    # dtype object keeps "not set" as None (pandas would infer a string dtype with NaN).
    units["locked_school"] = pd.Series(column, index=units.index, dtype=object)
    owner = _home_owners(district.home_unit, units, district.schools)
    return dataclasses.replace(district, units=units, home_owner=owner)


def walk_zone_conflicts(district: District, scenario: Scenario, eligible: np.ndarray) -> list[str]:
    """Sentences naming the walk-zone units and schools that make the scenario impossible.

    Parameters
    ----------
    district
        The prepared district (:func:`prepare_district`).
    scenario
        The policy.
    eligible
        The model's eligible pairs for that district.

    Returns
    -------
    list of str
        Empty when no walk-zone conflict is found (the search may still find others).
    """
    mask = walk_zone_mask(district, scenario)
    if not mask.any():
        return []
    c = scenario.constraints
    km = c.walk_zone_km
    ids, uids = district.school_ids, district.unit_ids
    sq = district.status_quo
    out: list[str] = []

    def where(i: int) -> str:
        return (f"unit {uids[i]} is {district.dist_km[i, sq[i]]:.2f} km from its status-quo school "
                f"{ids[sq[i]]}, within walk_zone_km {km:g}, so it keeps that school")

    for i in np.flatnonzero(mask):
        j = sq[i]
        if district.locked[i] >= 0 and district.locked[i] != j:
            out.append(f"{where(i)}; but the units file locks it to {ids[district.locked[i]]}")
        elif not eligible[i, j]:
            homes = np.flatnonzero(district.home_unit == i)
            if len(homes) and district.home_owner[homes[0]] != j:
                out.append(f"{where(i)}; but it is the home unit of school {ids[homes[0]]} "
                           f"and so goes to {ids[district.home_owner[homes[0]]]}")
            else:
                d = district.dist_km[i, j]
                extra = d - district.nearest_km[i]
                why = (f"{d:.2f} km is above max_distance_km {c.max_distance_km:g}"
                       if d > c.max_distance_km + 1e-9 else
                       f"it is {extra:.2f} km farther than its nearest school, above "
                       f"max_extra_distance_km {c.max_extra_distance_km:g}"
                       if extra > c.max_extra_distance_km + 1e-9 else
                       f"the home unit of {ids[j]} lies in another part of the map (cut off by a barrier "
                       "or with no path of neighbours)")
                out.append(f"{where(i)}; but {why}")
    # Capacity: the walk zone (with the other locks) alone overfills the school.
    forced = district.locked
    s = district.students
    for j in range(district.n_schools):
        members = np.flatnonzero((forced == j) & mask)
        if not len(members):
            continue
        load = int(s[forced == j].sum())
        cap = math.floor(c.max_utilization * int(district.capacity[j]) + 1e-6)
        if load > cap:
            named = ", ".join(str(uids[i]) for i in members[:8]) + (
                f" and {len(members) - 8} more" if len(members) > 8 else "")
            out.append(
                f"school {ids[j]}: its walk zone (units within {km:g} km that keep it: {named}) "
                f"and other locked units hold {load} students, above max_utilization x capacity "
                f"= {cap}; lower walk_zone_km or raise the capacity")
    # Contiguity: each walk-zone unit must reach its school's home unit through units that may
    # belong to that school.
    if c.contiguity:
        adj = district.adjacency
        for j in range(district.n_schools):
            members = np.flatnonzero((sq == j) & mask & eligible[:, j] & ~district.islands)
            if not len(members):
                continue
            root = int(district.home_unit[j])
            seen = np.zeros(district.n_units, dtype=bool)
            seen[root] = True
            queue = deque([root])
            while queue:
                u = queue.popleft()
                for v in adj.indices[adj.indptr[u] : adj.indptr[u + 1]]:
                    if not seen[v] and eligible[v, j]:
                        seen[v] = True
                        queue.append(v)
            for i in members[~seen[members]][:10]:
                out.append(
                    f"{where(i)}; but it cannot be joined to the zone of {ids[j]}: every path of "
                    f"neighbours to {ids[j]}'s home unit {uids[root]} crosses units that may not "
                    f"go to {ids[j]} (locked elsewhere, too far, or across a barrier)")
    return out


def walk_zone_figures(district: District, scenario: Scenario) -> dict[str, Any]:
    """summary.json's travel keys: ``distance_source`` always, ``walk_zone_units`` when used."""
    out: dict[str, Any] = {"distance_source": district.distance_source_name}
    if scenario.constraints.walk_zone_km > 0:
        out["walk_zone_units"] = int(walk_zone_mask(district, scenario).sum())
    return out
