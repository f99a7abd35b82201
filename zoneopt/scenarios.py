"""Trade-offs between plans: side-by-side comparison tables and the frontier of a policy sweep.

A board never chooses from one plan. :func:`compare` and :func:`compare_schools` put several plans
side by side (every summary figure, and each school's enrollment, low-income share and distance);
:func:`frontier` solves one plan per value of a scenario key (``zoneopt frontier`` on the command
line) and writes ``frontier.csv``, a chart (``frontier.png`` and ``frontier.html``) and each plan's
output folder.

Monotonicity. For a constraint key whose looser values only enlarge the set of allowed plans (for
instance ``constraints.max_extra_distance_km`` or ``constraints.max_moved_share``), the frontier solves
the values from the tightest to the loosest and warm-starts each solve from the previous plan, which is
feasible for the looser scenario. Each plan's objective is therefore never worse than a tighter
value's, even when a solve stops at its time limit; with proven-optimal plans this is the mathematics
itself (loosening a constraint never raises the optimum).
"""

from __future__ import annotations

import html
import io as _io
import math
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .district import District
from .errors import InfeasibleError, NoSolutionError, ZoneoptInputError
from .plan import Plan
from .scenario import Scenario

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

#: Per-school figures compared across plans (schools.csv column stems).
SCHOOL_FIGURES = ("enrollment", "utilization", "low_income_share", "mean_distance_km")

# Frontier columns after the summary keys (an extension of the contract's frontier.csv).
_EXTRA_COLUMNS = ["time_limited", "warm_start_from", "improved_from", "folder"]


# ------------------------------------------------------------------------------------- compare
def _labelled(plans: Mapping[str, Plan] | Sequence[Plan]) -> list[tuple[str, Plan]]:
    """(label, plan) pairs with unique labels: mapping keys, else titles, else "plan N"."""
    if isinstance(plans, Plan):
        plans = [plans]
    if isinstance(plans, Mapping):
        pairs = [(str(k), p) for k, p in plans.items()]
    else:
        pairs = [(p.title or f"plan {i + 1}", p) for i, p in enumerate(plans)]
    if not pairs:
        raise ValueError("compare needs at least one plan")
    for label, plan in pairs:
        if not isinstance(plan, Plan):
            raise TypeError(f"{label!r} is a {type(plan).__name__}, not a zoneopt Plan")
    seen: dict[str, int] = {}
    out = []
    for label, plan in pairs:
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", plan))
    return out


def _flat_scenario(plan: Plan) -> dict[str, Any]:
    return {f"{section}.{key}": value
            for section, values in plan.scenario.to_dict().items()
            for key, value in values.items()}


def compare(plans: Mapping[str, Plan] | Sequence[Plan]) -> pd.DataFrame:
    """Every summary figure of several plans side by side.

    Parameters
    ----------
    plans
        ``{label: plan}``, or a sequence of plans (labelled by their report title, else
        "plan 1", "plan 2", ...). Plans without an assignment (infeasible, no solution) are allowed:
        their figures are empty and their diagnosis is shown.

    Returns
    -------
    pandas.DataFrame
        One column per plan, one row per summary figure (the keys of summary.json in their order),
        then a ``diagnosis`` row when any plan has one, then one row ``scenario: section.key`` for
        each scenario setting that differs between the plans. Values are unrounded.

    Examples
    --------
    >>> table = compare({"today's limits": plan_a, "looser": plan_b})  # doctest: +SKIP
    >>> table.loc["dissimilarity_after"]  # doctest: +SKIP
    """
    pairs = _labelled(plans)
    keys: list[str] = []
    for _, plan in pairs:
        keys += [k for k in plan.summary if k not in keys and k not in ("scenario", "diagnosis")]
    rows: dict[str, list[Any]] = {k: [p.summary.get(k) for _, p in pairs] for k in keys}
    if any("diagnosis" in p.summary for _, p in pairs):
        rows["diagnosis"] = ["; ".join(p.summary.get("diagnosis") or []) for _, p in pairs]
    scenarios = [_flat_scenario(p) for _, p in pairs]
    for key in scenarios[0]:
        values = [s.get(key) for s in scenarios]
        if any(v != values[0] for v in values[1:]):
            rows[f"scenario: {key}"] = values
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[lbl for lbl, _ in pairs],
                                   dtype=object)
    table.index.name = "figure"
    return table


def compare_schools(plans: Mapping[str, Plan] | Sequence[Plan]) -> pd.DataFrame:
    """Each school's figures today and under each plan, side by side.

    Parameters
    ----------
    plans
        As for :func:`compare`; plans of different districts are joined on ``school_id``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``school_id``; columns are a two-level index ``(figure, plan)`` with the figure one
        of ``name``, ``capacity``, ``enrollment``, ``utilization``, ``low_income_share``,
        ``mean_distance_km``, ``students_gained``, ``students_lost``, and the plan ``today`` (the
        status quo) or a plan's label. A plan without an assignment has empty (NaN) figures.
    """
    pairs = _labelled(plans)
    tables = {label: plan.schools_table.set_index("school_id") for label, plan in pairs}
    order: list[str] = []
    for t in tables.values():
        order += [s for s in t.index if s not in order]
    first: dict[str, pd.Series] = {}
    for t in tables.values():
        for column in t.columns:
            series = t[column].reindex(order)
            first[column] = series if column not in first else first[column].combine_first(series)
    columns: dict[tuple[str, str], pd.Series] = {
        ("name", ""): first["name"], ("capacity", ""): first["capacity"],
    }
    for figure in SCHOOL_FIGURES:
        columns[(figure, "today")] = first[f"{figure}_before"]
        for label, plan in pairs:
            after = tables[label][f"{figure}_after"].reindex(order).astype(float)
            columns[(figure, label)] = after if plan.ok else after * np.nan
    for figure in ("students_gained", "students_lost"):
        for label, plan in pairs:
            series = tables[label][figure].reindex(order).astype(float)
            columns[(figure, label)] = series if plan.ok else series * np.nan
    table = pd.DataFrame(columns)
    table.columns = pd.MultiIndex.from_tuples(table.columns, names=["figure", "plan"])
    table.index.name = "school_id"
    return table


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "no limit" if value > 0 else "-inf"
        return f"{value:.4g}"
    return str(value)


def _label(value: Any) -> str:
    """Shortest faithful text of a varied value (folder names, labels): 0.3, 2, inf, true."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | int | np.number):
        return f"{value:g}"
    return str(value)


def _html_table(frame: pd.DataFrame) -> str:
    shown = frame.map(_display)
    return shown.to_html(escape=True, border=0, classes="zoneopt-compare")


def compare_html(plans: Mapping[str, Plan] | Sequence[Plan]) -> str:
    """The comparison as an HTML fragment (both tables; every label and value escaped).

    Parameters
    ----------
    plans
        As for :func:`compare`.

    Returns
    -------
    str
        ``<div>`` with the summary table and the per-school table, numbers rounded for display.
    """
    summary = compare(plans)
    schools = compare_schools(plans)
    return (
        '<div class="zoneopt-comparison">'
        "<style>.zoneopt-compare td,.zoneopt-compare th{padding:2px 8px;text-align:right}"
        ".zoneopt-compare{border-collapse:collapse;font-size:90%}"
        ".zoneopt-compare tr:nth-child(even){background:#f4f4f4}</style>"
        "<h3>Plans side by side</h3>" + _html_table(summary)
        + "<h3>Schools: today and under each plan</h3>" + _html_table(schools)
        + "</div>"
    )


# ------------------------------------------------------------------------------------- frontier
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
        return {f"{self.key.split('.')[-1]} = {_label(v)}": p
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
                f"{key}: the value {_label(v)} is given twice; list each value once", column=key)
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
            from .batch import single_core

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
                    bar.set_postfix_str(f"{key.split('.')[-1]}={_label(values[i])}")
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
    from .solve import optimize

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
    from .batch import dask_client

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
    from .check import check_plan

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
                    status="feasible", bound=float(bound or 0.0),
                    solver=plan.summary.get("solver", ""),
                    seconds=plan.summary.get("solve_seconds", 0.0), trace=plan.trace,
                )
                summary = plans[i].summary
                if summary["gap"] <= scenarios[i].solver.mip_gap + 1e-9:
                    summary["status"] = "optimal"
                improved_from[i] = best_value
                plan = plans[i]
        if plan.ok and (best is None or plan.summary["objective"] < best.summary["objective"]):
            best, best_value = plan, values[i]


def _folder_name(index: int, key: str, value: Any) -> str:
    text = _label(value)
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
                v = f"{key}={_label(value)}"
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


# --------------------------------------------------------------------------------------- chart
def _x_positions(values: Sequence[Any]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x for the chart; infinite values sit one step past the largest finite value."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric:
        return np.arange(len(values), dtype=float), [_label(v) for v in values]
    x = np.array(values, dtype=float)
    finite = x[np.isfinite(x)]
    if finite.size == len(x):
        return x, None
    top = finite.max() if finite.size else 0.0
    span = (finite.max() - finite.min()) if finite.size > 1 else max(abs(top), 1.0)
    x = np.where(np.isinf(x), top + max(span * 0.25, 1e-9), x)
    return x, None


def frontier_figure(table: pd.DataFrame, key: str) -> Any:
    """The trade-off chart: balance against the varied value, with moved share and distance.

    Top panel: dissimilarity after (and the objective when it differs), its proven bound and
    today's value. Bottom panel: share of students moved and mean distance. Filled markers are
    proven within the gap; hollow ones are not (most often the time limit ran out); a cross marks
    a value with no plan, labelled with its status.
    """
    from matplotlib.figure import Figure

    values = list(table["value"])
    x, labels = _x_positions(values)
    ok = table["dissimilarity_after"].notna().to_numpy() if "dissimilarity_after" in table else (
        np.zeros(len(table), bool))
    unproven = (table["status"] != "optimal").to_numpy()
    sort = np.argsort(x, kind="stable")

    fig = Figure(figsize=(7.5, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)

    def series(column: str) -> np.ndarray:
        if column not in table:
            return np.full(len(table), np.nan)
        return pd.to_numeric(table[column], errors="coerce").to_numpy(float)

    def draw(ax, y, color, label, marker="o"):
        good = sort[ok[sort]]
        ax.plot(x[good], y[good], "-", color=color, label=label)
        proven = good[~unproven[good]]
        hit = good[unproven[good]]
        ax.plot(x[proven], y[proven], marker, color=color, linestyle="none")
        ax.plot(x[hit], y[hit], marker, color=color, markerfacecolor="white", linestyle="none",
                markersize=8)

    d_after = series("dissimilarity_after")
    objective = series("objective")
    draw(top, d_after, "tab:blue", "dissimilarity after")
    if np.nanmax(np.abs(objective - d_after), initial=0.0) > 1e-9:
        draw(top, objective, "tab:purple", "objective", marker="D")
    bound = series("bound")
    good = sort[ok[sort]]
    top.plot(x[good], bound[good], "--", color="tab:gray", label="proven bound (objective)")
    before = series("dissimilarity_before")
    if np.isfinite(before).any():
        top.axhline(np.nanmax(before), color="tab:red", linestyle=":", label="dissimilarity today")
    failed = ~ok
    if failed.any():
        top.plot(x[failed], np.zeros(failed.sum()), "x", color="black", markersize=10,
                 linestyle="none", label="no plan", clip_on=False)
        for xi, status in zip(x[failed], table["status"][failed], strict=True):
            top.annotate(str(status).replace("_", " "), (xi, 0), xytext=(0, 8),
                         textcoords="offset points", ha="center", fontsize=7, rotation=90,
                         va="bottom")
    top.set_ylabel("dissimilarity index")
    top.set_ylim(bottom=0)
    top.legend(fontsize=8, loc="best")
    top.set_title(f"Trade-off as {key} varies" + ("  (hollow: not proven, e.g. time limit)"
                                                  if unproven[ok].any() else ""), fontsize=10)

    moved = series("moved_share") * 100
    draw(bottom, moved, "tab:orange", "students moved (%)", marker="s")
    bottom.set_ylabel("students moved (%)", color="tab:orange")
    bottom.set_ylim(bottom=0)
    right = bottom.twinx()
    draw(right, series("mean_distance_km_after"), "tab:green", "mean distance (km)", marker="^")
    right.set_ylabel("mean distance to school (km)", color="tab:green")
    handles = bottom.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    bottom.legend(handles=handles, fontsize=8, loc="best")
    bottom.set_xlabel(key)
    if labels is not None:
        bottom.set_xticks(x, labels)
    else:
        ticks = list(x)
        names = [_display(v) for v in values]
        bottom.set_xticks(ticks, names)
    return fig


def _figure_bytes(fig: Any, fmt: str) -> bytes:
    buffer = _io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    return buffer.getvalue()


def frontier_html(table: pd.DataFrame, key: str, *, svg: str | None = None) -> str:
    """A self-contained HTML page of the frontier: the chart as inline SVG and the table."""
    if svg is None:
        svg = _figure_bytes(frontier_figure(table, key), "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and doctype: inline SVG needs neither
    shown = ["value", "status", "objective", "bound", "gap", "dissimilarity_before",
             "dissimilarity_after", "moved_share", "students_moved", "mean_distance_km_after",
             "max_utilization_after", "solve_seconds", "time_limited", "improved_from", "diagnosis"]
    view = table[[c for c in shown if c in table]]
    notes = []
    if table["time_limited"].astype(bool).any():
        notes.append("Rows marked time-limited stopped before proving their gap: their figures are "
                     "the best plan found in time, within the stated gap of the proven bound.")
    if table["improved_from"].notna().any():
        notes.append("Where improved_from is set, the plan of that tighter value satisfied this "
                     "value's rules and was better than what its own solve found, so it is used.")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>zoneopt frontier: {html.escape(key)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;text-align:right}tr:nth-child(even){background:#f4f4f4}</style>"
        f"</head><body><h1>Frontier: {html.escape(key)}</h1>"
        f"<figure>{svg}</figure>"
        + _html_table(view.set_index("value"))
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
        + "</body></html>\n"
    )


def _write_bytes(path: Path, data: bytes) -> Path:
    """Atomic write: a temporary file in the same folder, then a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_frontier_files(table: pd.DataFrame, key: str, out: str | os.PathLike) -> dict[str, Path]:
    """Write frontier.csv, frontier.png and frontier.html into ``out`` (each atomically)."""
    from . import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = frontier_figure(table, key)
    svg = _figure_bytes(fig, "svg").decode("utf-8")
    return {
        "csv": io.write_csv(out / "frontier.csv", table),
        "png": _write_bytes(out / "frontier.png", _figure_bytes(fig, "png")),
        "html": io.write_text(out / "frontier.html", frontier_html(table, key, svg=svg)),
    }


# ------------------------------------------------------------------------------------- command
def frontier_command(args: Any) -> int:
    """``zoneopt frontier``: the exit status (0 at least one plan written; 2 bad input; 3 every value
    proven infeasible; 4 no plan found in time for any value)."""
    import sys

    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    key, values = parse_vary(args.vary, scenario)
    district = District.from_files(args.units, args.schools,
                                   travel_matrix=scenario.travel.matrix or None)
    t0 = time.perf_counter()
    result = frontier(
        district, scenario, key, values, out=args.out, time_limit=args.time_limit,
        solver=args.solver, progress=True, plan_progress=bool(getattr(args, "progress", False)),
        log_solver=bool(getattr(args, "solver_log", False)),
        maps=not getattr(args, "no_maps", False), parallel=bool(getattr(args, "parallel", False)),
        workers=getattr(args, "workers", None), scheduler=getattr(args, "scheduler", None),
    )
    for _, row in result.table.iterrows():
        if row["status"] in ("optimal", "feasible"):
            print(f"{key}={_label(row['value'])}: {row['status']}, dissimilarity "
                  f"{row['dissimilarity_after']:.4f} (gap {row['gap']:.1%}), "
                  f"{row['moved_share']:.1%} moved, mean distance "
                  f"{row['mean_distance_km_after']:.2f} km"
                  + (" [time limit]" if row["time_limited"] else ""))
        else:
            print(f"{key}={_label(row['value'])}: {row['status']}: {row.get('diagnosis', '')}",
                  file=sys.stderr)
    print(f"wrote {result.out}/ (frontier.csv, frontier.png, frontier.html and {len(values)} plan "
          f"folders) in {time.perf_counter() - t0:.0f} s")
    statuses = set(result.table["status"])
    if statuses & {"optimal", "feasible"}:
        return 0
    return 3 if statuses == {"infeasible"} else 4


__all__ = [
    "FrontierResult",
    "compare",
    "compare_html",
    "compare_schools",
    "check_values",
    "frontier",
    "frontier_figure",
    "frontier_html",
    "frontier_table",
    "parse_vary",
    "solve_order",
    "write_frontier_files",
]
