"""The report's section on plan years: a per-year table and small multiples of utilization.

:func:`years_report_table` is the table (also for report.pdf); :func:`years_section_html` renders
the section of report.html (template ``years_section.html``): plain-words warnings where a year and
series overfills a school, the table, and one small chart per school of utilization by year, today's
zones against the plan, with the range of the series shaded and the capacity line drawn.
"""

from __future__ import annotations

import math
from typing import Any

import markupsafe
import numpy as np
import pandas as pd

from ..years import years_active, years_table
from ._templates import env

#: Small-multiple panel size (px) and margins.
PANEL_W, PANEL_H, PAD_L, PAD_R, PAD_T, PAD_B = 180, 110, 34, 8, 18, 20
COLUMNS = 4


def years_report_table(plan: Any) -> pd.DataFrame:
    """Per school and plan year: capacity, today's and the plan's enrollment and utilization.

    Enrollment is the first (balance) series; ``utilization_max`` is the plan's largest over every
    listed series, with that series named in ``series_max``. Empty without ``[years] plan``.

    Returns
    -------
    pandas.DataFrame
        ``school_id, name, year, capacity, enrollment_today, enrollment_proposed,
        utilization_today, utilization_proposed, utilization_max, series_max``.
    """
    cols = ["school_id", "name", "year", "capacity", "enrollment_today", "enrollment_proposed",
            "utilization_today", "utilization_proposed", "utilization_max", "series_max"]
    scenario = getattr(plan, "scenario", None)  # report tests pass plan-like objects
    if scenario is None or not years_active(scenario):
        return pd.DataFrame(columns=cols)
    long = years_table(plan)
    first = plan.scenario.years.series[0]
    names = dict(zip(plan.district.school_ids, plan.district.schools["name"], strict=True))
    today = long[(long["plan"] == "today") & (long["series"] == first)].set_index(
        ["school_id", "year"])
    prop = long[long["plan"] == ("proposed" if plan.positions is not None else "today")]
    rows = []
    for (sid, year), grp in prop.groupby(["school_id", "year"], sort=False):
        main = grp[grp["series"] == first].iloc[0]
        top = grp.loc[grp["utilization"].idxmax()]
        rows.append({
            "school_id": sid, "name": names[sid], "year": int(year),
            "capacity": int(main["capacity"]),
            "enrollment_today": int(today.loc[(sid, year), "enrollment"]),
            "enrollment_proposed": int(main["enrollment"]),
            "utilization_today": float(today.loc[(sid, year), "utilization"]),
            "utilization_proposed": float(main["utilization"]),
            "utilization_max": float(top["utilization"]), "series_max": str(top["series"]),
        })
    return pd.DataFrame(rows, columns=cols)


def _pct(x: float) -> str:
    return "closed" if not math.isfinite(x) else f"{100 * x:.0f}%"


def _panels(plan: Any, long: pd.DataFrame, limit: float) -> dict[str, Any]:
    years = sorted(long["year"].unique().tolist())
    finite = long["utilization"].replace([np.inf], np.nan)
    top = max(1.1, float(np.nanmax(finite)) if finite.notna().any() else 1.1, limit) * 1.05
    # The panels share one scale from a little below the emptiest school (not from 0), so that
    # changes of a few percent from year to year are visible.
    low = float(np.nanmin(finite)) if finite.notna().any() else 0.0
    bottom = max(0.0, math.floor(10 * min(low, 0.9)) / 10 - 0.1)
    inner_w, inner_h = PANEL_W - PAD_L - PAD_R, PANEL_H - PAD_T - PAD_B

    def x(year: int) -> float:
        k = years.index(year)
        return PAD_L + (inner_w * k / (len(years) - 1) if len(years) > 1 else inner_w / 2)

    def yv(u: float) -> float:
        u = max(bottom, min(u if math.isfinite(u) else top, top))
        return PAD_T + inner_h * (1 - (u - bottom) / (top - bottom))

    first = plan.scenario.years.series[0]
    panels = []
    for k, sid in enumerate(plan.district.school_ids):
        mine = long[long["school_id"] == sid]
        line = {}
        for label in ("today", "proposed"):
            part = mine[(mine["plan"] == label) & (mine["series"] == first)].sort_values("year")
            line[label] = " ".join(f"{x(int(r.year)):.1f},{yv(r.utilization):.1f}"
                                   for r in part.itertuples())
        prop = mine[mine["plan"] == "proposed"]
        band = ""
        over = False
        if len(prop):
            hi = prop.groupby("year")["utilization"].max()
            lo = prop.groupby("year")["utilization"].min()
            pts = [f"{x(y):.1f},{yv(hi[y]):.1f}" for y in years]
            pts += [f"{x(y):.1f},{yv(lo[y]):.1f}" for y in reversed(years)]
            band = " ".join(pts)
            over = bool((hi > limit + 1e-9).any())
        panels.append({
            "school_id": sid, "x0": (k % COLUMNS) * PANEL_W, "y0": (k // COLUMNS) * PANEL_H,
            "today": line["today"], "proposed": line["proposed"], "band": band, "over": over,
        })
    ticks = [{"x": x(y), "label": str(y)} for y in (years[0], years[-1])]
    return {
        "panels": panels, "ticks": ticks, "width": COLUMNS * PANEL_W,
        "height": math.ceil(len(panels) / COLUMNS) * PANEL_H,
        "cap_y": yv(1.0), "limit_y": yv(limit), "show_limit": abs(limit - 1.0) > 1e-9,
        "pad_l": PAD_L, "pad_t": PAD_T, "inner_w": inner_w, "inner_h": inner_h,
        "top_label": _pct(top), "bottom_label": _pct(bottom),
    }


def years_section_html(plan: Any) -> markupsafe.Markup:
    """The report's plan-years section (empty markup when the scenario plans one year).

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan`.

    Returns
    -------
    markupsafe.Markup
        ``<section id="years">`` with warnings, the per-year table and the small multiples.
    """
    scenario = getattr(plan, "scenario", None)  # report tests pass plan-like objects
    if scenario is None or not years_active(scenario):
        return markupsafe.Markup("")
    table = years_report_table(plan)
    long = years_table(plan)
    y = plan.scenario.years
    limit = plan.scenario.constraints.max_utilization
    years = sorted(table["year"].unique().tolist())
    from ..desk.suppress import HIDDEN, is_small

    below = scenario.report.suppress_below  # a use derived from fewer students is hidden

    def use(grp: pd.DataFrame, yr: int, col: str, count: str) -> str:
        return HIDDEN if is_small(grp.loc[yr, count], below) else _pct(grp.loc[yr, col])

    rows = []
    for sid, grp in table.groupby("school_id", sort=False):
        grp = grp.set_index("year")
        rows.append({
            "school_id": sid, "name": grp["name"].iloc[0],
            "cells": [{
                "year": yr,
                "text": use(grp, yr, "utilization_proposed", "enrollment_proposed"),
                "max": (f"{_pct(grp.loc[yr, 'utilization_max'])} {grp.loc[yr, 'series_max']}"
                        if len(y.series) > 1 else ""),
                "today": use(grp, yr, "utilization_today", "enrollment_today"),
                "over": bool(grp.loc[yr, "utilization_max"] > 1.0 + 1e-9),
                "seats": int(grp.loc[yr, "capacity"]),
            } for yr in years],
        })
    warnings = [w for w in plan.summary.get("years_warnings", []) if w.startswith("with the plan")]
    today_over = sum(1 for w in plan.summary.get("years_warnings", []) if w.startswith("with today"))
    t = plan.scenario.transition
    phase = ""
    if t.grandfather_grades:
        grades = ", ".join("K" if g == 0 else str(g) for g in t.grandfather_grades)
        phase = (f"The new zones start in {t.start_year}; students in grade(s) {grades} that year "
                 "stay at their current school until they finish it, and are counted there.")
    return markupsafe.Markup(env().get_template("years_section.html").render(
        years=years, rows=rows, series=list(y.series), first=y.series[0], warnings=warnings,
        today_over=today_over, phase=phase, limit=_pct(limit), chart=_panels(plan, long, limit),
        balance=("the mean over the plan years" if y.balance_year == "mean"
                 else f"the year {y.balance_year}"),
    ))


__all__ = ["years_report_table", "years_section_html"]
