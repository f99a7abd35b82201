r"""The whole-neighbourhood repair: a plan of the elementary rules annealed until every neighbourhood
lies in one zone (``[constraints] keep_neighbourhoods``).

The repair (:mod:`zoneopt.solve.repair`) mends seats, contiguity and distance but knows nothing of
neighbourhoods, and moving each neighbourhood whole to the school holding most of it breaks the
seats or the zones that repair had mended (300 x 15 with 1.5-km squares as neighbourhoods: the
first plan waited 11.5 s for the whole district's two-level MIP). Here the neighbourhoods are the
objective's, not rules of moves, as the bands are in the band repair
(:mod:`zoneopt.solve.band_repair`): single-unit moves keep every elementary rule, and the objective
adds, for each neighbourhood, its students (plus one per unit, so that a unit without students
counts) outside the zone that holds most of them, or outside the zone of the school whose own unit
or lock it holds. A unit may push one of a full zone's units on (the annealer's push): that is how
a neighbourhood gets into a zone without room for it (200 x 10 seed 5: a neighbourhood of 714
students stayed split without pushes, its majority zone 26 seats short). The annealer ends at the
first plan with none outside: every neighbourhood whole. Counted work (proposals), like every
annealing.

Its plan, like every whole-neighbourhood start, is then annealed by group moves
(:class:`GroupMoves`: a unit of a neighbourhood moves with its whole neighbourhood), so that it
improves without breaking one: 300 x 15 with 1.5-km squares, seeds 67 and 90, D 0.2100 -> 0.1754
and 0.2314 -> 0.1700 in 1.4-2.0 s.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..district import District
from ..scenario import Scenario
from .anneal import _Moves, anneal, anneal_into, stays_connected
from .contracted import connected_pieces
from .work import aiming_round_work

#: A student outside their neighbourhood's zone costs this many times the dissimilarity's scale,
#: so that the split neighbourhoods dominate every move's change (as the band repair's weight).
WHOLE_EXCESS_WEIGHT = 10.0
#: Rounds of the repair, each from the last one's best plan with the next seed ...
ROUNDS = 12
#: ... of this many proposals a unit (times ``work_budget``, all rounds within the annealing's
#: share of the time limit: :func:`zoneopt.solve.work.aiming_round_work`). Many short rounds beat
#: few long ones (1.5-km squares as neighbourhoods, every neighbourhood whole after, in proposals a
#: unit): 300 x 15 seed 67: 754 with 12 x 1,000, 5,478 with 6 x 2,000, none in 2 x 6,000 or
#: 1 x 12,000; 500 x 25 seed 68: 7,782 with 12 x 1,000, none in 3 x 4,000; 800 x 40 seed 68: none
#: in any of them.
PROPOSALS_PER_UNIT = 1_000


class WholeMoves(_Moves):
    """Single-unit moves aiming at whole neighbourhoods (see the module docstring).

    Parameters
    ----------
    district, scenario, eligible, assign
        As for :func:`zoneopt.solve.anneal.anneal`; ``eligible`` lets each unit of a neighbourhood
        go only where the whole neighbourhood may.
    groups
        The neighbourhoods of more than one unit (unit positions each).
    """

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 assign: np.ndarray, groups: list[np.ndarray]) -> None:
        super().__init__(district, scenario, eligible, assign)
        self.aiming = True
        n = district.n_units
        self.w: list[float] = (district.students.astype(float) + 1.0).tolist()
        self.group: list[int] = [-1] * n
        self.count: list[dict[int, float]] = []
        #: The zone a neighbourhood must end in (its school's own unit or a locked unit), or -1.
        self.anchor: list[int] = []
        owner = {int(h): j for j, h in enumerate(district.home_unit.tolist())}
        for gi, g in enumerate(groups):
            counts: dict[int, float] = {}
            anchor = -1
            for i in np.asarray(g, dtype=np.int64).tolist():
                self.group[i] = gi
                counts[self.z[i]] = counts.get(self.z[i], 0.0) + self.w[i]
                if i in owner:
                    anchor = owner[i]
                elif district.locked[i] >= 0 and anchor < 0:
                    anchor = int(district.locked[i])
            self.count.append(counts)
            self.anchor.append(anchor)
        total = float(district.students.sum())
        self.whole_cost = WHOLE_EXCESS_WEIGHT * (self.scale or 1.0 / max(total, 1.0))
        self.outside = sum(self._left_out(gi) for gi in range(len(groups)))

    def _left_out(self, gi: int) -> float:
        """Weight of neighbourhood ``gi`` outside the zone it should lie in."""
        counts = self.count[gi]
        kept = counts.get(self.anchor[gi], 0.0) if self.anchor[gi] >= 0 else max(counts.values())
        return sum(counts.values()) - kept

    def _left_out_moved(self, i: int, a: int, b: int) -> float:
        """Change of the weight outside when unit ``i`` moves from ``a`` to ``b``."""
        gi = self.group[i]
        if gi < 0:
            return 0.0
        counts, w = self.count[gi], self.w[i]
        before = self._left_out(gi)
        counts[a] -= w
        counts[b] = counts.get(b, 0.0) + w
        after = self._left_out(gi)
        counts[b] -= w
        counts[a] += w
        return after - before

    def _shift(self, i: int, a: int, b: int) -> None:
        """Move unit ``i``'s weight in its neighbourhood's count from ``a`` to ``b``."""
        gi = self.group[i]
        if gi >= 0:
            counts, w = self.count[gi], self.w[i]
            counts[a] -= w
            counts[b] = counts.get(b, 0.0) + w

    def _pair_aim(self, i: int, j: int, a: int, b: int, c: int) -> float:
        # A push into a full zone is what makes a neighbourhood whole there: the weight outside
        # after both moves, j's counted on the counts after i's.
        first = self._left_out_moved(i, a, b)
        self._shift(i, a, b)
        second = self._left_out_moved(j, b, c)
        self._shift(i, b, a)
        return self.whole_cost * (first + second)

    def change(self, i: int, a: int, b: int, room: bool = True) -> float | None:
        delta = super().change(i, a, b, room)
        if delta is None:
            return None
        return delta + self.whole_cost * self._left_out_moved(i, a, b)

    def apply(self, i: int, a: int, b: int) -> None:
        self.outside += self._left_out_moved(i, a, b)
        self._shift(i, a, b)
        super().apply(i, a, b)


class GroupMoves(_Moves):
    """Moves of a plan whose neighbourhoods are whole: a unit outside every neighbourhood moves
    alone; a unit of a neighbourhood takes its whole neighbourhood with it (the annealer proposes
    the unit, and every method here answers for the group). Every move keeps every rule.

    Only for the plain arithmetic (no SES tiers, no ``[years]`` plan: ``usable`` is False then).
    A neighbourhood that holds a school's own unit, a locked unit or an island, or that is not
    connected itself, stays where it is (its zone on the far side of a move would not be known
    to stay connected from the moved unit alone).
    """

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 assign: np.ndarray, groups: list[np.ndarray]) -> None:
        super().__init__(district, scenario, eligible, assign)
        #: Whether these moves apply (the plain arithmetic).
        self.usable = self.plain
        self.plain = False  # no pushes: the pushed unit may belong to a neighbourhood
        n = district.n_units
        self.members: list[list[int]] = [[i] for i in range(n)]
        fixed = np.zeros(n, dtype=bool)
        fixed[district.home_unit] = True
        fixed[district.locked >= 0] = True
        fixed[district.islands] = True
        for g in groups:
            g = [int(u) for u in np.asarray(g, dtype=np.int64)]
            if fixed[g].any() or len(connected_pieces(district.adjacency, g)) > 1:
                for u in g:
                    self.can_move[u] = False
                continue
            for u in g:
                self.members[u] = g
        self.movable = [i for i in range(n) if self.can_move[i]]

    def change(self, i: int, a: int, b: int, room: bool = True) -> float | None:
        mem = self.members[i]
        if len(mem) == 1:
            return super().change(i, a, b, room)
        if not self.eligible[i][b]:  # the same row for every unit of a neighbourhood
            return None
        s, low, aa = self.s, self.low, self.a
        size = sum(s[u] for u in mem)
        if self.enr[b] + size > self.cap_hi[b] or self.enr[a] - size < self.cap_lo[a]:
            return None
        if self.budget < math.inf:
            sq = self.sq
            moved = self.moved + sum((s[u] if a == sq[u] else 0.0) - (s[u] if b == sq[u] else 0.0)
                                     for u in mem)
            if moved > self.budget:
                return None
        lows = sum(low[u] for u in mem)
        if self.band < math.inf and not (self._share_ok(self.lowj[a] - lows, self.enr[a] - size)
                                         and self._share_ok(self.lowj[b] + lows,
                                                            self.enr[b] + size)):
            return None
        dev, ai = self.dev, sum(aa[u] for u in mem)
        delta = self.scale * (abs(dev[a] - ai) + abs(dev[b] + ai) - abs(dev[a]) - abs(dev[b]))
        if self.cost is not None:
            delta += sum(self.cost[u][b] - self.cost[u][a] for u in mem)
        return delta

    def leaves_connected(self, i: int, a: int) -> bool:
        mem = self.members[i]
        if len(mem) == 1:
            return super().leaves_connected(i, a)
        if not self.contiguous:
            return True
        # The neighbourhood is connected and touches b through i, so b stays connected; zone a
        # must stay connected without it.
        return stays_connected(self.nb, self.z, i, a, self.roots[a], mem)

    def apply(self, i: int, a: int, b: int) -> None:
        for u in self.members[i]:
            super().apply(u, a, b)


def improve_whole(district: District, scenario: Scenario, eligible: np.ndarray,
                  groups: list[np.ndarray], assign: np.ndarray, proposals: int, *, seed: int,
                  deadline: float | None = None, should_stop: Callable[[], bool] | None = None,
                  on_clock: Callable[[], None] | None = None) -> np.ndarray | None:
    """A better plan with every neighbourhood whole, by the annealer's group moves
    (:class:`GroupMoves`) from ``assign`` (whole), or None (nothing better, or SES tiers or a
    ``[years]`` plan, which these moves do not carry)."""
    moves = GroupMoves(district, scenario, eligible, assign, groups)
    if not moves.usable:
        return None
    res = anneal(district, scenario, eligible, assign, proposals, seed=seed, deadline=deadline,
                 should_stop=should_stop, moves=moves)
    if res.timed_out and on_clock is not None:
        on_clock()
    return res.assign if res.improved else None


def hood_repair(district: District, scenario: Scenario, eligible: np.ndarray,
                groups: list[np.ndarray], assign: np.ndarray, *, seed: int,
                deadline: float | None = None, should_stop: Callable[[], bool] | None = None,
                on_clock: Callable[[], None] | None = None,
                closest: list[np.ndarray] | None = None) -> np.ndarray | None:
    """A plan with every neighbourhood whole, from ``assign`` (a plan of every elementary rule,
    with each unit at a school its whole neighbourhood may go to), or None when the rounds end
    first.

    Parameters
    ----------
    district, scenario
        The problem (``keep_neighbourhoods``).
    eligible
        The eligible pairs with whole neighbourhoods (a unit only where its neighbourhood may go).
    groups
        The neighbourhoods of more than one unit.
    assign
        The start.
    seed, deadline, should_stop
        The first round's seed and the safety stops.
    on_clock
        Called when a safety stop, not the counted work, ended the rounds.
    closest
        When given and no plan comes out, the last round's best plan is appended (for
        :func:`split_note`).

    Returns
    -------
    numpy.ndarray or None
        The plan (the caller checks it against the whole scenario).
    """
    s = scenario.solver
    work = aiming_round_work(district.n_units, s.time_limit_s, s.work_budget, PROPOSALS_PER_UNIT,
                             ROUNDS)

    def moves_for(a: np.ndarray) -> WholeMoves:
        return WholeMoves(district, scenario, eligible, a, groups)

    res = anneal_into(district, scenario, eligible, assign, work, rounds=ROUNDS, seed=seed,
                      deadline=deadline, should_stop=should_stop, moves_for=moves_for)
    if res.timed_out and on_clock is not None:
        on_clock()
    if not res.improved and closest is not None:
        closest.append(res.assign)
    return res.assign if res.improved else None


def split_note(district: District, names: list[str], groups: list[np.ndarray],
               assign: np.ndarray) -> str:
    """How close a plan is to whole neighbourhoods, for the no-plan message: the neighbourhoods
    still split, each with its units outside the zone holding most of its students."""
    s = district.students.astype(float)
    split = []
    for name, g in zip(names, groups, strict=True):
        zones = assign[g]
        if len(set(zones.tolist())) > 1:
            held = np.bincount(zones, weights=s[g] + 1e-9)
            split.append((name, int((zones != int(np.argmax(held))).sum()), len(g)))
    shown = ", ".join(f"{name} {out} of {n} units apart" for name, out, n in split[:5])
    return (f"the closest plan of the whole-neighbourhood repair leaves {len(split)} "
            f"neighbourhood{'s' if len(split) != 1 else ''} split ({shown}"
            + (", ..." if len(split) > 5 else "") + ")")


__all__ = ["GroupMoves", "WholeMoves", "hood_repair", "improve_whole", "split_note"]
