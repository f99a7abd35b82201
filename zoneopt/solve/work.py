"""The work budget: how much the search may do, counted in solver nodes and search steps.

Counting work instead of seconds is what makes a plan reproducible: HiGHS with a node cap (and its
own deterministic, work-based heuristics) takes the same path at any machine load, and the search's
steps are taken in a fixed order from a seeded generator. The wall-clock limit stays as a safety
stop, reported as ``stopped_by = "time_limit"`` when it ends the search before the budget is spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Counted work of one search (each scaled by ``solver.work_budget``).

    Attributes
    ----------
    start_nodes : int
        Node cap of the feasibility MIP that finds a first plan when today's plan breaks a rule.
    full_mip_nodes : int
        Node cap of the whole-district closer-neighbour MIP of ``contiguity_model =
        "closer_neighbour"`` (0 above ``FULL_MIP_MAX_PAIRS``: its root only).
    lns_steps : int
        Large-neighbourhood steps (one node-capped sub-MIP each).
    lns_work : float
        Counted work of those steps (:func:`zoneopt.solve.search.step_work`) at most: what
        ``LNS_TIME_SHARE`` of the time limit holds at the nominal ``LNS_WORK_RATE`` (infinite
        without a time limit). The steps then end on the same step on any machine instead of
        wherever the clock stops them.
    anneal_proposals : int
        Single-unit moves the simulated annealing proposes (:mod:`zoneopt.solve.anneal`).
    round_nodes : int
        Node cap of the first exact cut round (doubled after a round that adds no cut); fewer on
        larger problems, whose nodes cost more.
    exact_nodes : int
        Node caps summed over all exact cut rounds.
    cut_rounds : int
        Exact cut rounds.
    plan_rounds : int
        Exact cut rounds after which the proof's best plan is final for the plan (a checkpoint):
        it is used even when the time limit later cuts the proof short, because the same work
        gives it on any machine.
    lp_cut_rounds : int
        LP rounds with separator cuts at most (:mod:`zoneopt.bounds.lp_cuts`, large districts).
    """

    start_nodes: int
    full_mip_nodes: int
    lns_steps: int
    lns_work: float
    anneal_proposals: int
    round_nodes: int
    exact_nodes: int
    cut_rounds: int
    plan_rounds: int
    lp_cut_rounds: int

    @classmethod
    def for_problem(cls, district, scenario, eligible) -> Budget:
        """The default budget for this district and scenario (settings read at call time)."""
        from .. import settings
        from ..bounds import lp_cuts

        k = float(scenario.solver.work_budget)
        pairs = int(eligible.sum())
        m = district.n_schools

        def scaled(x: float) -> int:
            return max(1, round(k * x))

        round_nodes = min(settings.EXACT_ROUND_NODES_MAX,
                          max(settings.EXACT_ROUND_NODES_MIN,
                              settings.EXACT_ROUND_WORK / max(pairs, 1)))
        return cls(
            start_nodes=scaled(settings.START_NODES),
            full_mip_nodes=scaled(settings.FULL_MIP_NODES) if pairs <= settings.FULL_MIP_MAX_PAIRS
            else 0,
            lns_steps=scaled(settings.LNS_STEPS_PER_SCHOOL * m + settings.LNS_STEPS_BASE),
            lns_work=lns_work(scenario.solver.time_limit_s),
            anneal_proposals=anneal_budget(district.n_units, scenario.solver.time_limit_s, k),
            round_nodes=scaled(round_nodes),
            exact_nodes=scaled(settings.EXACT_NODES_ROUNDS * round_nodes),
            cut_rounds=scaled(settings.MAX_CUT_ROUNDS),
            plan_rounds=scaled(settings.PROOF_PLAN_ROUNDS),
            # Scaled like every other count: at work_budget 0.1 a 196-unit district waited 9 s
            # of a 13-s run for the default 60 rounds after its search had ended.
            lp_cut_rounds=scaled(lp_cuts.ROUNDS),
        )


def time_share(rate: float, share: float, time_limit_s: float) -> float:
    """The work that ``share`` of the time limit holds at the nominal ``rate`` a second (infinite
    without a time limit): the cap of every count that follows the time limit. A function of the
    scenario, never of the machine's speed, so a count it caps still gives the same plan."""
    return rate * share * time_limit_s if math.isfinite(time_limit_s) else math.inf


def lns_work(time_limit_s: float) -> float:
    """The neighbourhood search's counted work at most: ``LNS_TIME_SHARE`` of the time limit at
    the nominal ``LNS_WORK_RATE`` (:func:`time_share`), so the search ends on the same step on
    every machine.

    Not scaled by ``work_budget``, like the annealing's cap (:func:`anneal_budget`): the budget
    scales the steps, and this cap binds only where the time limit cannot hold them. A time limit
    that holds the steps gives the same plan as any longer one.
    """
    from .. import settings

    return time_share(settings.LNS_WORK_RATE, settings.LNS_TIME_SHARE, time_limit_s)


def _anneal_cap(time_limit_s: float) -> float:
    """``ANNEAL_TIME_SHARE`` of the time limit at the nominal ``ANNEAL_RATE``."""
    from .. import settings

    return time_share(settings.ANNEAL_RATE, settings.ANNEAL_TIME_SHARE, time_limit_s)


def anneal_work(n_units: int, time_limit_s: float) -> float:
    """Proposals of the simulated annealing: ``ANNEAL_PROPOSALS_PER_UNIT`` per unit, but no more
    than ``ANNEAL_TIME_SHARE`` of the time limit holds at the nominal ``ANNEAL_RATE``, so that the
    neighbourhood search keeps time after it. A function of the inputs and the scenario only (the
    time limit is part of the scenario), never of the machine: the plan stays reproducible."""
    from .. import settings

    return min(float(settings.ANNEAL_PROPOSALS_PER_UNIT * n_units), _anneal_cap(time_limit_s))


def anneal_budget(n_units: int, time_limit_s: float, work_budget: float) -> int:
    """The annealing's proposals for ``work_budget``: :func:`anneal_work` scaled like every count,
    but never beyond the time limit's share at the nominal rate.

    The annealing cools over its whole count, so a count the clock cuts short ends hot, not merely
    early: on ``synthetic_district(300, 15, seed=1)`` at 3 km and 60 s, ``work_budget = 20`` asked
    for 240 million proposals, the clock stopped them early in the cooling, and the plan
    was D 0.1094 against 0.0922 at the default. A budget of 1 or less scales as before; above 1 it
    buys a longer anneal only where the time limit holds one.
    """
    work = min(float(work_budget) * anneal_work(n_units, time_limit_s), _anneal_cap(time_limit_s))
    return max(1, round(work))


def aiming_round_work(n_units: int, time_limit_s: float, work_budget: float, per_unit: int,
                      rounds: int) -> int:
    """Proposals of one round of an annealing that aims at a rule (the band repair, the feeder
    repair: :func:`zoneopt.solve.anneal.anneal_into`): ``per_unit`` per unit times
    ``work_budget``, but all ``rounds`` together within the annealing's share of the time limit at
    the nominal rate (the same cap as :func:`anneal_budget`), so that a failing repair leaves the
    feasibility MIPs their time."""
    work = min(float(work_budget) * per_unit * n_units, _anneal_cap(time_limit_s) / rounds)
    return max(1, round(work))


def band_round_work(n_units: int, time_limit_s: float, work_budget: float) -> int:
    """Proposals of one band repair round (:mod:`zoneopt.solve.band_repair`)."""
    from .band_repair import PROPOSALS_PER_UNIT, ROUNDS

    return aiming_round_work(n_units, time_limit_s, work_budget, PROPOSALS_PER_UNIT, ROUNDS)


def counts_nodes(solver: str) -> bool:
    """Whether ``solver`` takes a node cap (HiGHS, through highspy); PuLP solvers do not."""
    return solver == "highs"


def step_seconds(solver: str, left: float) -> float:
    """Wall-clock cap of one capped solve (a search step, a cut round) for ``solver``.

    HiGHS is capped by nodes, so only the overall deadline applies; a PuLP solver has no node cap,
    so each of its steps gets a slice of the time instead (its plans then depend on the machine's
    speed: reproducibility is guaranteed with HiGHS only).
    """
    from .. import settings

    if counts_nodes(solver):
        return max(0.05, left)
    return max(0.05, min(left, max(settings.PULP_STEP_MIN_SECONDS,
                                   settings.PULP_STEP_SHARE * left)))
