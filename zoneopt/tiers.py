r"""SES tiers and monitored groups of a district: the counts, and the figures of a plan.

Units may carry ``ses_tier`` (integer 1..K; every student of the unit counts in that tier) and
``report_<name>`` columns (counts of students to monitor, e.g. ``report_hispanic``). The tiers can
be balanced (``objective.balance = "tiers"``, ``constraints.tier_band``); the monitored groups are
only ever reported: nothing here is read by the model or the search except :func:`tier_counts`.

Multi-group dissimilarity (CONTRACT.md): with :math:`S_{jk}` the students of tier :math:`k` at
school :math:`j`, :math:`S_j` the school's students, :math:`P_k` the district's share of tier
:math:`k` and :math:`I = \sum_k P_k (1 - P_k)`,

.. math:: D_T = \sum_j \sum_k \frac{S_j |P_{jk} - P_k|}{2 S I}
              = \frac{1}{2 S I} \sum_j \sum_k |S_{jk} - P_k S_j| .

With two groups (low-income and others) it is the dissimilarity index :math:`D`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import ZoneoptInputError

TIER_COLUMN = "ses_tier"
REPORT_PREFIX = "report_"


def has_tiers(district: Any) -> bool:
    """True when the district's units carry an ``ses_tier`` column."""
    return TIER_COLUMN in district.units.columns


def uses_tiers(scenario: Any) -> bool:
    """True when the scenario balances or bands the tiers (so ``ses_tier`` is required)."""
    return scenario.objective.balance == "tiers" or math.isfinite(scenario.constraints.tier_band)


def tier_counts(district: Any) -> np.ndarray:
    """Students per unit and tier: an ``(n_units, K)`` integer array (K the largest tier given).

    Cached on the district (its units never change).

    Raises
    ------
    ZoneoptInputError
        When ``ses_tier`` is missing, not a whole number from 1 up, or empty for a unit that has
        students; the message names the units file, the unit and the column.
    """
    cache = district.__dict__.get("_tier_counts_cache")
    if cache is not None:
        return cache
    source = district.sources.get("units", "units")
    units = district.units
    if TIER_COLUMN not in units.columns:
        raise ZoneoptInputError(
            "balance = 'tiers' and tier_band need the units column 'ses_tier' (integer 1..K, 1 the "
            "lowest SES); compute it with `zoneopt units --ses-tiers 4` or add it",
            file=source, column=TIER_COLUMN,
        )
    raw = pd.to_numeric(units[TIER_COLUMN], errors="coerce").to_numpy(dtype=float)
    text = units[TIER_COLUMN].astype(object).to_numpy()
    students = district.students
    for i in range(len(raw)):
        empty = text[i] is None or (isinstance(text[i], float) and math.isnan(text[i])) or (
            text[i] is pd.NA)
        if empty:
            if students[i] > 0:
                raise ZoneoptInputError(
                    f"has {int(students[i])} students but no ses_tier; give every unit with "
                    "students its tier", file=source, row=district.unit_ids[i], column=TIER_COLUMN)
            continue
        v = raw[i]
        if not math.isfinite(v) or v != round(v) or v < 1:
            raise ZoneoptInputError(
                f"ses_tier '{text[i]}' is not a whole number >= 1 (1 = lowest SES)",
                file=source, row=district.unit_ids[i], column=TIER_COLUMN)
    valid = ~np.isnan(raw)
    k = int(np.nanmax(raw)) if valid.any() else 1
    if k < 2:
        raise ZoneoptInputError(
            "every unit is in tier 1: balancing tiers needs at least two tiers", file=source,
            column=TIER_COLUMN)
    counts = np.zeros((len(raw), k), dtype=np.int64)
    rows = np.flatnonzero(valid)
    counts[rows, raw[rows].astype(np.int64) - 1] = students[rows]
    counts.setflags(write=False)
    district.__dict__["_tier_counts_cache"] = counts
    return counts


def reported_tier_counts(district: Any) -> np.ndarray | None:
    """:func:`tier_counts` for figures: None when the units have no usable ``ses_tier``.

    A scenario that balances or bands tiers has had its tiers validated (an input error) before
    any plan exists; otherwise tiers are only reported, and a column that cannot be read as tiers
    (a single tier, gaps) is left out of the figures rather than failing the plan.
    """
    if not has_tiers(district):
        return None
    try:
        return tier_counts(district)
    except ZoneoptInputError:
        return None


def validate_ses_columns(district: Any, scenario: Any) -> None:
    """Raise the input error of a bad ``ses_tier`` (when the scenario uses tiers) or ``report_``
    column now, before any solving, rather than once a plan is found."""
    if uses_tiers(scenario):
        tier_counts(district)
    report_groups(district)


def report_groups(district: Any) -> dict[str, np.ndarray]:
    """``name -> counts per unit`` of the units' ``report_<name>`` columns (NaN read as 0).

    Raises
    ------
    ZoneoptInputError
        When a value is not a number >= 0.
    """
    out = {}
    for col in district.units.columns:
        if not str(col).startswith(REPORT_PREFIX) or str(col) == REPORT_PREFIX:
            continue
        values = pd.to_numeric(district.units[col], errors="coerce")
        bad = (values < 0) | (values.isna() & district.units[col].notna())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ZoneoptInputError(
                f"'{district.units[col].iloc[i]}' is not a count of students (a number >= 0)",
                file=district.sources.get("units", "units"), row=district.unit_ids[i], column=col)
        out[str(col)[len(REPORT_PREFIX):]] = values.fillna(0).to_numpy(dtype=float)
    return out


# ---------------------------------------------------------------------------------- figures


def group_totals(assign: np.ndarray, counts: np.ndarray, n_schools: int) -> np.ndarray:
    """``(n_schools, K)`` students of each group at each school."""
    counts = np.asarray(counts, dtype=float)
    out = np.zeros((n_schools, counts.shape[1]))
    np.add.at(out, np.asarray(assign, dtype=np.int64), counts)
    return out


def multigroup_dissimilarity(assign: np.ndarray, counts: np.ndarray, n_schools: int) -> float:
    r"""The multi-group dissimilarity :math:`D_T` of CONTRACT.md (0 when a single group is present).

    Examples
    --------
    Two groups are the dissimilarity index: low-income 30 and 10 at two schools of 50 each,
    D = (30/40 - 20/60 + 40/60 - 10/40) / 2 = 5/12.

    >>> counts = np.array([[30, 20], [10, 40]])
    >>> round(multigroup_dissimilarity(np.array([0, 1]), counts, 2), 6)
    0.416667
    """
    sjk = group_totals(assign, counts, n_schools)
    sj = sjk.sum(axis=1)
    total = sj.sum()
    if total <= 0:
        return 0.0
    p = sjk.sum(axis=0) / total
    index = float((p * (1 - p)).sum())
    if index <= 0:
        return 0.0
    return float(np.abs(sjk - p[None, :] * sj[:, None]).sum() / (2.0 * total * index))


def group_shares(assign: np.ndarray, counts: np.ndarray, n_schools: int) -> np.ndarray:
    """``(n_schools, K)`` share of each group among each school's students (NaN for no students)."""
    sjk = group_totals(assign, counts, n_schools)
    sj = sjk.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sj > 0, sjk / np.where(sj > 0, sj, 1), np.nan)


def max_tier_gap(assign: np.ndarray, counts: np.ndarray, n_schools: int) -> float:
    """Largest |P_jk - P_k| over schools with students and tiers."""
    shares = group_shares(assign, counts, n_schools)
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0:
        return 0.0
    p = c.sum(axis=0) / total
    gaps = np.abs(shares - p[None, :])
    gaps = gaps[~np.isnan(gaps)]
    return float(gaps.max()) if len(gaps) else 0.0


def versus_rest(group: np.ndarray, students: np.ndarray) -> np.ndarray:
    """Counts of a monitored group and of everyone else (clipped at 0), as two columns."""
    g = np.asarray(group, dtype=float)
    return np.column_stack([g, np.maximum(np.asarray(students, dtype=float) - g, 0.0)])


def tier_objective(district: Any, scenario: Any, assign: np.ndarray) -> float:
    """The balance term of the objective when ``balance = "tiers"`` (D_T), else 0."""
    if scenario.objective.balance != "tiers":
        return 0.0
    return multigroup_dissimilarity(assign, tier_counts(district), district.n_schools)


def ses_figures(district: Any, pos: np.ndarray) -> dict[str, Any]:
    """Summary figures of the tiers and monitored groups, today and for ``pos`` (when present).

    Keys: ``tier_dissimilarity_before``/``_after``, ``max_tier_gap_before``/``_after``,
    ``tier_shares`` (the district's P_k, tier 1 first), and ``report_dissimilarity_before``/
    ``_after`` (``{name: dissimilarity of the group against all other students}``).
    """
    out: dict[str, Any] = {}
    m = district.n_schools
    sq = district.status_quo
    sq_ok = bool((sq >= 0).all())
    counts = reported_tier_counts(district)
    if counts is not None:
        out["tier_dissimilarity_before"] = (
            multigroup_dissimilarity(sq, counts, m) if sq_ok else None)
        out["tier_dissimilarity_after"] = multigroup_dissimilarity(pos, counts, m)
        out["max_tier_gap_before"] = max_tier_gap(sq, counts, m) if sq_ok else None
        out["max_tier_gap_after"] = max_tier_gap(pos, counts, m)
        total = counts.sum()
        out["tier_shares"] = [float(x) for x in counts.sum(axis=0) / total] if total else []
    groups = report_groups(district)
    if groups:
        s = district.students
        out["report_dissimilarity_before"] = {
            name: multigroup_dissimilarity(sq, versus_rest(g, s), m) if sq_ok else None
            for name, g in groups.items()}
        out["report_dissimilarity_after"] = {
            name: multigroup_dissimilarity(pos, versus_rest(g, s), m) for name, g in groups.items()}
    return out


def ses_school_columns(district: Any, before: np.ndarray, after: np.ndarray) -> pd.DataFrame:
    """Extra columns of schools.csv: per tier and monitored group, students and share, both plans.

    Columns ``tier_<k>_before``, ``tier_<k>_after``, ``tier_<k>_share_before``, ``_after`` per tier,
    then ``report_<name>_before`` ... ``report_<name>_share_after`` per group; empty when the units
    carry neither.
    """
    m = district.n_schools
    cols: dict[str, Any] = {}
    counts = reported_tier_counts(district)
    if counts is not None:
        tb, ta = group_totals(before, counts, m), group_totals(after, counts, m)
        sb, sa = group_shares(before, counts, m), group_shares(after, counts, m)
        for k in range(counts.shape[1]):
            cols[f"tier_{k + 1}_before"] = tb[:, k].round().astype(np.int64)
            cols[f"tier_{k + 1}_after"] = ta[:, k].round().astype(np.int64)
            cols[f"tier_{k + 1}_share_before"] = sb[:, k]
            cols[f"tier_{k + 1}_share_after"] = sa[:, k]
    s = district.students
    for name, g in report_groups(district).items():
        pair = versus_rest(g, s)
        gb, ga = group_totals(before, pair, m)[:, 0], group_totals(after, pair, m)[:, 0]
        eb = np.bincount(before, weights=s, minlength=m)
        ea = np.bincount(after, weights=s, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[f"report_{name}_before"] = gb
            cols[f"report_{name}_after"] = ga
            cols[f"report_{name}_share_before"] = np.where(eb > 0, gb / np.where(eb > 0, eb, 1),
                                                           np.nan)
            cols[f"report_{name}_share_after"] = np.where(ea > 0, ga / np.where(ea > 0, ea, 1),
                                                          np.nan)
    return pd.DataFrame(cols)
