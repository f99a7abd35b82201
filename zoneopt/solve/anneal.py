r"""Simulated annealing over single-unit moves: the search's fast first descent.

A move takes one unit across its zone's boundary into a neighbouring zone. Every move keeps the plan
feasible (the unit is eligible for its new school; capacity, minimum enrollment, the low-income band
and the moved budget hold; its old zone stays connected to its home unit), so the best plan seen is
always a plan. A move that worsens the objective by :math:`\Delta > 0` is still taken with
probability :math:`e^{-\Delta / T}` (Metropolis), with the temperature :math:`T` falling geometrically
from :math:`T_0` to :math:`T_0 \cdot` ``ANNEAL_FINAL_RATIO`` over the move budget. This lets zones
drift through the many plateaus and small hills that stop a greedy descent (and the MIP steps, which
re-optimise only a few zones at a time). Where the target school is full, the unit may *push* one
of that school's units next to it on (back across the boundary, a swap, or into a third zone):
both moves are taken together, by the same rule, only if the pair keeps every rule.

The band repair (:mod:`zoneopt.solve.band_repair`) runs the same moves from a plan that breaks the
low-income or SES tier band and nothing else (``into_band``): there the bands are the objective's
(the students outside them), not rules of moves, and the run ends at the first plan inside. The
feeder repair (:mod:`zoneopt.solve.feeder_repair`) runs two-level moves under a fixed feeder map
(:class:`zoneopt.solve.nested_moves.NestedMoves`), aiming the same way at the middle seats.

The same moves serve every single-level scenario. With SES tiers a move must also keep every tier
within ``tier_band`` and its objective change includes :math:`D_T`'s; with a ``[years]`` plan it
must fit every plan year's and series' seat limits (grandfathered students stay put), and the
balance term is the years' mean dissimilarity. Both come from the local search's running totals
(:class:`zoneopt.solve.groups.TierMoves`, :class:`zoneopt.solve.years.YearLoads`); pushes are
left out there. Without contiguity no connectivity test is made (moves still go to a neighbouring
zone).

Why annealing: the objective changes in only two zones per move, and the connectivity test only looks
around the moved unit, so a pure-Python loop tries 350,000-850,000 moves a second. Measured on
``synthetic_district(2000, 100)`` with 3 km extra distance: 20 s of annealing alone reached
D = 0.230 where 60 s of the neighbourhood search alone had reached 0.246 (800 x 40: 0.120 against
0.139); whole 60-s runs of ``optimize`` went from 0.249 to 0.228 (``benchmarks/RESULTS.md``).

Reproducible: the move budget is counted (proposals, not seconds), the temperature follows the
count, and the moves come from ``random.Random(seed)``, whose Mersenne Twister sequence is the same on
every platform. The deadline is a safety stop only.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..district import District
from ..metrics import dissimilarity_scale
from ..scenario import Scenario
from .groups import tier_moves
from .moves import seat_limits, unit_costs
from .years import year_loads

#: How often (in proposals) the loop looks at the clock and the stop flag, and re-sets the temperature.
_CHECK_EVERY = 4096
#: How often (in proposals) the best plan so far is reported to ``on_improve``.
_REPORT_EVERY = 1 << 19
#: Proposals sampled (without moving) to measure a typical objective change, which sets T0.
_SAMPLE_PROPOSALS = 20_000
#: Into the band: a student outside the band costs this many times the dissimilarity's scale, so
#: that the students outside dominate every move's change (a unit's own D change is at most once
#: its imbalance at that scale).
BAND_EXCESS_WEIGHT = 10.0
#: Into the band: the start temperature in median changes. Most sampled moves touch no school
#: outside the band, so the median is a D-sized change, too cold to climb out of the band's
#: valleys: on 24 districts of 300 units (bands 0.1 and 0.07), 2 (the search's factor) reached
#: the band on 7, 10 on 11, 20 on 10, 50 on 9.
BAND_START_FACTOR = 10.0
#: Students outside the band (summed over schools) below which a plan counts as inside: the band's
#: own rounding, far below one student.
BAND_DONE = 1e-6


@dataclass
class AnnealResult:
    """The outcome of one annealing run.

    Attributes
    ----------
    assign : numpy.ndarray
        The best plan seen (school position per unit); the start when nothing improved it.
    improved : bool
        Whether ``assign`` is better than the start.
    proposals : int
        Moves proposed (the counted work).
    accepted : int
        Moves taken.
    timed_out : bool
        The deadline (a safety stop) or the stop flag ended the run before its budget.
    """

    assign: np.ndarray
    improved: bool
    proposals: int
    accepted: int
    timed_out: bool


def anneal(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    assign: np.ndarray,
    proposals: int,
    *,
    seed: int = 0,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_improve: Callable[[np.ndarray], None] | None = None,
    into_band: bool = False,
    moves: _Moves | None = None,
) -> AnnealResult:
    """Anneal ``assign`` with ``proposals`` single-unit moves; the best feasible plan seen.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    assign
        A feasible plan (school position per unit) with connected zones; not modified.
    proposals
        The counted work: how many moves to propose.
    seed
        Seed of the move generator (``solver.seed``).
    deadline
        ``time.perf_counter()`` value at which to stop early (safety stop).
    should_stop
        Polled now and then; True stops the run (e.g. Ctrl-C).
    on_improve
        Called now and then (every ``_REPORT_EVERY`` proposals) with the best plan so far when it
        improved since the last call, so that a long run shows its progress in the trace.
    into_band
        ``assign`` keeps every rule but the low-income band and the SES tier band: moves may leave
        schools outside them, the objective adds the students outside (at ``BAND_EXCESS_WEIGHT``
        times the dissimilarity's scale), and the run ends at the first plan with every school
        inside (:mod:`zoneopt.solve.band_repair`). ``improved`` then says whether it reached one.
    moves
        A prepared move set built on ``assign`` in place of the single-level one, e.g. the
        two-level moves of :class:`zoneopt.solve.nested_moves.NestedMoves`; when its ``aiming``
        is set, the run ends at the first plan whose ``outside`` is zero, as ``into_band`` does.

    Returns
    -------
    AnnealResult
        The best plan seen and what the run did.
    """
    start = np.asarray(assign, dtype=np.int64)
    if moves is None:
        moves = _Moves(district, scenario, eligible, start, into_band=into_band)
    aiming = moves.aiming
    if aiming and moves.outside <= BAND_DONE:
        return AnnealResult(start.copy(), True, 0, 0, False)
    if not moves.movable or proposals <= 0:
        return AnnealResult(start.copy(), False, 0, 0, False)
    rng = random.Random(int(seed))
    t0 = moves.typical_change(rng)
    if t0 <= 0:
        return AnnealResult(start.copy(), False, 0, 0, False)
    from .. import settings

    t_final = t0 * settings.ANNEAL_FINAL_RATIO
    push = settings.ANNEAL_PUSH and moves.plain
    log_ratio = math.log(t_final / t0)
    temperature = t0
    value = best = reported = 0.0  # objective relative to the start
    best_assign = start.copy()
    accepted = done = 0
    timed_out = False
    z, movable = moves.z, moves.movable
    n_movable = len(movable)
    nb = moves.nb
    uniform = rng.random

    def pick(k: int) -> int:
        # int(random() * k), not randrange: three times faster, and as reproducible (IEEE doubles
        # from the same Mersenne Twister stream)
        return int(uniform() * k)

    while done < proposals:
        if done % _CHECK_EVERY == 0:
            if (deadline is not None and time.perf_counter() >= deadline) or (
                    should_stop is not None and should_stop()):
                timed_out = True
                break
            temperature = t0 * math.exp(log_ratio * done / proposals)
            if on_improve is not None and done % _REPORT_EVERY == 0 and best < reported:
                reported = best
                on_improve(best_assign)
        done += 1
        i = movable[pick(n_movable)]
        ni = nb[i]
        b = z[ni[pick(len(ni))]]
        a = z[i]
        if b == a:
            continue
        delta = moves.change(i, a, b)
        if delta is None:
            if not push:
                continue
            # A full school blocks most good moves (2,000 units: 5,352 of 7,905 improving
            # proposals at the end of a run): let the unit push one of the school's units on.
            delta = moves.push(i, a, b, pick, uniform, temperature)
            if delta is None:
                continue
        else:
            if delta > 0 and uniform() >= math.exp(-delta / temperature):
                continue
            if not moves.leaves_connected(i, a):
                continue
            moves.apply(i, a, b)
        accepted += 1
        value += delta
        if aiming:
            if moves.outside <= BAND_DONE:  # the first plan with nothing outside ends the run
                return AnnealResult(np.fromiter(z, dtype=np.int64, count=len(z)), True, done,
                                    accepted, False)
            if value < best - 1e-12:
                best = value
                best_assign = np.fromiter(z, dtype=np.int64, count=len(z))
            continue
        if value < best - 1e-12:
            best = value
            best_assign = np.fromiter(z, dtype=np.int64, count=len(z))
    if aiming:
        return AnnealResult(best_assign, False, done, accepted, timed_out)
    return AnnealResult(best_assign, best < -1e-12, done, accepted, timed_out)


def anneal_into(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    start: np.ndarray,
    proposals: int,
    *,
    rounds: int,
    seed: int = 0,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    moves_for: Callable[[np.ndarray], _Moves] | None = None,
) -> AnnealResult:
    """Rounds of an annealing that aims at a rule, until the first plan that keeps it.

    Each round anneals ``proposals`` moves from the last one's best plan (by the aiming
    objective) with the next seed (``seed + r``), which gets past plateaus; counted work only.

    Parameters
    ----------
    district, scenario, eligible, start, proposals
        As for :func:`anneal`; ``start`` keeps every rule but the one aimed at.
    rounds
        Rounds at most.
    seed, deadline, should_stop
        The first round's seed and the safety stops.
    moves_for
        Plan -> the aiming move set built on it (its ``aiming`` set); default the bands'
        (``into_band``).

    Returns
    -------
    AnnealResult
        ``improved`` when a round reached a plan with nothing outside (then ``assign`` is it);
        else ``assign`` is the last round's best; ``proposals`` and ``accepted`` summed over the
        rounds; ``timed_out`` when a safety stop ended them.
    """
    def band_moves(a: np.ndarray) -> _Moves:
        return _Moves(district, scenario, eligible, a, into_band=True)

    build = moves_for or band_moves
    assign = np.asarray(start, dtype=np.int64).copy()
    done = taken = 0
    for r in range(rounds):
        res = anneal(district, scenario, eligible, assign, proposals, seed=seed + r,
                     deadline=deadline, should_stop=should_stop, moves=build(assign))
        done += res.proposals
        taken += res.accepted
        assign = res.assign
        if res.improved or res.timed_out:
            return AnnealResult(assign, res.improved, done, taken, res.timed_out)
    return AnnealResult(assign, False, done, taken, False)


def stays_connected(nb: list[list[int]], zone: list[int], i: int, a: int, root: int,
                    group: list[int] | None = None) -> bool:
    """Whether the units with ``zone[v] == a`` (and ``root``, which counts as in) stay connected
    when unit ``i`` leaves them, given that they were: ``i``'s neighbours among them still reach
    each other, by a search from one of them that stops once it has met all the others.
    ``group`` (holding ``i``): the units that leave together, whose neighbours must then reach
    each other (a path through the group enters and leaves it at them)."""
    if group is None:
        gone = {i}
        ring = [k for k in nb[i] if zone[k] == a or k == root]
    else:
        gone = set(group)
        ring = list(dict.fromkeys(k for u in group for k in nb[u]
                                  if k not in gone and (zone[k] == a or k == root)))
    if len(ring) <= 1:
        return True
    targets = set(ring)
    seen = {ring[0], *gone}
    stack = [ring[0]]
    left = len(targets) - 1
    while stack:
        u = stack.pop()
        for v in nb[u]:
            if v in seen or not (zone[v] == a or v == root):
                continue
            seen.add(v)
            if v in targets:
                left -= 1
                if left == 0:
                    return True
            stack.append(v)
    return False


class _Moves:
    """The plan's running totals and the feasibility and objective change of one move.

    Plain Python lists, not numpy arrays: the loop touches one or two entries at a time, where
    list indexing is several times faster than numpy's scalar access.
    """

    #: The start temperature of a run that aims at a rule, in typical changes (the bands').
    aim_start_factor = BAND_START_FACTOR

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 assign: np.ndarray, into_band: bool = False) -> None:
        c, o = scenario.constraints, scenario.objective
        n, m = district.n_units, district.n_schools
        s = district.students.astype(float)
        low = district.low_income.astype(float)
        total = float(s.sum())
        self.p = float(low.sum()) / total if total > 0 else 0.0
        self.scale = (dissimilarity_scale(district.students, district.low_income)
                      if o.balance == "dissimilarity" else 0.0)
        ok = np.ones(n, dtype=bool)
        ok[district.locked >= 0] = False
        ok[district.home_unit] = False
        ok[district.islands] = False  # islands are exempt from contiguity: the local search moves them
        nb = district.neighbors
        ok &= np.array([len(x) > 0 for x in nb], dtype=bool)
        self.movable: list[int] = np.flatnonzero(ok).tolist()
        self.can_move: list[bool] = ok.tolist()
        self.nb: list[list[int]] = [x.tolist() for x in nb]
        self.z: list[int] = assign.tolist()
        self.roots: list[int] = district.home_unit.tolist()
        self.eligible: list[list[bool]] = eligible.tolist()
        self.s: list[float] = s.tolist()
        self.low: list[float] = low.tolist()
        self.a: list[float] = (low - self.p * s).tolist()
        self.enr: list[float] = np.bincount(assign, weights=s, minlength=m).tolist()
        self.dev: list[float] = np.bincount(assign, weights=low - self.p * s, minlength=m).tolist()
        self.lowj: list[float] = np.bincount(assign, weights=low, minlength=m).tolist()
        hi, lo = seat_limits(district, scenario)
        self.cap_hi: list[float] = hi.tolist()
        self.cap_lo: list[float] = lo.tolist()
        self.band = float(c.low_income_band)
        self.sq: list[int] = district.status_quo.tolist()
        self.budget = c.max_moved_share * total + 1e-6 if c.max_moved_share < 1 else math.inf
        self.moved = float(s[assign != district.status_quo].sum())
        cost = unit_costs(district, scenario)
        self.cost: list[list[float]] | None = cost.tolist() if cost.any() else None
        self.contiguous = bool(c.contiguity)
        # SES tiers (their band and D_T) and [years] plans (every year's seat limits, the years'
        # mean D in place of today's) keep the local search's running totals
        self.tiers = tier_moves(district, scenario, assign)
        self.loads = year_loads(district, scenario, assign)
        if self.loads is not None:
            self.scale = 0.0
        #: Neither: the single-year low-income arithmetic alone, where the push applies.
        self.plain = self.tiers is None and self.loads is None
        # Into the band: the bands (low-income, SES tiers) are the objective's (students outside
        # them), not rules of moves.
        self.into_band = into_band
        #: The run aims at a plan with nothing ``outside`` (the bands here; a subclass may aim at
        #: other rules) and ends at the first one.
        self.aiming = into_band
        self.outside = 0.0
        self.target = self.tier_target = math.inf
        if into_band:
            self.target, self.band = self.band, math.inf
            if self.tiers is not None:
                self.tier_target, self.tiers.band = self.tiers.band, math.inf
            self.band_cost = BAND_EXCESS_WEIGHT * (self.scale or 1.0 / max(total, 1.0))
            self.outside = sum(self._outside(self.lowj[j], self.enr[j]) for j in range(m))
            if self.tier_target < math.inf:
                t = self.tiers
                self.outside += sum(self._tier_outside(t.cnt[j], t.enr[j]) for j in range(m))

    def _outside(self, low: float, enr: float) -> float:
        """Students by which a school of ``enr`` students, ``low`` low-income, is outside the band
        (0 inside, and without a low-income band)."""
        t, p = self.target, self.p
        if t == math.inf:
            return 0.0
        return max(0.0, low - (p + t) * enr) + max(0.0, (p - t) * enr - low)

    def _tier_outside(self, cnt: np.ndarray, enr: float) -> float:
        """Students by which a school's tier counts ``cnt`` (of ``enr`` students) are outside the
        tier band, summed over the tiers."""
        t, p = self.tier_target, self.tiers.p
        return float(np.maximum(0.0, cnt - (p + t) * enr).sum()
                     + np.maximum(0.0, (p - t) * enr - cnt).sum())

    def _outside_moved(self, i: int, a: int, b: int) -> float:
        """Change of the students outside the bands when unit ``i`` moves from ``a`` to ``b``."""
        si, li, lowj, enr, out = self.s[i], self.low[i], self.lowj, self.enr, self._outside
        change = (out(lowj[a] - li, enr[a] - si) + out(lowj[b] + li, enr[b] + si)
                  - out(lowj[a], enr[a]) - out(lowj[b], enr[b]))
        if self.tier_target < math.inf:
            t, ci, tout = self.tiers, self.tiers.counts[i], self._tier_outside
            change += (tout(t.cnt[a] - ci, t.enr[a] - si) + tout(t.cnt[b] + ci, t.enr[b] + si)
                       - tout(t.cnt[a], t.enr[a]) - tout(t.cnt[b], t.enr[b]))
        return change

    def change(self, i: int, a: int, b: int, room: bool = True) -> float | None:
        """The objective's change when unit ``i`` moves from zone ``a`` to ``b``; None if a rule
        (other than contiguity, and ``b``'s capacity when ``room`` is False) forbids the move."""
        si = self.s[i]
        loads = self.loads
        if not self.eligible[i][b]:
            return None
        if loads is None:
            if (room and self.enr[b] + si > self.cap_hi[b]) or self.enr[a] - si < self.cap_lo[a]:
                return None
        elif not loads.fits(i, a, b):
            return None
        if self.budget < math.inf:
            sq = self.sq[i]
            moved = self.moved + (si if a == sq else 0.0) - (si if b == sq else 0.0)
            if moved > self.budget:
                return None
        if self.band < math.inf and not (self._band_ok(a, i, -1.0) and self._band_ok(b, i, 1.0)):
            return None
        # balance_and_cost_change, inlined: the call costs 3-5% of the annealing's time (1.5
        # million proposals at 800 units: 2.63 s inlined, 2.69-2.76 s through the call).
        ai, dev = self.a[i], self.dev
        delta = self.scale * (abs(dev[a] - ai) + abs(dev[b] + ai) - abs(dev[a]) - abs(dev[b]))
        if self.cost is not None:
            row = self.cost[i]
            delta += row[b] - row[a]
        if not self.plain:
            tiers = self.tiers
            if tiers is not None:
                if not tiers.band_ok(i, a, b):
                    return None
                delta -= tiers.gain(i, a, b)
            if loads is not None:
                delta -= loads.gain(i, a, b)
        if self.into_band:
            delta += self.band_cost * self._outside_moved(i, a, b)
        return delta

    def balance_and_cost_change(self, i: int, a: int, b: int) -> float:
        """The low-income dissimilarity's change and the distance and moved terms' when unit ``i``
        moves from zone ``a`` to ``b`` (no rule checked)."""
        ai, dev = self.a[i], self.dev
        delta = self.scale * (abs(dev[a] - ai) + abs(dev[b] + ai) - abs(dev[a]) - abs(dev[b]))
        if self.cost is not None:
            row = self.cost[i]
            delta += row[b] - row[a]
        return delta

    def push(self, i: int, a: int, b: int, pick, uniform, temperature: float) -> float | None:
        """Unit ``i`` joins the full zone ``b`` and pushes a neighbour ``j`` of ``i`` in ``b`` on to
        a zone ``c`` next to ``j`` (back to ``a``: a swap). Taken as one move, by the same
        Metropolis rule, only if the pair keeps every rule; returns its change, or None with the
        plan untouched.

        The change and the capacities are worked out before anything moves: most pairs fail
        there, and the connectivity searches run only for pairs the Metropolis rule takes.
        """
        s, enr, cap_hi, cap_lo = self.s, self.enr, self.cap_hi, self.cap_lo
        si = s[i]
        if enr[b] + si <= cap_hi[b] or not self.eligible[i][b] or enr[a] - si < cap_lo[a]:
            return None  # not blocked by b's capacity alone
        z, nb = self.z, self.nb
        ring = [k for k in nb[i] if z[k] == b]
        j = ring[pick(len(ring))]
        if not self.can_move[j]:
            return None
        nj = nb[j]
        k = nj[pick(len(nj))]
        c = b if k == i else z[k]
        sj = s[j]
        if c == b or not self.eligible[j][c] or not cap_lo[b] <= enr[b] + si - sj <= cap_hi[b]:
            return None
        if c == a:
            if not cap_lo[a] <= enr[a] - si + sj <= cap_hi[a]:
                return None
        elif enr[c] + sj > cap_hi[c]:
            return None
        dev, ai, aj = self.dev, self.a[i], self.a[j]
        if c == a:
            change = (abs(dev[a] - ai + aj) + abs(dev[b] + ai - aj)
                      - abs(dev[a]) - abs(dev[b]))
        else:
            change = (abs(dev[a] - ai) + abs(dev[b] + ai - aj) + abs(dev[c] + aj)
                      - abs(dev[a]) - abs(dev[b]) - abs(dev[c]))
        delta = self.scale * change
        if self.cost is not None:
            delta += self.cost[i][b] - self.cost[i][a] + self.cost[j][c] - self.cost[j][b]
        delta += self._pair_aim(i, j, a, b, c)
        if delta > 0 and uniform() >= math.exp(-delta / temperature):
            return None
        self.apply(i, a, b)
        self.apply(j, b, c)
        # Both zones' rings are checked on the final plan (j may bridge a's pieces); the band
        # and the moved budget on the final totals.
        if (self.leaves_connected(i, a) and self.leaves_connected(j, b)
                and self._totals_hold((a, b, c))):
            return delta
        self.apply(j, c, b)
        self.apply(i, b, a)
        return None

    def _pair_aim(self, i: int, j: int, a: int, b: int, c: int) -> float:
        """The aiming term's change for a push (``i``: ``a`` -> ``b``, then ``j``: ``b`` -> ``c``);
        0 when the run aims at nothing."""
        if self.into_band:  # the push runs on the low-income arithmetic alone (no tiers)
            return self.band_cost * self._outside_change(i, j, a, b, c)
        return 0.0

    def _outside_change(self, i: int, j: int, a: int, b: int, c: int) -> float:
        """Change of the students outside the band when ``i`` goes ``a`` -> ``b`` and ``j`` goes
        ``b`` -> ``c`` (``c == a``: a swap)."""
        s, low, lowj, enr, out = self.s, self.low, self.lowj, self.enr, self._outside
        si, sj, li, lj = s[i], s[j], low[i], low[j]
        before = out(lowj[a], enr[a]) + out(lowj[b], enr[b])
        after = out(lowj[b] + li - lj, enr[b] + si - sj)
        if c == a:
            return after + out(lowj[a] - li + lj, enr[a] - si + sj) - before
        before += out(lowj[c], enr[c])
        return (after + out(lowj[a] - li, enr[a] - si) + out(lowj[c] + lj, enr[c] + sj)
                - before)

    def _totals_hold(self, zones) -> bool:
        """The low-income band at ``zones`` and the moved budget, on the running totals."""
        if self.moved > self.budget:
            return False
        return self.band == math.inf or all(self._share_ok(self.lowj[j], self.enr[j])
                                             for j in zones)

    def _band_ok(self, j: int, i: int, sign: float) -> bool:
        """The band at school ``j`` after unit ``i`` joins it (``sign`` 1) or leaves it (-1)."""
        return self._share_ok(self.lowj[j] + sign * self.low[i], self.enr[j] + sign * self.s[i])

    def _share_ok(self, low: float, enr: float) -> bool:
        """A school of ``enr`` students, ``low`` of them low-income, is within the band."""
        return enr <= 0 or abs(low / enr - self.p) <= self.band + 1e-9

    def leaves_connected(self, i: int, a: int) -> bool:
        """Whether zone ``a`` stays connected when unit ``i`` leaves it.

        The zone was connected (through its home unit, which counts as in the zone even when
        another school owns it), so it stays connected exactly when ``i``'s neighbours in the zone
        still reach each other: a search from one of them that stops once it has met all the others.
        """
        return not self.contiguous or stays_connected(self.nb, self.z, i, a, self.roots[a])

    def apply(self, i: int, a: int, b: int) -> None:
        """Move unit ``i`` from zone ``a`` to ``b`` and update the running totals."""
        si, li, ai = self.s[i], self.low[i], self.a[i]
        if self.into_band:
            self.outside += self._outside_moved(i, a, b)
        self.z[i] = b
        self.enr[a] -= si
        self.enr[b] += si
        self.dev[a] -= ai
        self.dev[b] += ai
        self.lowj[a] -= li
        self.lowj[b] += li
        if self.budget < math.inf:
            sq = self.sq[i]
            self.moved += (si if a == sq else 0.0) - (si if b == sq else 0.0)
        if not self.plain:
            if self.tiers is not None:
                self.tiers.move(i, a, b)
            if self.loads is not None:
                self.loads.move(i, a, b)

    def typical_change(self, rng: random.Random) -> float:
        """A typical objective change of a feasible move (the median of non-zero changes over a
        sample of proposals), times ``ANNEAL_START_FACTOR``: the starting temperature."""
        from .. import settings

        changes = []
        movable, nb, z = self.movable, self.nb, self.z
        for _ in range(_SAMPLE_PROPOSALS):
            i = movable[rng.randrange(len(movable))]
            b = z[nb[i][rng.randrange(len(nb[i]))]]
            if b == z[i]:
                continue
            delta = self.change(i, z[i], b)
            if delta is not None and abs(delta) > 1e-15:
                changes.append(abs(delta))
        if not changes:
            return 0.0
        factor = self.aim_start_factor if self.aiming else settings.ANNEAL_START_FACTOR
        return factor * float(np.median(changes))
