r"""The annealer's moves for two-level plans: elementary units moving under a fixed feeder map.

With ``[feeders] mode = "nested"`` each elementary zone :math:`j` feeds one middle school
:math:`f_j`, so a unit's middle school is :math:`f` of its elementary school. With the feeder map
fixed, a single-unit move from zone :math:`a` to :math:`b` changes the middle level only when
:math:`f_a \ne f_b`; then the unit's middle students move from :math:`f_a` to :math:`f_b`, and on top
of the elementary rules (:class:`zoneopt.solve.anneal._Moves`) the move must keep

- middle capacity at :math:`f_b` (``middle_max_utilization``);
- middle contiguity at :math:`f_a` (the middle zone, the union of the zones feeding it, stays
  connected to its middle school when the unit leaves it: the elementary zone staying connected is
  not enough, since the unit may be the only contact between two zones feeding :math:`f_a`);
- each middle school's unit in a zone feeding it (a middle school's home unit never crosses).

Its objective change adds ``balance_weight`` times the middle dissimilarity's change, with the same
running totals as the elementary one (:math:`\sum_k |L_k - \bar p S_k|`).

``into_fit``: the plan keeps every rule but middle capacity; moves may overfill a middle school,
the objective adds the middle students over capacity (at ``FIT_EXCESS_WEIGHT`` times the
dissimilarity's scale), and the annealer ends at the first plan within every middle capacity (the
same stop rule as the band repair's). Pushes are left out: a pair of moves would need the middle
checks on both.
"""

from __future__ import annotations

import numpy as np

from ..district import District
from ..metrics import dissimilarity_scale
from ..model import RHS_EPS
from ..scenario import Scenario
from .anneal import _Moves, stays_connected

#: Into fit: a middle student over capacity costs this many times the (elementary) dissimilarity's
#: scale, so that the overflow dominates every move's change, as a student outside the band does.
FIT_EXCESS_WEIGHT = 10.0


class NestedMoves(_Moves):
    """Single-unit moves of a two-level plan whose feeder map ``feeds`` stays fixed.

    Parameters
    ----------
    district, scenario, eligible, assign
        As for :func:`zoneopt.solve.anneal.anneal`; ``assign`` keeps every elementary rule and puts
        each middle school's home unit in a zone feeding it.
    data
        The middle schools and the units' middle counts (:class:`zoneopt.feeders.FeederData`).
    feeds
        Middle school (position) fed by each elementary school.
    into_fit
        Middle capacity is the objective's (students over it), not a rule of moves; see the module
        docstring.
    """

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 assign: np.ndarray, data, feeds: np.ndarray, *, into_fit: bool = False) -> None:
        super().__init__(district, scenario, eligible, assign)
        self.plain = False  # no pushes (see the module docstring)
        f = np.asarray(feeds, dtype=np.int64)
        kk = data.n_schools
        ms = data.students.astype(float)
        ml = data.low_income.astype(float)
        total = float(ms.sum())
        mp = float(ml.sum()) / total if total > 0 else 0.0
        mid = f[np.asarray(assign, dtype=np.int64)]
        self.f: list[int] = f.tolist()
        self.ms: list[float] = ms.tolist()
        self.ma: list[float] = (ml - mp * ms).tolist()
        self.menr: list[float] = np.bincount(mid, weights=ms, minlength=kk).tolist()
        self.mdev: list[float] = np.bincount(mid, weights=ml - mp * ms, minlength=kk).tolist()
        mu = scenario.feeders.middle_max_utilization
        self.mcap: list[float] = np.floor(data.capacity * mu + RHS_EPS).tolist()
        self.mscale = scenario.feeders.balance_weight * dissimilarity_scale(data.students,
                                                                            data.low_income)
        self.mroot: list[int] = data.home_unit.tolist()
        self.home_of: dict[int, int] = {int(h): k for k, h in enumerate(data.home_unit.tolist())
                                        if int(data.home_owner[k]) == k}
        #: Each unit's middle school, -1 for the middle level's islands (exempt from contiguity).
        self.mz: list[int] = np.where(data.islands, -1, mid).tolist()
        self._to = -1  # the zone of the move last priced (leaves_connected needs it)
        self.into_fit = into_fit
        if into_fit:
            elementary = float(district.students.sum())
            self.aiming = True
            self.fit_cost = FIT_EXCESS_WEIGHT * (self.scale or 1.0 / max(elementary, 1.0))
            self.outside = sum(self._over(k, e) for k, e in enumerate(self.menr))

    def _over(self, k: int, enr: float) -> float:
        """Middle students by which ``enr`` students overfill middle school ``k``."""
        return max(0.0, enr - self.mcap[k])

    def middle_over(self) -> dict[int, float]:
        """Middle school -> students over its capacity, for each overfull one."""
        return {k: e - self.mcap[k] for k, e in enumerate(self.menr) if e > self.mcap[k] + 1e-9}

    def change(self, i: int, a: int, b: int, room: bool = True) -> float | None:
        """The elementary change plus the middle one; None if a rule forbids the move."""
        delta = super().change(i, a, b, room)
        self._to = b
        if delta is None:
            return None
        ka, kb = self.f[a], self.f[b]
        if ka == kb:
            return delta
        if i in self.home_of:  # a middle school's own unit stays in a zone feeding it
            return None
        m = self.ms[i]
        if m == 0:
            return delta
        menr = self.menr
        if not self.into_fit and menr[kb] + m > self.mcap[kb]:
            return None
        ai, dev = self.ma[i], self.mdev
        delta += self.mscale * (abs(dev[ka] - ai) + abs(dev[kb] + ai) - abs(dev[ka]) - abs(dev[kb]))
        if self.into_fit:
            over = self._over
            delta += self.fit_cost * (over(ka, menr[ka] - m) + over(kb, menr[kb] + m)
                                      - over(ka, menr[ka]) - over(kb, menr[kb]))
        return delta

    def leaves_connected(self, i: int, a: int) -> bool:
        """The elementary zone ``a`` and, when the move changes the unit's middle school, the
        middle zone it leaves stay connected (the same search over the units' middle schools,
        islands of the middle level exempt)."""
        if not super().leaves_connected(i, a):
            return False
        k = self.f[a]
        if not self.contiguous or self._to < 0 or self.f[self._to] == k:
            return True
        return stays_connected(self.nb, self.mz, i, k, self.mroot[k])

    def apply(self, i: int, a: int, b: int) -> None:
        """Move unit ``i`` from zone ``a`` to ``b``; the middle totals follow."""
        super().apply(i, a, b)
        ka, kb = self.f[a], self.f[b]
        if ka == kb:
            return
        if self.mz[i] >= 0:
            self.mz[i] = kb
        m, ai = self.ms[i], self.ma[i]
        menr = self.menr
        if self.into_fit:
            self.outside += (self._over(ka, menr[ka] - m) + self._over(kb, menr[kb] + m)
                             - self._over(ka, menr[ka]) - self._over(kb, menr[kb]))
        menr[ka] -= m
        menr[kb] += m
        self.mdev[ka] -= ai
        self.mdev[kb] += ai


def middle_homes_apart(district: District, scenario: Scenario, eligible: np.ndarray, data,
                       assign: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``assign`` with as few elementary zones as it can holding two middle schools' home units.

    A nested plan feeds each elementary zone to one middle school and puts each middle school's own
    unit in a zone feeding it, so two middle schools' units in one zone admit no feeder map. In each
    such zone all but one move to a touching zone that holds none, with the units of a shortest path
    from it to that zone's edge (moved from the edge inwards), by moves that each keep every
    elementary rule (seats, distance limits, locks, contiguity, the moved budget); the one left is
    whichever could not move (an elementary school's own unit, a locked one, one whose neighbours
    are full).

    Returns
    -------
    tuple
        The plan, and the home units still sharing a zone with another (none left: every zone
        holds at most one).
    """
    z = np.asarray(assign, dtype=np.int64).copy()
    owners = [k for k in range(data.n_schools) if int(data.home_owner[k]) == k]
    homes = {int(data.home_unit[k]) for k in owners}
    by_zone: dict[int, list[int]] = {}
    for h in sorted(homes):
        by_zone.setdefault(int(z[h]), []).append(h)
    if all(len(hs) <= 1 for hs in by_zone.values()):
        return z, []
    moves = _Moves(district, scenario, eligible, z)
    taken = {int(z[h]) for h in homes}
    stuck: list[int] = []
    for j, hs in sorted(by_zone.items()):
        if len(hs) <= 1:
            continue
        left = list(hs)
        for h in hs:  # each in turn, until one is left: whichever can move, moves
            if len(left) == 1:
                break
            b = _carve(moves, district, h, j, taken) if moves.can_move[h] else None
            if b is not None:
                taken.add(b)
                left.remove(h)
        left.sort(key=lambda h: moves.can_move[h])  # one that cannot move is the one to stay
        stuck += left[1:]
    return np.asarray(moves.z, dtype=np.int64), stuck


#: Paths tried per extra middle home unit (shortest first).
_CARVE_TRIES = 12


def _carve(moves: _Moves, district: District, h: int, j: int, taken: set[int]) -> int | None:
    """Move unit ``h`` out of zone ``j`` into a touching zone not in ``taken``, with a shortest path
    of zone ``j``'s units from it to that zone (outermost first); the zone it joined, or None with
    the plan unchanged."""
    z, nb = moves.z, moves.nb
    parent = {h: -1}
    order = [h]
    for u in order:  # a search within zone j, over units that may move
        for v in nb[u]:
            if v not in parent and z[v] == j and moves.can_move[v]:
                parent[v] = u
                order.append(v)
    depth = {h: 0}
    for u in order[1:]:
        depth[u] = depth[parent[u]] + 1
    ends = sorted({(depth[u], float(district.dist_km[h, z[v]]), z[v], u)
                   for u in order for v in nb[u] if z[v] not in taken})
    for _, _, b, end in ends[:_CARVE_TRIES]:
        path = [end]
        while path[-1] != h:
            path.append(parent[path[-1]])
        done = []
        for u in path:  # from the edge of zone b inwards, each move keeping every rule
            if moves.change(u, j, b) is None or not moves.leaves_connected(u, j):
                break
            moves.apply(u, j, b)
            done.append(u)
        else:
            return b
        for u in reversed(done):
            moves.apply(u, b, j)
    return None


__all__ = ["FIT_EXCESS_WEIGHT", "NestedMoves", "middle_homes_apart"]
