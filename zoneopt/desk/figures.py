"""A plan's figures kept up to date move by move (the editor's arithmetic).

:class:`ZoneSums` holds, per school, the students, low-income students and student-kilometres of
its zone, the students moved from the status quo, and each zone's units cut off from its home unit.
Moving units changes the sums of the schools they leave and join, and only those zones are
flood-filled again; every figure of summary.json is then a sum over schools, not over units.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from ..district import District
from ..plan import Plan, _objective
from ..scenario import Scenario

__all__ = ["ZoneSums"]


class ZoneSums:
    """Per-school sums of a plan, updated by :meth:`apply`; :attr:`figures` as in summary.json.

    Parameters
    ----------
    district, scenario
        What the plan is for.
    positions
        School position of each unit (copied).
    """

    def __init__(self, district: District, scenario: Scenario, positions: np.ndarray):
        d = district
        self.district, self.scenario = d, scenario
        self.pos = np.array(positions, dtype=np.int64, copy=True)
        self._s = d.students.astype(np.int64)
        self._low = d.low_income.astype(np.int64)
        self._sq = np.asarray(d.status_quo, dtype=np.int64)
        self._m = d.n_schools
        self._total = int(self._s.sum())
        self._big_l = int(self._low.sum())
        self._big_n = self._total - self._big_l
        self._cap = d.capacity.astype(float)
        # Student-kilometres of each unit to each school; inf where a travel matrix has no pair.
        self._skm = d.dist_km * self._s[:, None]
        self._islands = np.asarray(d.islands, dtype=bool)
        self._neighbors = d.neighbors
        base = Plan.from_assignment(d, scenario, self._sq) if (self._sq >= 0).all() else None
        self._before = {
            k: (base.summary[k] if base is not None else None)
            for k in ("dissimilarity_before", "max_share_gap_before", "mean_distance_km_before")
        }
        self.recount()

    def recount(self) -> None:
        """Every sum and zone piece from scratch."""
        pos, m = self.pos, self._m
        self._enr = np.bincount(pos, weights=self._s, minlength=m).astype(np.int64)
        self._lowj = np.bincount(pos, weights=self._low, minlength=m).astype(np.int64)
        self._kmj = np.array([self._skm[pos == j, j].sum() for j in range(m)])
        self._moved = int(self._s[pos != self._sq].sum())
        self._zone = [set(np.flatnonzero(pos == j).tolist()) for j in range(m)]
        self._stray = {j: self._strays(j) for j in range(m)}

    def _strays(self, j: int) -> list[int]:
        """Units of zone ``j`` (islands aside) not connected inside the zone to its home unit.

        A school whose home unit another school holds (several schools in one unit) starts from
        that unit all the same: its zone must touch it (CONTRACT.md).
        """
        zone = {u for u in self._zone[j] if not self._islands[u]}
        if not zone:
            return []
        root = int(self.district.home_unit[j])
        seen = {root}
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v in self._neighbors[u].tolist():
                if v in zone and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return sorted(zone - seen)

    def apply(self, units: np.ndarray, schools: np.ndarray) -> None:
        """Assign ``units[k]`` to school position ``schools[k]``."""
        touched: set[int] = set()
        for i, b in zip(np.asarray(units).tolist(), np.asarray(schools).tolist(), strict=True):
            a = int(self.pos[i])
            if a == b:
                continue
            s, lo = int(self._s[i]), int(self._low[i])
            self._enr[a] -= s
            self._enr[b] += s
            self._lowj[a] -= lo
            self._lowj[b] += lo
            self._zone[a].discard(i)
            self._zone[b].add(i)
            if self._sq[i] == a:
                self._moved += s
            if self._sq[i] == b:
                self._moved -= s
            self.pos[i] = b
            touched.update((a, b))
        for j in touched:
            # Re-summed over the zone rather than updated by +/-: no rounding drift over many moves.
            members = np.sort(np.fromiter(self._zone[j], dtype=np.int64, count=len(self._zone[j])))
            self._kmj[j] = self._skm[members, j].sum() if len(members) else 0.0
            self._stray[j] = self._strays(j)

    @property
    def figures(self) -> dict[str, Any]:
        """The figures of summary.json for the current plan.

        Keys: ``objective``, ``dissimilarity_before``/``_after``, ``max_share_gap_before``/``_after``,
        ``students_moved``, ``moved_share``, ``mean_distance_km_before``/``_after``,
        ``max_utilization_after``, ``contiguous``, ``islands``, ``n_units``, ``n_schools`` and
        ``district_share``, with the meanings of CONTRACT.md.
        """
        enr, low, total = self._enr, self._lowj, self._total
        other = enr - low
        if self._big_l == 0 or self._big_n == 0:
            diss = 0.0
        else:
            diss = float(0.5 * np.abs(low / self._big_l - other / self._big_n).sum())
        share_all = self._big_l / total if total else 0.0
        has = enr > 0
        gap = float(np.max(np.abs(low[has] / enr[has] - share_all))) if has.any() else 0.0
        mean_km = float(self._kmj.sum() / total) if total else 0.0
        moved_share = self._moved / total if total else 0.0
        o = self.scenario.objective
        if o.balance in ("dissimilarity", "none"):
            objective = diss if o.balance == "dissimilarity" else 0.0
            if o.distance_weight:
                objective += o.distance_weight * mean_km
            if o.moved_weight and total:
                objective += o.moved_weight * moved_share
        else:  # another balance measure (e.g. SES tiers): its own objective function
            objective = _objective(self.district, self.scenario, self.pos)
        return {
            "objective": objective,
            "dissimilarity_before": self._before["dissimilarity_before"],
            "dissimilarity_after": diss,
            "max_share_gap_before": self._before["max_share_gap_before"],
            "max_share_gap_after": gap,
            "students_moved": int(self._moved),
            "moved_share": moved_share,
            "mean_distance_km_before": self._before["mean_distance_km_before"],
            "mean_distance_km_after": mean_km,
            "max_utilization_after": float(np.max(enr / self._cap)),
            "contiguous": not any(self._stray.values()),
            "islands": int(self._islands.sum()),
            "n_units": self.district.n_units,
            "n_schools": self._m,
            "district_share": share_all,
        }

    @property
    def schools(self) -> pd.DataFrame:
        """Per school: name, capacity, enrollment, utilization, low-income share, mean km,
        and the units cut off from the zone's home unit."""
        enr = self._enr.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(enr > 0, self._lowj / np.where(enr > 0, enr, 1), np.nan)
            km = np.where(enr > 0, self._kmj / np.where(enr > 0, enr, 1), np.nan)
        d = self.district
        return pd.DataFrame({
            "school_id": d.school_ids,
            "name": d.schools["name"].to_numpy(dtype=object),
            "capacity": d.capacity,
            "enrollment": self._enr.copy(),
            "utilization": enr / self._cap,
            "low_income": self._lowj.copy(),
            "low_income_share": share,
            "mean_distance_km": km,
            "units_cut_off": [len(self._stray[j]) for j in range(self._m)],
        })
