"""Lower bounds on the exact problem of CONTRACT.md, one module per source.

Every source has the same signature, ``(district, scenario, eligible, work_limit, **hints) ->
BoundResult``, and every value it returns is a proven lower bound on the objective of *every* plan
that satisfies the scenario with exact contiguity. A source keeps this promise by only ever
*relaxing* the problem: dropping rows (contiguity, or rows another feature adds), dropping integrality,
moving rows into the objective with Lagrange multipliers, or counting a sub-problem's proven lower
bound in place of its optimum. Dropping a non-negative objective term (for instance a balance measure
that a source does not model) also keeps a lower bound valid.

Sources:

- :func:`zoneopt.bounds.lp.root_lp_bound`: the linear relaxation without contiguity rows; about a
  second at 2,000 units, so it is available almost at once.
- :func:`zoneopt.bounds.lagrangian.lagrangian_bound`: relaxes only the assignment rows; each school
  then chooses its own connected zone (a small MIP whose proven bound is what counts), so the bound
  keeps integrality, capacity and contiguity per school and is valid whenever it stops.
- :func:`zoneopt.bounds.lp_cuts.lp_cuts_bound`: the LP without contiguity rows, tightened round by
  round by node-separator cuts on its fractional solution (slack ones dropped); the step helper
  runs its rounds between search steps on large districts.
- :func:`zoneopt.bounds.cuts.cut_loop_bound`: the whole MIP with neighbour rows and contiguity cuts
  separated on its plans (small districts).

``work_limit`` counts iterations (LP simplex iterations, subgradient iterations, cut rounds), never
seconds, so the same input gives the same bound on every run; a ``deadline`` hint only stops early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BoundResult:
    """A proven lower bound on the exact problem's objective.

    Attributes
    ----------
    value : float
        The bound (``-inf`` when the source proved nothing, ``inf`` when it proved infeasibility).
    source : str
        Which source proved it (``"root_lp"``, ``"lagrangian"``, ``"lp_cuts"``, ``"cut_loop"``).
    detail : dict
        What the source did (iterations, sub-problems, seconds), for the trace.
    """

    value: float
    source: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def useful(self) -> bool:
        """Whether the bound says anything (finite)."""
        return math.isfinite(self.value)

    @property
    def proves_infeasible(self) -> bool:
        """Whether the source proved that no plan exists (its relaxation has no solution)."""
        return self.value == math.inf


#: Which bound source a trace label names (labels of zoneopt.solve: "bound (root_lp)", the cut
#: loop's "bound (cut round k)", its worker's "bound (worker)" and "proven").
_TRACE_SOURCES = (("bound (root_lp)", "root_lp"), ("bound (lagrangian)", "lagrangian"),
                  ("bound (root_cuts)", "root_cuts"), ("bound (lp_cuts)", "lp_cuts"),
                  ("bound (cut_loop)", "cut_loop"),
                  ("bound (cut round", "cut_loop"), ("bound (worker)", "cut_loop"),
                  ("proven", "cut_loop"))


def bounds_by_source(trace: list[dict[str, Any]]) -> dict[str, float]:
    """The best bound each source proved, from a plan's trace (summary.json's ``bounds``)."""
    out: dict[str, float] = {}
    for entry in trace:
        label = str(entry.get("source", ""))
        value = entry.get("bound")
        for prefix, source in _TRACE_SOURCES:
            if label.startswith(prefix) and value is not None and math.isfinite(value):
                out[source] = max(out.get(source, -math.inf), float(value))
    return out


def record_bound(summary: dict[str, Any], result: BoundResult) -> None:
    """Keep the best bound of each source in ``summary["bounds"]`` (an extension of summary.json)."""
    if not result.useful:
        return
    bounds = summary.setdefault("bounds", {})
    if result.value > bounds.get(result.source, -math.inf):
        bounds[result.source] = float(result.value)


__all__ = ["BoundResult", "bounds_by_source", "record_bound"]
