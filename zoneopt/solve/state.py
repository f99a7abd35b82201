"""The search's state: the best plan and bound so far with their trace, and the objective it ranks
plans by; the bounds that need no search."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import metrics
from ..district import District
from ..scenario import Scenario
from ..tiers import tier_objective
from ..years import years_objective_fn
from .backends import SolveResult

log = logging.getLogger("zoneopt")

#: Plans kept for the final check: if the best fails it (a bug), the next best that passes is used.
KEEP_CANDIDATES = 32


#: The phases of ``SearchState.clock_ended`` whose cut changes what the plan may be on another
#: machine (the others change only the bound).
PLAN_PHASES = frozenset({"search", "proof checkpoint"})


def plan_may_differ(clock_ended) -> bool:
    """Whether a run whose summary.json has this ``clock_ended`` may give another plan on another
    machine (None or empty: a summary without it, read as a search the clock ended)."""
    return not clock_ended or bool(set(clock_ended) & PLAN_PHASES)


@dataclass
class SearchState:
    """Best plan and proven bound so far, with the history of improvements."""

    t0: float
    objective_fn: Any
    district: District
    assign: np.ndarray | None = None
    value: float = math.inf
    bound: float = 0.0
    proved: bool = False
    timed_out: bool = False
    #: What the wall clock cut short (:meth:`cut_short`): "search", or the proof before its
    #: checkpoint ("proof checkpoint"): the plan may differ on another machine; "proof" or "bound"
    #: alone: only the bound and gap may.
    clock_ended: set[str] = field(default_factory=set)
    interrupted: bool = False
    trace: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[tuple[float, np.ndarray, str]] = field(default_factory=list)
    progress: Any = None

    def offer(self, assign: np.ndarray, label: str) -> bool:
        value = self.objective_fn(assign)
        if value < self.value - 1e-12:
            self.assign, self.value = assign.copy(), value
            self.candidates.append((value, self.assign, label))
            del self.candidates[:-KEEP_CANDIDATES]
            self._record(label)
            return True
        return False

    def raise_bound(self, bound: float, label: str) -> None:
        if bound > self.bound + 1e-12 and math.isfinite(bound):
            self.bound = bound
            self._record(label)

    def note(self, res: SolveResult, phase: str = "search") -> None:
        """Remember when the wall clock, not the work budget, ended a solve of ``phase``."""
        if res.limit == "time":
            self.cut_short(phase)

    def cut_short(self, phase: str) -> None:
        """The wall clock, not the counted work, ended ``phase`` ("search", "proof checkpoint",
        "proof" or "bound"): the run is reported as ``stopped_by = "time_limit"``, and
        ``clock_ended`` says whether its plan or only its bound could differ on another machine."""
        self.timed_out = True
        self.clock_ended.add(phase)

    def _record(self, label: str) -> None:
        d = self.district
        diss = (
            metrics.dissimilarity(self.assign, d.students, d.low_income, d.n_schools)
            if self.assign is not None else None
        )
        entry = {
            "seconds": time.perf_counter() - self.t0,
            "objective": None if self.assign is None else self.value,
            "dissimilarity": diss,
            "bound": self.bound,
            "source": label,
        }
        self.trace.append(entry)
        log.info("%.1fs %s: objective %s, bound %.6f", entry["seconds"], label,
                 "-" if entry["objective"] is None else f"{entry['objective']:.6f}", self.bound)
        if self.progress is not None:
            self.progress.set_postfix_str(
                f"{label}: D={diss:.4f} bound={self.bound:.4f}" if diss is not None else label
            )


def objective_function(district: District, scenario: Scenario):
    """The contract's objective of a plan (school position per unit)."""
    o = scenario.objective
    years_fn = years_objective_fn(district, scenario)  # None without [years] plan
    if years_fn is not None:
        return years_fn

    def value(assign: np.ndarray) -> float:
        return metrics.objective_value(
            assign, district.students, district.low_income, district.dist_km,
            district.status_quo, district.n_schools, balance=o.balance == "dissimilarity",
            distance_weight=o.distance_weight, moved_weight=o.moved_weight,
        ) + tier_objective(district, scenario, assign)

    return value


#: Above this many eligible pairs the root LP takes seconds (about 65,000 pairs at 5,000 units): it
#: then runs with the proof (in the worker, or after the search) instead of delaying the search.
INLINE_LP_MAX_PAIRS = 30_000


def _lp_inline(eligible) -> bool:
    return int(eligible.sum()) <= INLINE_LP_MAX_PAIRS


def lp_cut_rounds_here(district: District, scenario: Scenario, eligible: np.ndarray, state,
                       rounds: int, deadline: float, label: str) -> float | None:
    """Rounds of separator cuts on the LP without contiguity (:mod:`zoneopt.bounds.lp_cuts`), at
    most ``rounds``, run in this process until ``deadline`` (a ``time.perf_counter()`` value):
    their bound is raised in ``state`` under ``label``, and when the deadline ends them first (or
    leaves them no time) ``state`` records that the clock cut the bound. Their value, or None."""
    from ..bounds.lp_cuts import lp_cuts_bound

    if deadline - time.perf_counter() <= 0.05:
        state.cut_short("bound")
        return None
    res = lp_cuts_bound(district, scenario, eligible, work_limit=rounds, deadline=deadline)
    if res.useful:
        state.raise_bound(res.value, label)
    if not res.detail["finished"]:
        state.cut_short("bound")
    return res.value if res.useful else None


def _quick_bounds(district, scenario, eligible, state, deadline) -> None:
    """Bounds that need no search (zoneopt.bounds): the root LP without contiguity rows."""
    from ..bounds.lp import root_lp_bound

    res = root_lp_bound(district, scenario, eligible, deadline=deadline)
    if res.useful:
        state.raise_bound(res.value, f"bound ({res.source})")
