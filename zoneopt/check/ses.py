"""The checker's own arithmetic for SES tiers and monitored groups (issue 14).

It reads the raw ``ses_tier`` and ``report_<name>`` columns of ``district.units`` and recomputes
the multi-group dissimilarity, each school's tier shares and the tier band with plain pandas group
sums: nothing from :mod:`zoneopt.tiers`, the model or the search, so a mistake there cannot hide here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Relative tolerance when comparing reported figures with the checker's own.
RTOL = 1e-7


@dataclass
class SesCheck:
    """What the SES check found: violations, figures, and the balance term of the objective."""

    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    objective_term: float = 0.0


def _frame(district, pos: np.ndarray) -> pd.DataFrame:
    units = district.units
    return pd.DataFrame({
        "school": np.asarray(pos, dtype=np.int64),
        "students": pd.to_numeric(units["students"], errors="coerce").to_numpy(dtype=float),
    })


def _index(table: pd.DataFrame, group_cols: list[str]) -> float:
    """D_T = sum_j sum_g |S_jg - P_g S_j| / (2 S I) from a school x group table of counts."""
    by_school = table.groupby("school")[group_cols].sum()
    s_j = by_school.sum(axis=1)
    total = float(s_j.sum())
    if total <= 0:
        return 0.0
    p = by_school.sum(axis=0) / total
    index = float((p * (1 - p)).sum())
    if index <= 0:
        return 0.0
    dev = by_school.sub(s_j.to_frame().to_numpy() * p.to_numpy()[None, :])
    return float(dev.abs().to_numpy().sum() / (2 * total * index))


def check_ses(district, scenario, pos: np.ndarray, summary: dict[str, Any] | None) -> SesCheck:
    """Re-derive tier figures, the tier band and monitored groups' figures.

    The scalar figures go into ``figures`` for :func:`zoneopt.check.check_plan` to compare with the
    summary; the monitored groups' per-name dissimilarities are compared here.

    Parameters
    ----------
    district, scenario
        The problem; the units' raw ``ses_tier`` and ``report_`` columns are read.
    pos
        School position per unit.
    summary
        The plan's summary.json, or None.

    Returns
    -------
    SesCheck
    """
    out = SesCheck()
    units = district.units
    ids = np.asarray(district.school_ids)
    c, o = scenario.constraints, scenario.objective
    needs = o.balance == "tiers" or math.isfinite(c.tier_band)
    frame = _frame(district, pos)
    sq = np.asarray(_own_status_quo(district))
    if "ses_tier" in units.columns:
        tier = pd.to_numeric(units["ses_tier"], errors="coerce").to_numpy(dtype=float)
        valid = np.isfinite(tier) & (tier >= 1) & (tier == np.round(tier))
        given = units["ses_tier"].notna().to_numpy()
        bad = ~valid & (given | (frame["students"].to_numpy() > 0))
        labels = [f"t{int(t)}" for t in sorted(set(tier[np.isfinite(tier)].astype(int)))]
        if bad.any() or len(labels) == 0 or max(int(lab[1:]) for lab in labels) < 2:
            # Not usable as tiers: a violation when the scenario relies on them; otherwise the
            # plan reports no tier figures, and neither does the checker.
            if needs:
                where = np.flatnonzero(bad)
                out.violations.append(
                    f"unit {district.unit_ids[where[0]]} has students but no valid ses_tier"
                    if len(where) else "ses_tier holds fewer than two tiers")
            return out
        for lab in labels:
            frame[lab] = np.where(tier == int(lab[1:]), frame["students"], 0.0)
        after = _index(frame, labels)
        out.figures["tier_dissimilarity_after"] = after
        if (sq >= 0).all():
            before_frame = frame.assign(school=sq)
            out.figures["tier_dissimilarity_before"] = _index(before_frame, labels)
        by_school = frame.groupby("school")[labels + ["students"]].sum()
        total = by_school["students"].sum()
        shares_all = by_school[labels].sum() / total if total else by_school[labels].sum() * 0
        gap_max = 0.0
        for j, row in by_school.iterrows():
            if row["students"] <= 0:
                continue
            for lab in labels:
                share = row[lab] / row["students"]
                gap = abs(share - shares_all[lab])
                gap_max = max(gap_max, gap)
                if math.isfinite(c.tier_band) and gap > c.tier_band + 1e-9:
                    out.violations.append(
                        f"school {ids[j]}: share of SES tier {lab[1:]} is {share:.4f}, {gap:.4f} "
                        f"from the district's {shares_all[lab]:.4f}, above tier_band {c.tier_band:g}"
                    )
        out.figures["max_tier_gap_after"] = gap_max
        if o.balance == "tiers":
            out.objective_term = after
    elif needs:
        out.violations.append("the scenario balances SES tiers but the units have no ses_tier")
        return out
    report_cols = [col for col in units.columns
                   if str(col).startswith("report_") and str(col) != "report_"]
    if report_cols and summary is not None and "report_dissimilarity_after" in summary:
        theirs = summary["report_dissimilarity_after"] or {}
        for col in report_cols:
            name = str(col)[len("report_"):]
            g = pd.to_numeric(units[col], errors="coerce").fillna(0).to_numpy(dtype=float)
            table = frame[["school"]].assign(
                grp=g, rest=np.maximum(frame["students"].to_numpy() - g, 0.0))
            mine = _index(table, ["grp", "rest"])
            value = theirs.get(name)
            if value is None or not math.isclose(float(value), mine, rel_tol=RTOL, abs_tol=1e-9):
                out.violations.append(
                    f"summary report_dissimilarity_after[{name}]={value}, checker finds {mine}")
    return out


def _own_status_quo(district) -> np.ndarray:
    """Today's school per unit as the checker derives it from the files (check/geometry.py)."""
    from .geometry import derive

    return derive(district).status_quo
