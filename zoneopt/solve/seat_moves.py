"""Into the seats: anneal connected zones that overfill some schools until every school fits.

The repair (:mod:`zoneopt.solve.repair`) mends today's zones with ejection chains and local MIPs.
Where the chains leave schools over on a district large enough for its elastic local MIPs, a strict
local MIP that finds nothing could take 14 s (``synthetic_district(1000, 50, seed=301)`` at 3 km
with 4% spare seats), and the elastic steps after it 18.5 s more
(``synthetic_district(3000, 150, seed=214)``, every capacity x0.95, where the first plan came from
the feasibility MIP beside them at 15.3 s).

Here the annealer (:func:`zoneopt.solve.anneal.anneal_into`) starts from the chains' plan: its
moves keep distance limits, locks and contiguity as always, but may fill a school past its seats;
its objective adds the students over (or under) each school's limits, at ``SEAT_EXCESS_WEIGHT``
times the dissimilarity's scale, and it stops at the first plan where every school fits (0.1-0.7 s
on those districts). The low-income band and the moved budget are left to the steps after the
repair (the band repair, the search), as the repair's other steps leave them. Every count is
proposals, never seconds, so the same input gives the same plan on any machine.
"""

from __future__ import annotations

import math

import numpy as np

from ..district import District
from ..scenario import Scenario
from .anneal import _Moves, anneal_into

#: A student over (or under) a school's seat limits costs this many times the dissimilarity's
#: scale, so that the overflow dominates every move's change (as a student outside the band does
#: in the band repair).
SEAT_EXCESS_WEIGHT = 10.0
#: Proposals per unit of the district in the first round; each next round has twice as many (from
#: the last one's best plan, with the next seed), up to ROUNDS rounds. A round fits the seats, when
#: it does, near its end, as it cools: the short first rounds fit the easier districts in 0.1-0.5 s
#: (1,000-5,000 units), the longer ones some that they miss.
PROPOSALS_PER_UNIT = 50
ROUNDS = 4
#: Start temperature in typical changes. The bands' 10 wanders: on the 3,000-unit district above
#: (rounds of 400 proposals a unit) the first round left 46 students over and the next three 57;
#: from 2 the first round ends with every school within its seats (2.5 s), from 0.5 sooner (1.6 s).
START_FACTOR = 0.5


class SeatMoves(_Moves):
    """Single-unit moves that may overfill a school; the objective counts the students over.

    Parameters
    ----------
    district, scenario, eligible, assign
        As for :func:`zoneopt.solve.anneal.anneal`; ``assign`` has connected zones of eligible
        pairs and may break the seat limits (``max_utilization``, ``min_utilization``).
    """

    aim_start_factor = START_FACTOR

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 assign: np.ndarray) -> None:
        super().__init__(district, scenario, eligible, assign)
        self.plain = False  # no pushes: a full school is not a wall here
        # The repair does not aim at the band or the moved budget; later steps do.
        self.band = math.inf
        self.budget = math.inf
        self.aiming = True
        total = float(district.students.sum())
        self.seat_cost = SEAT_EXCESS_WEIGHT * (self.scale or 1.0 / max(total, 1.0))
        self.outside = sum(self._over(j, e) for j, e in enumerate(self.enr))

    def _over(self, j: int, enr: float) -> float:
        """Students by which ``enr`` students break school ``j``'s seat limits (0 within)."""
        return max(0.0, enr - self.cap_hi[j]) + max(0.0, self.cap_lo[j] - enr)

    def _over_moved(self, i: int, a: int, b: int) -> float:
        si, enr, over = self.s[i], self.enr, self._over
        return over(a, enr[a] - si) + over(b, enr[b] + si) - over(a, enr[a]) - over(b, enr[b])

    def change(self, i: int, a: int, b: int, room: bool = True) -> float | None:
        """The dissimilarity's change (and the distance and moved terms) plus the seats'; None
        when ``i`` may not go to ``b``."""
        if not self.eligible[i][b]:
            return None
        return self.balance_and_cost_change(i, a, b) + self.seat_cost * self._over_moved(i, a, b)

    def apply(self, i: int, a: int, b: int) -> None:
        """Move unit ``i`` from zone ``a`` to ``b``; the students over the seats follow."""
        self.outside += self._over_moved(i, a, b)
        super().apply(i, a, b)


class SeatAnnealing:
    """Rounds of the seats' annealing from one plan, run a few at a time.

    Round ``k`` (from 0) anneals ``PROPOSALS_PER_UNIT * 2**k`` moves a unit from the last one's
    best plan (by the aiming objective) with the next seed, and the rounds end at the first plan where every school
    fits; counted work only, so the same input gives the same plan on any machine.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    start
        School position per unit: connected zones of eligible pairs (every unit assigned); copied.

    Attributes
    ----------
    plan : numpy.ndarray or None
        The first plan within every school's seat limits, zones connected (not yet checked against
        the whole scenario: the caller's checker does that); None until a round reaches one.
    rounds_done : int
        Rounds run so far.
    """

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 start: np.ndarray) -> None:
        self.district, self.scenario, self.eligible = district, scenario, eligible
        self.assign = np.asarray(start, dtype=np.int64).copy()
        self.plan: np.ndarray | None = None
        self.rounds_done = 0

    def run(self, rounds: int = ROUNDS, *, deadline: float | None = None,
            should_stop=None) -> np.ndarray | None:
        """Run up to ``rounds`` more rounds (never more than ``ROUNDS`` in all); :attr:`plan`.

        ``deadline`` (a ``time.perf_counter()`` value) and ``should_stop`` are safety stops.
        """
        d, sc, el = self.district, self.scenario, self.eligible
        for _ in range(rounds):
            proposals = PROPOSALS_PER_UNIT * d.n_units * 2 ** self.rounds_done
            if self.plan is not None or self.rounds_done >= ROUNDS or proposals <= 0:
                break
            res = anneal_into(d, sc, el, self.assign, proposals, rounds=1,
                              seed=int(sc.solver.seed) + self.rounds_done, deadline=deadline,
                              should_stop=should_stop,
                              moves_for=lambda a: SeatMoves(d, sc, el, a))
            self.rounds_done += 1
            self.assign = res.assign
            if res.improved:
                self.plan = res.assign
            if res.timed_out:
                break
        return self.plan


def anneal_into_seats(district: District, scenario: Scenario, eligible: np.ndarray,
                      start: np.ndarray, *, deadline: float | None = None,
                      should_stop=None) -> np.ndarray | None:
    """A plan whose connected zones fit every school's seats, annealed from ``start``, or None.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    start
        School position per unit: connected zones of eligible pairs (every unit assigned).
    deadline, should_stop
        Safety stops (a ``time.perf_counter()`` value; a predicate).

    Returns
    -------
    numpy.ndarray or None
        The first plan of up to ``ROUNDS`` rounds within every school's seat limits (see
        :class:`SeatAnnealing`); None when the rounds end without one.
    """
    return SeatAnnealing(district, scenario, eligible, start).run(
        ROUNDS, deadline=deadline, should_stop=should_stop)


__all__ = ["SeatAnnealing", "SeatMoves", "anneal_into_seats", "PROPOSALS_PER_UNIT", "ROUNDS", "SEAT_EXCESS_WEIGHT"]
