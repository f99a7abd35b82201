"""Repairing a status quo that breaks the scenario into a plan that satisfies it, without a big MIP.

When today's zones overfill schools (or break a distance limit, a lock, contiguity), the search needs a
feasible plan to start from. A whole-district feasibility MIP can take minutes on a real city; this
module gets one in a fraction of a second in most cases, in deterministic steps:

1. **Keep what is allowed**: every unit keeps its status-quo school where the pair is eligible and its
   zone piece still reaches the school's home unit; home units and locked units go to their school.
2. **Regrow**: the units left without a school join a neighbouring zone they are eligible for (their
   status-quo school first, else the one with most room), breadth first, so every zone stays connected.
3. **Ejection chains**: boundary units move out of overfull zones (and into underfull ones) along the
   zone graph. A move is taken when it lowers the *weighted overflow*
   :math:`\\Phi = \\sum_j \\mathrm{over}_j (1 + h_j)`, with :math:`h_j` the number of zone-graph hops
   from school *j* to the nearest school with room: a move from an overfull zone towards room lowers
   :math:`\\Phi` even when the next zone overflows in turn, so students are pushed along chains of
   zones to where there are seats. Each move keeps the zone it leaves connected to its home unit, the
   pair eligible (distance limits, travel matrix, locks), and the home units in place. Where the
   chains stall, they run again counting as room only schools with free seats for a sizeable unit
   (:meth:`_Repair.eject_to_real_room`): with any free seat counting, a school with a few dozen
   makes every zone around it look one hop from room, and the chains pile students up there.

4. **The seats' annealing** (where elastic steps would follow, below): the annealer starts from the
   chains' zones and may overfill schools, the students over the seats in its objective, until
   every school fits (:mod:`zoneopt.solve.seat_moves`); a short first round here, three longer
   ones after the strict local MIPs and the LP's question whether a plan exists.
5. **Local MIPs** (only when 3 and 4 get stuck): for each school still over capacity, the zones around it
   are re-solved together by a small feasibility MIP (closer-neighbour contiguity, the rest of the
   district fixed), growing the group until it holds enough spare seats (the whole district is
   a group only on districts of at most ``LOCAL_MIP_MAX_ZONES`` schools).
   On districts of more than ``ELASTIC_MIN_SCHOOLS`` schools, **elastic local MIPs** then lower
   the overflow step by step where the strict ones found no zones that fit
   (:mod:`zoneopt.solve.overflow`).
6. **Restore**: every unit that can go back to today's school without breaking a rule does.

With a ``[years]`` plan a zone must fit every plan year and series
(:func:`zoneopt.solve.years.repair_seats`). The first chains pool them (each unit counts its most
projected students, each school its fewest free seats, so zones that fit these fit every year); where
they get stuck, a second run of chains counts each year and series on its own (a move must not
overfill a school in any of them, and what it relieves is summed over them), and the local MIPs ask
for spare seats in every one. On districts growing 3-6% a year the second chains fix what the first
leave (800 units x 40 schools at 6%: 4 schools still over -> none). Where schools are still over, a
second road starts again from today's zones (:func:`_second_years_repair`).

The result goes through :func:`zoneopt.check.check_plan` before it is used; when some rule is still
broken (e.g. a low-income band, which the chains do not target), the caller falls back to the
feasibility MIP. All steps count moves and solver nodes, never seconds, so the same input gives the
same plan; ``deadline`` and each local MIP's safety stop (LOCAL_MIP_SAFETY_S, seven times what the
slowest local MIP that finds zones takes here) only stop runaway work.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ..district import District, zone_adjacency
from ..model import Neighbourhood, build_model
from ..scenario import Scenario
from .moves import seat_limits
from .overflow import GROUP_SIZES, shrink_overflow
from .seat_moves import ROUNDS as SEAT_ROUNDS
from .seat_moves import SeatAnnealing
from .years import repair_seats

#: Moves of the ejection-chain step per unit of the district (a safety cap; it usually stops far
#: sooner, when no move lowers the weighted overflow).
MOVES_PER_UNIT = 4
#: Quantiles of the units' students used, in turn, as the free seats a school needs to count as room
#: when the first chains stall (:meth:`_Repair.eject_to_real_room`).
SINK_ROOM_QUANTILES = (0.75, 0.9)
#: Branch-and-bound nodes of one local feasibility MIP.
LOCAL_MIP_NODES = 100
#: ... and of the whole district's (or a part's), where the elastic local MIPs would follow it: the
#: elastic steps take 4-14 s there, and a few hundred more nodes often find the zones sooner (500 x
#: 25, seats x0.95, 1.5 km, seed 0: no plan after 100 nodes in 2.8 s, a plan after 400 in 4.6 s).
#: Elsewhere the caller's exact steps follow a failed repair, and more nodes here only delay them
#: (200 units x 10-20 schools, seats x0.91-0.93: 1-5 s longer, no plan more).
WHOLE_MIP_NODES = 400
#: ... and its safety stop, seven times the slowest such MIP measured (6.1 s for 400 nodes without a
#: plan, 500 x 25, seats x0.93, seed 3), as LOCAL_MIP_SAFETY_S is for the 100-node MIPs: a stop at
#: 10 s would end a MIP that finds its plan at 4.6 s on an idle machine when the machine is busy,
#: and the same input would then give another plan.
WHOLE_MIP_SAFETY_S = 45.0
#: The whole district's strict MIP on a small district keeps only the pairs within the reference
#: extra distance (``_Repair._tight_pairs``) when they are at most this share of the eligible
#: pairs. With 3 km limits, 61-79% of the pairs: 8.4-11.2 s -> 0.5-1.2 s on 450 x 30 (seats
#: x0.91-0.93), a plan more on 200 x 20; 86% (300 x 15, seats x0.93): 0.4 -> 1.9 s for the same
#: kind of plan, further from today's zones (58% of units kept, 62% with all pairs).
WHOLE_PAIRS_SHARE = 0.8
#: Spare seats a local MIP's group needs (share of its students, at least its largest unit): with
#: less, closer-neighbour zones within the group are often impossible and HiGHS takes long to say so.
GROUP_SLACK = 0.05
#: Safety stop of one local MIP in seconds (its work is capped in nodes; a group so tight that HiGHS
#: spends this long at the root is better widened).
LOCAL_MIP_SAFETY_S = 10.0
#: Spare seats (share of their students) a group needs on a ``[years]`` plan's second road
#: (:func:`_second_years_repair`).
YEARS_TIGHT_SLACK = 0.02
#: Largest group of zones a local MIP re-solves: it doubles from 2 up to this, then once more on
#: districts of more schools than twice this. The whole district is one of its groups only on
#: districts of at most this many schools: there it often finds zones in under a second (500 units
#: x 25 schools, seats x0.93-0.95: 10 of 16 within 0.6 s), while on 800 x 40 it stopped at its 10-s
#: safety stop every time it was tried (twice per repair), and the elastic MIPs after it found plans
#: in 3-12 s. Above it, the whole district is the caller's feasibility MIP.
LOCAL_MIP_MAX_ZONES = 32
#: Districts with more schools than this get the elastic local MIPs when the strict ones fail: their
#: groups (``overflow.GROUP_SIZES``) are then smaller than the district. At 10 schools an elastic
#: group is the whole district, and its steps cost time without a plan (200 units x 10 schools,
#: seats x0.93, 1.5 km: 21.9 s for nothing, against 0.1 s before) ...
ELASTIC_MIN_SCHOOLS = GROUP_SIZES[-1]
#: ... and at least this many units (or more than twice LOCAL_MIP_MAX_ZONES schools, where the strict
#: groups never reach the whole district). On smaller districts the exact phase that follows a failed
#: repair often proves in seconds that no plan exists (200 units x 20 schools, seats x0.91, 1.5 km:
#: in 5.1 and 19.0 s), and elastic steps before it took those runs' time (no answer in 30 s). From
#: 500 units the exact phase decided none of the tight districts tried within 60 s (800 x 40, seats
#: x0.91-0.95) but those whose LP relaxation has no solution, which the caller now proves first.
ELASTIC_MIN_UNITS = 500


def repair_status_quo(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    *,
    deadline: float | None = None,
    solver: str = "highs",
    start: np.ndarray | None = None,
    go_on: Callable[[], bool] | None = None,
    beside_elastic: Callable[[], Callable[[], bool]] | None = None,
) -> np.ndarray | None:
    """A plan close to today's zones that satisfies capacity, eligibility and contiguity, or None.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    deadline
        ``time.perf_counter()`` value at which to give up (safety stop).
    solver
        Solver of the local MIPs.
    start
        The plan to repair instead of today's (school position per unit, e.g. an exact round's plan
        whose zones fell apart into pieces); the repair then stays as close to it as it can.
    go_on
        Asked once before the elastic local MIPs, the repair's slow step (seconds to a minute on a
        tight district): False ends the repair there without a plan. ``optimize`` answers False
        when the LP relaxation without contiguity is infeasible, a proof that no plan exists.
    beside_elastic
        Called once when the elastic local MIPs start; returns a predicate asked before each of
        them, True ending them. ``optimize`` starts the whole district's feasibility MIP there
        (:mod:`zoneopt.solve.start_mip`), whose plan counts first.

    Returns
    -------
    numpy.ndarray or None
        School position per unit. Not yet checked against every rule: the caller runs
        :func:`zoneopt.check.check_plan` (the low-income band and the moved budget are not targeted).
    """
    r = _Repair(district, scenario, eligible, start)
    if not r.keep_and_regrow():
        return None
    r.chains(deadline)
    seats = r.seats_annealing_applies()
    if seats:
        # The seats' annealing (zoneopt.solve.seat_moves) before any local MIP where elastic steps
        # would follow them: its first round takes 0.1-0.5 s at 1,000-5,000 units, where a strict
        # local MIP that finds nothing can take 14 s (1,000 x 50 with 4% spare seats).
        r.anneal_into_seats(deadline, rounds=1)
    if len(r.broken()) and scenario.constraints.contiguity:
        r.local_mips(deadline, solver)
    if len(r.broken()):
        # After the local MIPs, not before: where they mend the chains' plan, it is the better
        # start (the 279 county tracts, seeds 0-2: D 0.0527, 0.0362, 0.0621 at 60 s from it,
        # 0.0600, 0.0536, 0.0536 from these chains' plan).
        r.eject_to_real_room(deadline)
        if len(r.broken()) and scenario.constraints.contiguity:
            r.local_mips(deadline, solver)
    if len(r.broken()) and seats and (r.assign >= 0).all():
        # Its first round went before go_on's question: a plan that fits every school needs no
        # proof that one exists (2,000 x 100, seats x0.95: the LP that answers it took 6.8 s).
        if go_on is None or go_on():
            r.anneal_into_seats(deadline, rounds=SEAT_ROUNDS - 1)
            if len(r.broken()):
                # Elastic local MIPs lower the overflow step by step (zoneopt.solve.overflow)
                # where the strict ones found no group of zones that fits. A [years] plan takes
                # its second road instead (not measured with elastic steps yet).
                stop = beside_elastic() if beside_elastic is not None else None
                shrink_overflow(r, deadline, solver, stop=stop)
    if len(r.broken()) and r.years is not None and scenario.constraints.contiguity:
        r = _second_years_repair(district, scenario, eligible, start, deadline, solver)
    if not len(r.broken()) and (r.assign >= 0).all():
        r.count_every_year()
        r.restore()
    return r.assign.copy() if not len(r.broken()) and (r.assign >= 0).all() else None


def elastic_steps_wanted(district: District) -> bool:
    """Whether the repair may run its elastic local MIPs on this district (a function of its size
    only): more schools than an elastic group holds, and either enough units that the exact phase
    after a failed repair rarely decides (ELASTIC_MIN_UNITS) or more schools than the strict local
    MIPs' groups reach."""
    return district.n_schools > ELASTIC_MIN_SCHOOLS and (
        district.n_units >= ELASTIC_MIN_UNITS or district.n_schools > 2 * LOCAL_MIP_MAX_ZONES)


def chain_repair(district: District, scenario: Scenario, eligible: np.ndarray, *,
                 deadline: float | None = None) -> np.ndarray | None:
    """Today's zones after steps 1-3 only (keep, regrow, ejection chains): no MIP, a fraction of a
    second on a city of 2,000 units.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    deadline
        ``time.perf_counter()`` value at which to stop (safety stop).

    Returns
    -------
    numpy.ndarray or None
        School position per unit: connected zones of eligible pairs that may still break capacity
        (a witness for the parts of the map where they fit, :mod:`zoneopt.model.parts`); None when
        some unit could not be given a school.
    """
    r = _Repair(district, scenario, eligible)
    if not r.keep_and_regrow():
        return None
    r.chains_to_real_room(deadline)
    return r.assign.copy()


def _second_years_repair(district, scenario, eligible, start, deadline, solver) -> _Repair:
    """Another road for a ``[years]`` plan that the first one left over: chains that count each
    year and series from the start, then local MIPs that ask groups of zones for only
    YEARS_TIGHT_SLACK spare seats.

    The two roads end in different places: on 2000 units x 100 schools growing 6% a year the first
    leaves 9 schools over and this one mends its 21 with two local MIPs of 64 zones (1.4 s each),
    where the whole-district feasibility MIP takes 416 s. At 5% growth its first local MIP finds
    nothing before its safety stop (LOCAL_MIP_SAFETY_S): the road then costs about 11 s. A shorter
    stop would cost less but would decide the plan by the machine's speed (a 4-s stop ended a
    1.4-s local MIP on this machine with five processes sharing its two cores).
    """
    r = _Repair(district, scenario, eligible, start)
    r.count_every_year()
    if r.keep_and_regrow() and len(r.broken()):
        r.eject(deadline)
    if len(r.broken()) and (r.assign >= 0).all():
        r.local_mips(deadline, solver, slack=YEARS_TIGHT_SLACK, every_school_roomy=False)
    return r


class _Repair:
    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray,
                 start: np.ndarray | None = None) -> None:
        self.d, self.sc, self.el = district, scenario, eligible
        # The plan the repair keeps close to: today's zones unless the caller gives another.
        self.start = (district.status_quo if start is None
                      else np.asarray(start, dtype=np.int64))
        c = scenario.constraints
        m = district.n_schools
        # Students per unit and seat limits per school, one column per count a plan must fit:
        # today's (one column), or with a [years] plan every plan year and series.
        self.years = repair_seats(district, scenario)
        if self.years is None:
            hi, lo = seat_limits(district, scenario)
            self.loads = district.students.astype(float)[:, None]
            self.free, self.floor = hi[:, None], lo[:, None]
        else:
            self.loads, self.free = self.years.loads, self.years.free
            self.floor = np.zeros_like(self.free)
        # What the ejection chains count: the same, except that a [years] plan's first chains pool
        # the years (each unit its most students, each school its fewest free seats; zones that fit
        # these fit every year), which ends closer to today's zones when it succeeds; the second
        # chains then count every year and series on its own (count_every_year).
        self.s, self.hi, self.lo = self.loads, self.free, self.floor
        if self.years is not None:
            students, seats = self.years.pooled()
            self.s, self.hi = students[:, None], seats[:, None]
            self.lo = np.zeros_like(self.hi)
        self.contiguity = c.contiguity
        self.nbrs = district.neighbors
        self.islands = district.islands
        self.roots = district.home_unit
        self.fixed = np.zeros(district.n_units, dtype=bool)
        self.fixed[district.home_unit] = True
        self.fixed[district.locked >= 0] = True
        self.assign = np.full(district.n_units, -1, dtype=np.int64)
        # Strict local MIPs that found nothing, by what defines their model (see _model_key).
        self.failed_mips: set[bytes] = set()
        # Elastic MIPs whose zones did not lower the overflow, by their model's digest
        # (zoneopt.solve.overflow: the same MIP is not solved twice).
        self.elastic_no_gain: set[bytes] = set()
        self.whole_pairs: np.ndarray | None = None  # the whole district's MIP's (see _tight_pairs)
        self.seats = None  # the seats' annealing, once started (zoneopt.solve.seat_moves)
        self.shared_at: dict[int, list[int]] = {}
        for j in range(m):
            if district.home_owner[j] != j:
                self.shared_at.setdefault(int(district.home_unit[j]), []).append(j)

    # ------------------------------------------------------------------ steps 1 and 2
    def keep_and_regrow(self) -> bool:
        d, el = self.d, self.el
        n, m = d.n_units, d.n_schools
        sq = self.start
        a = np.where((sq >= 0) & el[np.arange(n), np.clip(sq, 0, m - 1)], sq, -1)
        locked = d.locked >= 0
        a[locked] = d.locked[locked]
        for j in range(m):
            a[d.home_unit[j]] = d.home_owner[j]
        if self.contiguity:
            for j in range(m):
                zone = set(np.flatnonzero((a == j) & ~self.islands).tolist())
                if not zone:
                    continue
                ok = self._connected_part(j, zone)
                for u in zone - ok:
                    if not self.fixed[u]:
                        a[u] = -1
        self.assign = a
        enr = self._enrolment()
        # Breadth-first regrowth: the nearest free units to the zones join first.
        changed = True
        while changed and (a < 0).any():
            changed = False
            for u in np.flatnonzero(a < 0).tolist():
                cand = np.array(self._targets(u, -1), dtype=np.int64)
                if not len(cand):
                    continue
                if sq[u] in cand:
                    j = int(sq[u])
                else:
                    room = (self.hi[cand] - enr[cand]).min(axis=1)  # in the tightest year
                    j = int(cand[np.lexsort((d.dist_km[u, cand], -room))[0]])
                a[u] = j
                enr[j] += self.s[u]
                changed = True
        return bool((a >= 0).all())

    def _connected_part(self, j: int, zone: set) -> set:
        """Units of ``zone`` connected to school j's home unit through the zone."""
        root = int(self.roots[j])
        if root in zone:
            start = {root}
        else:  # a school sharing another's home unit: its zone must touch that unit
            start = {u for u in zone if (self.nbrs[u] == root).any()}
        seen, queue = set(start), deque(start)
        while queue:
            u = queue.popleft()
            for v in self.nbrs[u]:
                v = int(v)
                if v in zone and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return seen

    def _enrolment(self, loads: np.ndarray | None = None) -> np.ndarray:
        """Students per school in each count of the chains (or of ``loads``)."""
        return self._enrolment_of(self.assign, self.s if loads is None else loads)

    def _enrolment_of(self, a: np.ndarray, loads: np.ndarray | None = None) -> np.ndarray:
        """Students per school in plan ``a``, in each count of ``loads`` (every year and series
        by default)."""
        loads = self.loads if loads is None else loads
        ok = a >= 0
        enr = np.zeros((self.d.n_schools, loads.shape[1]))
        np.add.at(enr, a[ok], loads[ok])
        return enr

    def count_every_year(self) -> bool:
        """From now on the chains count every year and series on its own; False when they
        already did (a single-year plan, or called before)."""
        if self.s is self.loads:
            return False
        self.s, self.hi, self.lo = self.loads, self.free, self.floor
        return True

    def violation(self) -> float:
        enr = self._enrolment()
        return float(np.maximum(enr - self.hi, 0).sum() + np.maximum(self.lo - enr, 0).sum())

    def broken(self) -> np.ndarray:
        """The schools outside their limits in some year and series (whatever the chains count)."""
        enr = self._enrolment(self.loads)
        return np.flatnonzero(((enr > self.free) | (enr < self.floor)).any(axis=1))

    # ------------------------------------------------------------------ step 3
    def _hops_to(self, sources: np.ndarray, zone_adj: list[set[int]]) -> np.ndarray:
        m = self.d.n_schools
        h = np.full(m, float(m))
        queue = deque()
        for j in sources.tolist():
            h[j] = 0.0
            queue.append(j)
        while queue:
            a = queue.popleft()
            for b in zone_adj[a]:
                if h[b] > h[a] + 1:
                    h[b] = h[a] + 1
                    queue.append(b)
        return h

    def _push_graph(self) -> list[set[int]]:
        """Reversed edges t -> src where a movable unit of zone src may join zone t."""
        out: list[set[int]] = [set() for _ in range(self.d.n_schools)]
        a = self.assign
        for u in np.flatnonzero(~self.fixed).tolist():
            src = int(a[u])
            for t in self._targets(u, src):
                out[t].add(src)
        return out

    def chains_to_real_room(self, deadline: float | None) -> None:
        """The chains, then, where they stall, the chains that count only real room."""
        self.chains(deadline)
        if len(self.broken()):
            self.eject_to_real_room(deadline)

    def chains(self, deadline: float | None) -> None:
        """Step 3: the ejection chains on the pooled counts, then (a ``[years]`` plan) on each year
        and series."""
        if len(self.broken()):  # (pooled counts may call a zone over that fits every year)
            self.eject(deadline)
        if len(self.broken()) and self.count_every_year():
            self.eject(deadline)

    def eject(self, deadline: float | None, sink_room: float = 0.0) -> None:
        """Push students from overfull zones downhill (towards room) and pull into underfull ones.

        One pass: the hop distances ``h`` to the nearest school with room are computed once; the
        overfull schools, farthest from room first, each hand boundary units to neighbouring zones
        closer to room (``h`` smaller by one, or room itself), until they fit. Students pushed into an
        overfull neighbour move on when that neighbour's turn comes, later in the same pass. Passes
        repeat while they make progress.

        ``sink_room``: the free seats a school needs to count as room for ``h`` (any when 0). A
        school with a few dozen free seats takes no unit, yet with 0 it makes every zone around it
        look one hop from room, and the chains stall there instead of heading for real room.
        """
        d = self.d
        a = self.assign
        m = d.n_schools
        self.members = [set(np.flatnonzero(a == j).tolist()) for j in range(m)]
        enr = self._enrolment()
        max_moves = MOVES_PER_UNIT * d.n_units
        moves = 0
        best_violation = self.violation()
        stale = 0
        while moves < max_moves and stale < 3:
            if deadline is not None and time.perf_counter() > deadline:
                return
            sinks = (enr < self.hi) & (self.hi - enr >= sink_room)
            h = self._hops_to(np.flatnonzero(sinks.all(axis=1)), self._push_graph())
            over = np.flatnonzero((enr > self.hi).any(axis=1))
            for src in sorted(over.tolist(), key=lambda j: (-h[j], j)):
                while (enr[src] > self.hi[src]).any() and moves < max_moves:
                    move = self._best_push(src, enr, h)
                    if move is None:
                        break
                    u, t = move
                    self._move(u, src, t, enr)
                    moves += 1
            for t in np.flatnonzero((enr < self.lo).any(axis=1)).tolist():
                while (enr[t] < self.lo[t]).any() and moves < max_moves:
                    move = self._best_pull(t, enr)
                    if move is None:
                        break
                    u, src = move
                    self._move(u, src, t, enr)
                    moves += 1
            v = self.violation()
            if v <= 0:
                return
            if v < best_violation - 1e-9:
                best_violation, stale = v, 0
            else:
                stale += 1

    def eject_to_real_room(self, deadline: float | None) -> None:
        """Chains again, counting as room only schools that can take a sizeable unit.

        Each threshold of SINK_ROOM_QUANTILES (a quantile of the units' students) runs the chains once
        more; a run that does not lower the overflow is undone, so this step never makes the plan
        worse.
        """
        load = self.s.max(axis=1)
        load = load[load > 0]
        if not len(load):
            return
        for q in SINK_ROOM_QUANTILES:
            before, v0 = self.assign.copy(), self.violation()
            self.eject(deadline, sink_room=float(np.quantile(load, q)))
            if self.violation() >= v0:
                self.assign[:] = before
            if not len(self.broken()):
                return

    def _move(self, u: int, src: int, t: int, enr: np.ndarray) -> None:
        self.assign[u] = t
        self.members[src].discard(u)
        self.members[t].add(u)
        enr[src] -= self.s[u]
        enr[t] += self.s[u]

    def _best_push(self, src: int, enr: np.ndarray, h: np.ndarray):
        """The unit of zone ``src`` to hand on, and where: room first, else one hop closer to room."""
        d, s = self.d, self.s
        excess = enr[src] - self.hi[src]
        short = excess > 0  # the counts (years, series) in which src is over
        cands = []
        for u in self.members[src]:
            if self.fixed[u] or (s[u] <= 0).all():
                continue
            su = s[u]
            # Students it takes out of src's excess, summed over the counts.
            relief = float(np.minimum(su, excess)[short].sum())
            for t in self._targets(u, src):
                room = self.hi[t] - enr[t]
                if (room >= su).all():
                    rank = 0.0  # fits where there are seats: the chain ends here
                elif (room > 0).any() and relief > float(
                        np.maximum(su - np.maximum(room, 0), 0).sum()):
                    rank = 0.5  # overfills the school with room by less than it relieves
                elif h[t] < h[src]:
                    rank = 1.0 + h[t]  # downhill: the neighbour passes students on in turn
                else:
                    continue
                if (enr[src] - su < self.lo[src]).any():
                    continue
                # Prefer units that cover the excess without overshooting, then short trips.
                fit = float((np.abs(np.minimum(su, excess) - excess)
                             + np.maximum(0.0, su - excess) * 0.5)[short].sum())
                cands.append((rank, fit, float(d.dist_km[u, t] - d.dist_km[u, src]), u, t))
        for cand in sorted(cands):
            u, t = cand[3], cand[4]
            if self._can_leave(src, u):
                return u, t
        return None

    def _best_pull(self, t: int, enr: np.ndarray):
        """A unit of a neighbouring zone with students to spare that may join underfull zone t."""
        d, s = self.d, self.s
        cands = []
        for v in self.members[t]:
            for u in self.nbrs[v]:
                u = int(u)
                src = int(self.assign[u])
                if src == t or self.fixed[u] or not self.el[u, t] or (s[u] <= 0).all():
                    continue
                if (enr[src] - s[u] < self.lo[src]).any() or (enr[t] + s[u] > self.hi[t]).any():
                    continue
                cands.append((float(d.dist_km[u, t] - d.dist_km[u, src]), u, src))
        for _, u, src in sorted(set(cands)):
            if self._can_leave(src, u):
                return u, src
        return None

    def _can_leave(self, src: int, u: int) -> bool:
        return (not self.contiguity or bool(self.islands[u])
                or self._stays_connected(src, self.members[src], u))

    def _targets(self, u: int, src: int) -> list[int]:
        """Schools unit u may join: eligible, and (with contiguity) touching their zone."""
        el = self.el[u]
        if self.islands[u] or not self.contiguity:
            return [int(t) for t in np.flatnonzero(el) if t != src]
        a = self.assign
        out = {int(a[v]) for v in self.nbrs[u] if a[v] != src and a[v] >= 0 and el[a[v]]}
        for v in self.nbrs[u]:  # a school sharing another's home unit grows from that unit
            for t in self.shared_at.get(int(v), ()):
                if t != src and el[t]:
                    out.add(t)
        return sorted(out)

    def _stays_connected(self, j: int, zone: set, removed: int) -> bool:
        keep = {u for u in zone if u != removed and not self.islands[u]}
        if not keep:
            return True
        return len(self._connected_part(j, keep)) == len(keep)

    def restore(self, passes: int = 5) -> None:
        """Move units back to today's school where that keeps every rule the repair targets.

        The local MIPs care only about feasibility and may move more units than needed; this pass
        takes back every move it can (room at today's school, the unit touching its zone, the zone it
        leaves staying connected).
        """
        sq = self.start
        self.members = [set(np.flatnonzero(self.assign == j).tolist())
                        for j in range(self.d.n_schools)]
        enr = self._enrolment()
        for _ in range(passes):
            changed = False
            for u in np.flatnonzero((self.assign != sq) & ~self.fixed & (sq >= 0)).tolist():
                src, t = int(self.assign[u]), int(sq[u])
                if not self.el[u, t] or (enr[t] + self.s[u] > self.hi[t]).any() or (
                        enr[src] - self.s[u] < self.lo[src]).any():
                    continue
                if t not in self._targets(u, src) or not self._can_leave(src, u):
                    continue
                self._move(u, src, t, enr)
                changed = True
            if not changed:
                return

    # ------------------------------------------------------------------ step 4
    def local_mips(self, deadline: float | None, solver: str, *, slack: float = GROUP_SLACK,
                   every_school_roomy: bool = True) -> None:
        for _ in range(self.d.n_schools):
            bad = self.broken()
            if not len(bad):
                return
            if self.years is not None and every_school_roomy and not all(
                    self._roomy_group(int(j), slack) for j in bad):
                # A [years] plan has no whole-district step: a school without a group of zones
                # with spare seats in every year cannot be mended here, and solving the others
                # first only costs time (2000 x 100, 5% growth: 2.2 s before the same failure).
                return
            j = int(bad[np.argmax(self._excess()[bad])])
            solved = self._solve_around(j, deadline, solver, slack)
            if not solved:
                return  # no group solved (None: the safety stop)

    def _solve_around(self, j: int, deadline: float | None, solver: str,
                      slack: float) -> bool | None:
        """Re-solve the zones around school j, widening the group until a local MIP finds zones
        that fit; False when none does, None at the deadline."""
        from .backends import solve

        d, sc = self.d, self.sc
        for size, group in self._groups(j, sizes=True):
            if deadline is not None and time.perf_counter() > deadline:
                return None
            # A group that stopped short of its size holds every zone it can reach: a part of the
            # district with its own schools (on a city of 2,166 tracts, 4 schools on a peninsula
            # that touches the rest only through tracts without students). It cannot widen, so it
            # is solved whatever its spare seats, as the whole district is.
            whole = len(group) >= d.n_schools or len(group) < size
            units = np.flatnonzero(np.isin(self.assign, group))
            roomy = self._roomy(units, group, slack)
            if not roomy and not whole:
                continue  # too few spare seats for a quick solution: widen the group
            if self.years is not None and len(group) >= d.n_schools:
                # the whole district is the caller's feasibility MIP (300 x 15, 6% growth: 7.7 s
                # spent here for nothing before that MIP's 25-s first plan)
                return False
            key = self._model_key(units, group)
            if key in self.failed_mips:
                # The same MIP found nothing before: solving it again gives the same nothing
                # (500 x 25, seats x0.95, 1.5 km: the whole district's, 2.1 s, once after the
                # chains and again after eject_to_real_room).
                if whole:
                    break
                continue
            model = build_model(d, sc, self.el if roomy else self._tight_pairs(group),
                                contiguity="closer",
                                part=Neighbourhood(units=units, schools=np.asarray(group),
                                                   base=self.assign),
                                objective="none")
            left = math.inf if deadline is None else deadline - time.perf_counter()
            nodes, safety = self._mip_limits(whole)
            res = solve(model, solver, time_limit=max(0.05, min(left, safety)), mip_gap=0.5,
                        node_limit=nodes, seed=sc.solver.seed,
                        threads=sc.solver.threads)
            if res.values is not None:
                self.assign = model.assignment_from(res.values, self.assign)
                return True
            self.failed_mips.add(key)
            if whole:
                break
        return False

    def _tight_pairs(self, group: np.ndarray) -> np.ndarray:
        """The pairs a strict local MIP over ``group`` may use when the group has fewer spare seats
        than GROUP_SLACK (only a whole district or a part that cannot widen is solved so).

        The whole district's, where the caller's exact steps follow a failed repair, keeps the
        pairs within the reference extra distance (:func:`zoneopt.solve.narrowed.reference_pairs`,
        four schools per unit on average): a plan with fewer pairs is still a plan, and with all of
        them the MIP's root alone ran into its 10-s safety stop on every tight district of 200-450
        units without a distance limit (20 of 20 at seats x0.91-0.93, ending on the clock). With
        them: 7 plans instead of 4 (none lost), in 0.1-7 s (one repair took 10.3 s, its 16-school
        MIP 9.7 s: 450 x 30, seed 1, seats x0.91). Only where they are at most WHOLE_PAIRS_SHARE
        of the pairs, and not where the elastic steps follow (500 units and more): 500 x 25, seats
        x0.93, 3 km, seed 1 took 16.4 s with the reference pairs, 1.0 s without. A roomier
        district keeps every pair: the 279 county tracts (7.5% spare seats, no limit) found their
        plan with all of them in 4.6 s, and the search from it ended at D 0.0527, 0.0364, 0.0622
        after 60 s (seeds 0-2) against 0.0619, 0.0645, 0.0613 from the reference pairs' plan
        (0.1 s).
        """
        if len(group) < self.d.n_schools or self.elastic_steps_follow():
            return self.el
        if self.whole_pairs is None:
            from .narrowed import reference_pairs

            pairs = reference_pairs(self.d, self.sc, self.el).copy()
            # ... and every unit's pair in the plan repaired, so that the MIP may keep it there
            units = np.flatnonzero(self.start >= 0)
            pairs[units, self.start[units]] |= self.el[units, self.start[units]]
            few = pairs.sum() <= WHOLE_PAIRS_SHARE * self.el.sum()
            self.whole_pairs = pairs if few else self.el
        return self.whole_pairs

    def seats_annealing_applies(self) -> bool:
        """Whether the seats' annealing runs: where the elastic steps would follow the strict
        ones (a ``[years]`` plan takes its second road instead), with contiguity, some school over
        and every unit in a zone."""
        return bool(len(self.broken()) and self.contiguity and (self.assign >= 0).all()
                    and self.elastic_steps_follow())

    def anneal_into_seats(self, deadline: float | None, rounds: int) -> None:
        """Up to ``rounds`` more rounds of the seats' annealing from the plan as the first call
        found it (zoneopt.solve.seat_moves); the plan stays as it is until a round fits every
        school."""
        if self.seats is None:
            self.seats = SeatAnnealing(self.d, self.sc, self.el, self.assign)
        plan = self.seats.run(rounds, deadline=deadline)
        if plan is not None:
            self.assign = plan

    def elastic_steps_follow(self) -> bool:
        """Whether the elastic local MIPs run when the strict ones leave schools over (a
        ``[years]`` plan takes its second road instead)."""
        return self.years is None and elastic_steps_wanted(self.d)

    def _mip_limits(self, whole: bool) -> tuple[int, float]:
        """A strict local MIP's node limit and safety stop in seconds."""
        if whole and self.elastic_steps_follow():
            return WHOLE_MIP_NODES, WHOLE_MIP_SAFETY_S
        return LOCAL_MIP_NODES, LOCAL_MIP_SAFETY_S

    def _model_key(self, units: np.ndarray, group: np.ndarray) -> bytes:
        """What a strict local MIP's model depends on: its units and schools, and where every
        other unit stays (their seats and moves enter its rows). Two calls with the same key
        build the same model, and with the same node limit and seed get the same answer."""
        outside = np.ones(self.d.n_units, dtype=bool)
        outside[units] = False
        return b"|".join((np.asarray(group, dtype=np.int64).tobytes(),
                          np.asarray(units, dtype=np.int64).tobytes(),
                          self.assign[outside].tobytes()))

    def _roomy_group(self, j: int, slack: float = GROUP_SLACK) -> bool:
        """Whether some group of zones around school j that a local MIP would re-solve (the
        sizes of :meth:`_solve_around`, short of the whole district) has the spare seats."""
        for group in self._groups(j):
            if len(group) >= self.d.n_schools:
                return False
            if self._roomy(np.flatnonzero(np.isin(self.assign, group)), group, slack):
                return True
        return False

    def _groups(self, j: int, sizes: bool = False):
        """The groups of zones around school j a local MIP tries, smallest first: 2 schools,
        doubling up to twice LOCAL_MIP_MAX_ZONES, or the whole district on districts of at most
        LOCAL_MIP_MAX_ZONES schools; with ``sizes``, each
        with the size it was asked for (a group that stops short cannot widen)."""
        n_schools, size = self.d.n_schools, 2
        while size <= min(LOCAL_MIP_MAX_ZONES, n_schools) * 2:
            group = self._group(j, min(size, n_schools))
            if len(group) >= n_schools > LOCAL_MIP_MAX_ZONES:
                return  # the whole of a large district: the caller's feasibility MIP
            yield (min(size, n_schools), group) if sizes else group
            if len(group) < min(size, n_schools):
                return  # every zone it can reach: widening gives the same group
            size *= 2

    def _excess(self) -> np.ndarray:
        """Per school, its most students above its limit or below its minimum in any count."""
        enr = self._enrolment(self.loads)
        return np.maximum(enr - self.free, self.floor - enr).max(axis=1)

    def _roomy(self, units: np.ndarray, group: np.ndarray, slack: float) -> bool:
        """Whether the group's schools have the spare seats a quick local MIP needs for its units.

        With a ``[years]`` plan, every year and series is counted on its own: the local MIP keeps
        each one's rows, and the pooled counts (most students in any year against fewest seats)
        would call every group short on a district that grows 6% a year.
        """
        loads = self.loads[units]
        need = loads.sum(axis=0)
        return bool(np.all(need + np.maximum(slack * need, loads.max(axis=0, initial=0))
                           <= self.free[group].sum(axis=0)))

    def _group(self, j: int, size: int) -> np.ndarray:
        """Up to ``size`` schools around j, breadth first over the zone graph (by school position)."""
        zadj = zone_adjacency(self.d, self.assign)
        chosen, queue = [j], deque([j])
        while queue and len(chosen) < size:
            a = queue.popleft()
            for b in sorted(zadj[a]):
                if b not in chosen and len(chosen) < size:
                    chosen.append(b)
                    queue.append(b)
        return np.array(sorted(chosen), dtype=np.int64)


__all__ = ["repair_status_quo"]
