"""Plans side by side: every summary figure, and each school's figures today and under each plan.

A board never chooses from one plan. :func:`compare` and :func:`compare_schools` put several plans
side by side; :func:`compare_html` renders both tables for a notebook or a page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..plan import Plan

#: Per-school figures compared across plans (schools.csv column stems).
SCHOOL_FIGURES = ("enrollment", "utilization", "low_income_share", "mean_distance_km")

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


def display(value: Any) -> str:
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


def label(value: Any) -> str:
    """Shortest faithful text of a varied value (folder names, labels): 0.3, 2, inf, true."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | int | np.number):
        return f"{value:g}"
    return str(value)


def html_table(frame: pd.DataFrame) -> str:
    shown = frame.map(display)
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
        "<h3>Plans side by side</h3>" + html_table(summary)
        + "<h3>Schools: today and under each plan</h3>" + html_table(schools)
        + "</div>"
    )
