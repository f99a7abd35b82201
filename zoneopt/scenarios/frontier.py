"""The frontier of a policy sweep: one plan per value of a scenario key (``zoneopt frontier``).

:func:`frontier` solves one plan per value and writes ``frontier.csv``, a chart (``frontier.png`` and
``frontier.html``, :mod:`zoneopt.scenarios.chart`) and each plan's output folder.

Monotonicity. For a constraint key whose looser values only enlarge the set of allowed plans (for
instance ``constraints.max_extra_distance_km`` or ``constraints.max_moved_share``), the frontier solves
the values from the tightest to the loosest and warm-starts each solve from the previous plan, which is
feasible for the looser scenario. Each plan's objective is therefore never worse than a tighter
value's, even when a solve stops at its time limit; with proven-optimal plans this is the mathematics
itself (loosening a constraint never raises the optimum).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..district import District
from ..errors import InfeasibleError, NoSolutionError, ZoneoptInputError
from ..plan import Plan
from ..scenario import Scenario
from .chart import frontier_figure, frontier_html, write_frontier_files
from .compare import compare, compare_schools, label

#: Constraint keys whose larger values allow every plan a smaller value allows (and more).
LOOSER_WHEN_LARGER = frozenset({
    "constraints.max_utilization",
    "constraints.max_distance_km",
    "constraints.max_extra_distance_km",
    "constraints.max_moved_share",
    "constraints.low_income_band",
    "constraints.tier_band",
})
#: Constraint keys whose smaller values allow every plan a larger value allows (and more).
LOOSER_WHEN_SMALLER = frozenset({"constraints.min_utilization"})
#: ``constraints.contiguity = false`` allows every plan ``true`` allows.
LOOSER_WHEN_FALSE = frozenset({"constraints.contiguity"})

# Frontier columns after the summary keys (an extension of the contract's frontier.csv).
_EXTRA_COLUMNS = ["time_limited", "warm_start_from", "improved_from", "folder"]

@dataclass
class FrontierResult:
    """The outcome of :func:`frontier`.

    Attributes
    ----------
    key : str
        The varied scenario key, e.g. ``constraints.max_extra_distance_km``.
    values : list
        The values, in the order given.
    table : pandas.DataFrame
        The content of frontier.csv: one row per value in the order given, ``value`` first, then the
        keys of summary.json, then ``time_limited``, ``warm_start_from``, ``improved_from``, ``folder``.
    plans : list of Plan
        One per value in the same order (a plan without assignment when none was found).
    out : pathlib.Path or None
        The folder written, if any.
    """

    key: str
    values: list[Any]
    table: pd.DataFrame
    plans: list[Plan]
    out: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def compare(self) -> pd.DataFrame:
        """The frontier's plans side by side (see :func:`compare`)."""
        return compare(self._labelled_plans())

    def compare_schools(self) -> pd.DataFrame:
        """Per-school figures of the frontier's plans (see :func:`compare_schools`)."""
        return compare_schools(self._labelled_plans())

    def chart(self) -> Any:
        """The trade-off chart as a matplotlib Figure."""
        return frontier_figure(self.table, self.key)

    def _labelled_plans(self) -> dict[str, Plan]:
        return {f"{self.key.split('.')[-1]} = {label(v)}": p
                for v, p in zip(self.values, self.plans, strict=True)}

    def _repr_html_(self) -> str:
        return frontier_html(self.table, self.key)


def parse_vary(text: str, scenario: Scenario | None = None) -> tuple[str, list[Any]]:
    """Parse ``KEY=V1,V2,...`` (the ``--vary`` option) into the key and its checked values.

    Parameters
    ----------
    text
        E.g. ``"constraints.max_extra_distance_km=1,2,4,8"``; ``inf`` means no limit.
    scenario
        The scenario the values go into (defaults when None); each value is validated against it.

    Returns
    -------
    (key, values)
        Values converted to the key's type (numbers, true/false or text).

    Raises
    ------
    ZoneoptInputError
        Naming the key: bad syntax, an unknown key, a value out of range, a repeated value.
    """
    scenario = scenario or Scenario()
    if "=" not in text:
        raise ZoneoptInputError(
            f"--vary {text!r} has no '='; write KEY=V1,V2,..., e.g. "
            "constraints.max_extra_distance_km=1,2,4,8", column="--vary")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ZoneoptInputError("--vary has no key before '='; e.g. constraints.max_moved_share=0.1,0.2",
                                column="--vary")
    items = [v.strip() for v in raw.split(",")]
    if not raw.strip() or any(not v for v in items):
        raise ZoneoptInputError(
            f"--vary {key}: give one or more values separated by commas, none empty "
            f"(got {raw!r})", column=key)
    return key, check_values(scenario, key, items)


def check_values(scenario: Scenario, key: str, values: Sequence[Any]) -> list[Any]:
    """Validate ``values`` of scenario ``key`` and convert them to the key's type.

    Raises
    ------
    ZoneoptInputError
        Naming the key, for an unknown key, a bad or repeated value, or no value at all.
    """
    if key == "travel.matrix":
        raise ZoneoptInputError(
            "travel.matrix cannot be varied in a frontier: each matrix is its own district; "
            "run one frontier per matrix (or `zoneopt batch`)", column=key)
    values = list(values)
    if not values:
        raise ZoneoptInputError(f"give at least one value for {key}", column=key)
    section, _, leaf = key.partition(".")
    out = []
    for value in values:
        varied = scenario.with_values({key: value})  # raises naming the key
        out.append(getattr(getattr(varied, section), leaf))
    for i, v in enumerate(out):
        if v in out[:i]:
            raise ZoneoptInputError(
                f"{key}: the value {label(v)} is given twice; list each value once", column=key)
    return out


def solve_order(key: str, values: Sequence[Any]) -> list[int]:
    """Indices of ``values`` in the order to solve them: tightest first for constraint keys.

    For keys in :data:`LOOSER_WHEN_LARGER` (ascending), :data:`LOOSER_WHEN_SMALLER` (descending)
    and :data:`LOOSER_WHEN_FALSE` (true first) each plan is a feasible start for the next. Other
    numeric keys are solved in ascending order (neighbouring values make the best starts); anything
    else in the order given.
    """
    idx = list(range(len(values)))
    if key in LOOSER_WHEN_FALSE:
        return sorted(idx, key=lambda i: not values[i])
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric:
        return idx
    return sorted(idx, key=lambda i: -values[i] if key in LOOSER_WHEN_SMALLER else values[i])


def is_monotone_key(key: str) -> bool:
    """True when loosening ``key`` in the solve order only enlarges the set of allowed plans."""
    return key in LOOSER_WHEN_LARGER | LOOSER_WHEN_SMALLER | LOOSER_WHEN_FALSE


def frontier(
    district: District,
    scenario: Scenario | None,
    key: str,
    values: Sequence[Any],
    *,
    out: str | os.PathLike | None = None,
    time_limit: float | None = None,
    solver: str | None = None,
    progress: bool = True,
    plan_progress: bool = False,
    log_solver: bool = False,
    maps: bool = True,
    parallel: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
) -> FrontierResult:
    """Solve one plan per value of a scenario key: the trade-off a board weighs.

    Parameters
    ----------
    district
        The units and schools.
    scenario
        The base policy (defaults when None); ``key`` takes each value in turn.
    key
        A dotted scenario key, e.g. ``"constraints.max_extra_distance_km"``.
    values
        The values, in the order the rows should appear.
    out
        Folder to write: ``frontier.csv``, ``frontier.png``, ``frontier.html`` and one plan folder per
        value (``01_max_extra_distance_km=1`` ...). Nothing is written when None.
    time_limit, solver
        Override ``solver.time_limit_s`` (seconds per plan) and ``solver.name``.
    progress
        A tqdm bar over the plans.
    plan_progress, log_solver
        Each solve's own progress bar and the MIP solver's log.
    maps
        Write map.html and report.html in each plan's folder.
    parallel
        Solve the values independently on Dask workers (local processes, or the cluster at
        ``scheduler``) instead of one after another with warm starts. For constraint keys the
        results are made monotone afterwards (a tighter value's better plan is feasible for a looser
        value and replaces its plan, keeping the looser solve's proven bound).
    workers
        Local worker processes for ``parallel`` (default: every usable core).
    scheduler
        Address of a Dask scheduler for ``parallel``.

    Returns
    -------
    FrontierResult
        ``.table`` (frontier.csv) and ``.plans`` in the order of ``values``.

    Raises
    ------
    ZoneoptInputError
        An unknown key or a bad value (the message names the key).

    Examples
    --------
    >>> result = frontier(district, scenario, "constraints.max_moved_share", [0.05, 0.1, 0.2])
    ... # doctest: +SKIP
    >>> result.table[["value", "dissimilarity_after", "moved_share", "status"]]  # doctest: +SKIP
    """
    scenario = scenario or Scenario()
    overrides: dict[str, Any] = {}
    if time_limit is not None:
        overrides["solver.time_limit_s"] = float(time_limit)
    if solver is not None:
        overrides["solver.name"] = solver
    if overrides:
        scenario = scenario.with_values(overrides)
    values = check_values(scenario, key, values)
    scenarios = [scenario.with_values({key: v}) for v in values]
    order = solve_order(key, values)
    out_path = Path(out) if out is not None else None
    folders = [_folder_name(i, key, v) for i, v in enumerate(values)]

    plans: list[Plan | None] = [None] * len(values)
    warm_from: list[Any] = [None] * len(values)
    improved_from: list[Any] = [None] * len(values)
    monotone = is_monotone_key(key)

    def settle(done: list[int]) -> None:
        """Make the last solved value monotone with the tighter ones, then write its folder."""
        if monotone:
            _make_monotone(district, scenarios, done, plans, values, improved_from)
        if out_path is not None:
            plan = plans[done[-1]]
            plan.save(out_path / folders[done[-1]], maps=maps and plan.ok)

    bar = _bar(len(values), f"frontier {key.split('.')[-1]}", progress)
    try:
        if parallel:
            from ..batch import single_core

            scenarios = [single_core(s) for s in scenarios]  # one core per Dask worker
            solved = _solve_parallel(district, scenarios, order, workers, scheduler, bar,
                                     plan_progress, log_solver)
            for k, i in enumerate(order):
                plans[i] = solved[i]
                settle(order[: k + 1])
        else:
            # Each solve starts from the last plan found, tighter by construction of the order;
            # each folder is written as soon as its plan is settled, so a long sweep that is
            # stopped keeps what it finished.
            previous: Plan | None = None
            previous_value: Any = None
            for k, i in enumerate(order):
                if bar is not None:
                    bar.set_postfix_str(f"{key.split('.')[-1]}={label(values[i])}")
                plans[i] = _solve_one(district, scenarios[i], previous, plan_progress, log_solver)
                warm_from[i] = previous_value
                settle(order[: k + 1])
                if plans[i].ok:
                    previous, previous_value = plans[i], values[i]
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    final: list[Plan] = [p for p in plans if p is not None]
    table = frontier_table(key, values, final, warm_from=warm_from, improved_from=improved_from,
                           folders=folders if out_path is not None else None)
    files = write_frontier_files(table, key, out_path) if out_path is not None else {}
    return FrontierResult(key, values, table, final, out_path, files)


def _bar(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="plan")


def _solve_one(district: District, scenario: Scenario, start: Plan | None, progress: bool,
               log_solver: bool) -> Plan:
    from ..solve import optimize

    try:
        return optimize(district, scenario, progress=progress, log_solver=log_solver, start=start)
    except (InfeasibleError, NoSolutionError) as exc:
        if exc.plan is None:  # every failure of optimize carries a plan; be safe anyway
            return Plan.failed(district, scenario, "no_solution" if isinstance(
                exc, NoSolutionError) else "infeasible", [str(exc)], 0.0, scenario.solver.name)
        return exc.plan


def _solve_remote(district: District, scenario: Scenario, progress: bool, log_solver: bool
                  ) -> tuple[np.ndarray | None, dict[str, Any], list[dict[str, Any]]]:
    """Worker side of a parallel frontier: only the assignment and figures travel back."""
    plan = _solve_one(district, scenario, None, progress, log_solver)
    return plan.positions, plan.summary, plan.trace


def _solve_parallel(district, scenarios, order, workers, scheduler, bar, progress, log_solver):
    from ..batch import dask_client

    solved: dict[int, Plan] = {}
    with dask_client(scheduler=scheduler, n_workers=workers) as client:
        remote_district = client.scatter(district, broadcast=True)
        futures = {
            client.submit(_solve_remote, remote_district, scenarios[i], progress, log_solver,
                          retries=1, pure=False): i
            for i in order
        }
        from dask.distributed import as_completed

        for future in as_completed(futures):
            i = futures[future]
            positions, summary, trace = future.result()
            solved[i] = Plan(district, scenarios[i], positions, summary, trace)
            if bar is not None:
                bar.update(1)
    return solved


def _make_monotone(district, scenarios, order, plans, values, improved_from) -> None:
    """Walk from tight to loose: a looser value never keeps a plan worse than a tighter one's.

    A tighter value's plan satisfies every looser scenario, so it may stand in for a worse (or missing)
    looser plan. The looser solve's bound stays: it is valid for the looser problem.
    """
    from ..check import check_plan

    best: Plan | None = None
    best_value: Any = None
    for i in order:
        plan = plans[i]
        if plan is None:
            continue
        if best is not None and plan.status != "infeasible":
            worse = (not plan.ok) or plan.summary["objective"] > best.summary["objective"] + 1e-12
            if worse and check_plan(district, scenarios[i], best.positions).ok:
                bound = plan.summary["bound"] if plan.ok else 0.0
                plans[i] = Plan.from_assignment(
                    district, scenarios[i], best.positions,
                    status="search", bound=float(bound or 0.0),
                    solver=plan.summary.get("solver", ""),
                    seconds=plan.summary.get("solve_seconds", 0.0), trace=plan.trace,
                    stopped_by=plan.summary.get("stopped_by") or "work_budget",
                )
                improved_from[i] = best_value
                plan = plans[i]
        if plan.ok and (best is None or plan.summary["objective"] < best.summary["objective"]):
            best, best_value = plan, values[i]


def _folder_name(index: int, key: str, value: Any) -> str:
    text = label(value)
    leaf = key.split(".")[-1]
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", f"{index + 1:02d}_{leaf}={text}")


def frontier_table(
    key: str,
    values: Sequence[Any],
    plans: Sequence[Plan],
    *,
    warm_from: Sequence[Any] | None = None,
    improved_from: Sequence[Any] | None = None,
    folders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The frontier.csv table: ``value``, the summary.json keys, then the frontier's own columns.

    The nested ``scenario`` of summary.json is written as ``key=value`` (the rest of the scenario is
    the same on every row); ``diagnosis`` (infeasible rows) is joined with "; ". ``time_limited`` is
    True when the solve used up its time limit (or was interrupted) before proving its gap within
    ``solver.mip_gap``: the row's figures are the best plan found in time. A ``feasible`` row that is
    not time-limited stopped its search without proof for another reason; its ``gap`` says how far
    from proven it is.
    """
    warm = list(warm_from if warm_from is not None else [None] * len(values))
    improved = list(improved_from or [None] * len(values))
    keys: list[str] = []
    for plan in sorted(plans, key=lambda p: not p.ok):  # a full summary first fixes the order
        keys += [k for k in plan.summary if k not in keys]
    if "diagnosis" in keys:  # after the figures, so every row lines up
        keys.remove("diagnosis")
        keys.append("diagnosis")
    rows = []
    for value, plan, w, imp, i in zip(values, plans, warm, improved, range(len(values)),
                                      strict=True):
        row: dict[str, Any] = {"value": value}
        for k in keys:
            v = plan.summary.get(k)
            if k == "scenario":
                v = f"{key}={label(value)}"
            elif k == "diagnosis":
                v = "; ".join(v or [])
            row[k] = v
        row["time_limited"] = _time_limited(plan)
        row["warm_start_from"] = w
        row["improved_from"] = imp
        row["folder"] = folders[i] if folders is not None else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["value", *keys, *_EXTRA_COLUMNS])


def _time_limited(plan: Plan) -> bool:
    """True when the solve ran out of time (or was interrupted) before proving its gap."""
    s = plan.summary
    if s.get("status") not in ("feasible", "no_solution"):
        return False
    if s.get("interrupted"):
        return True
    # optimize stops at its deadline; a margin covers the final bookkeeping after the last solve.
    return float(s.get("solve_seconds") or 0.0) >= 0.9 * plan.scenario.solver.time_limit_s
