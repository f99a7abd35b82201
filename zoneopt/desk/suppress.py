"""Small-count suppression for public-facing outputs (``[report] suppress_below``).

A count of students below N is shown as ``"<N"``; a share computed from such a count is hidden,
because a share and its denominator give the count back. The rule, for a share ``part / whole``:
it is hidden when ``part``, ``whole`` or ``whole - part`` is below N (a 98% share of 300 students
tells that 6 are not low-income as surely as the count would).

map.html, report.html, report.pdf and public.html use these functions; the files for the district's
own use (assignment.csv, schools.csv, summary.json) keep exact counts.

Complementary suppression: where a column has exactly one small count, the next smallest count of
that column is withheld too (shown as "withheld"), so that a total cannot give the small one back.
Only within one column of the per-school table; cross-table inferences (a year table against the
school table, say) are not searched for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "HIDDEN",
    "SECONDARY",
    "is_small",
    "count_text",
    "share_hidden",
    "mask_schools_table",
    "suppression_note",
    "unit_display",
    "COUNT_COLUMNS",
]

#: What a hidden share reads as.
HIDDEN = "hidden"
#: What a count withheld by complementary suppression reads as (it is not below N).
SECONDARY = "withheld"

#: Columns of schools.csv that are counts of students.
COUNT_COLUMNS = (
    "enrollment_before", "enrollment_after", "low_income_before", "low_income_after",
    "students_gained", "students_lost",
)


def _value(x: Any) -> float | None:
    if x is None or isinstance(x, bool | str):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def is_small(count: Any, below: int) -> bool:
    """True when ``count`` is a number of students to suppress (``0 <= count < below``).

    Parameters
    ----------
    count
        A count of students (int or float; None and NaN are not counts and are never small).
    below
        ``[report] suppress_below``; 0 turns suppression off.
    """
    v = _value(count)
    return bool(below) and v is not None and v < below


def count_text(count: Any, below: int, *, missing: str = "–") -> str:
    """A count as shown to the public: ``"<N"`` when small, else with thousands separators.

    Examples
    --------
    >>> count_text(7, 10), count_text(1234, 10), count_text(7, 0)
    ('<10', '1,234', '7')
    """
    v = _value(count)
    if v is None:
        return missing
    if is_small(v, below):
        return f"<{int(below)}"
    return f"{round(v):,}"


def share_hidden(part: Any, whole: Any, below: int) -> bool:
    """True when the share ``part / whole`` would reveal a count below ``below``.

    Examples
    --------
    >>> share_hidden(5, 300, 10), share_hidden(295, 300, 10), share_hidden(100, 300, 10)
    (True, True, False)
    """
    if not below:
        return False
    p, w = _value(part), _value(whole)
    if w is None:
        return False
    if p is None:
        return is_small(w, below)
    return is_small(p, below) or is_small(w, below) or is_small(w - p, below)


def mask_schools_table(table: pd.DataFrame, below: int, *, complementary: bool = True) -> pd.DataFrame:
    """schools.csv made fit for the public: small counts as ``"<N"``, shares from them hidden.

    Parameters
    ----------
    table
        Per-school figures with the columns of schools.csv (any subset of them).
    below
        ``[report] suppress_below``; 0 returns an unchanged copy.
    complementary
        Where exactly one school's count in a column is small, also withhold the next smallest
        count of that column (shown as :data:`SECONDARY`): the district total minus the others
        would give the small one back (the report prints totals; students moved is the total of
        the gained and lost columns).

    Returns
    -------
    pandas.DataFrame
        A copy; suppressed cells hold the strings ``"<N"``, :data:`SECONDARY` or :data:`HIDDEN`
        (object columns), every other cell its exact value. Utilization and mean distance of a
        school whose enrollment is withheld are hidden too (both are derived from it); so is every
        share ``X_share_*`` (low-income, SES tiers, report groups) whose count ``X_*``, the rest of
        the school or the enrollment is withheld.
    """
    out = table.copy()
    if not below:
        return out
    # Counts: the contract's, and any X_before/X_after that a share X_share_* is computed from
    # (SES tiers, report_<group> columns).
    shares = [c for c in table.columns if str(c).endswith(("_share_before", "_share_after"))]
    derived = [c.replace("_share_", "_") for c in shares]
    counts = list(dict.fromkeys([c for c in (*COUNT_COLUMNS, *derived) if c in table.columns]))
    withheld: dict[str, np.ndarray] = {}
    for col in counts:
        values = table[col].to_numpy(dtype=object)
        small = np.array([is_small(v, below) for v in values], dtype=bool)
        second = np.zeros(len(values), dtype=bool)
        if complementary and small.sum() == 1 and len(values) > 2:
            others = [(float(v), k) for k, v in enumerate(values)
                      if not small[k] and _value(v) is not None]
            if others:
                second[min(others)[1]] = True
        withheld[col] = small | second
        out[col] = [f"<{int(below)}" if a else (SECONDARY if b else v)
                    for a, b, v in zip(small, second, values, strict=True)]
    none = np.zeros(len(table), dtype=bool)
    for when in ("before", "after"):
        enr = table.get(f"enrollment_{when}")
        if enr is None:
            continue
        enr_out = withheld.get(f"enrollment_{when}", none)
        for col in (f"utilization_{when}", f"mean_distance_km_{when}"):
            if col in out.columns:
                out[col] = [HIDDEN if w else v
                            for w, v in zip(enr_out, out[col].astype(object), strict=True)]
        for col in (c for c in shares if c.endswith(f"_share_{when}")):
            part_col = col.replace("_share_", "_")
            parts = table[part_col] if part_col in table.columns else pd.Series(
                [None] * len(table), index=table.index)
            part_out = withheld.get(part_col, none)
            out[col] = [
                HIDDEN if (share_hidden(p, e, below) or we or wp) else v
                for p, e, we, wp, v in zip(parts, enr, enr_out, part_out,
                                           out[col].astype(object), strict=True)
            ]
    return out


def unit_display(students: np.ndarray, low_income: np.ndarray, below: int) -> tuple[list, list]:
    """Per unit, the students as shown (int or ``"<N"``) and whether its low-income share is hidden.

    Parameters
    ----------
    students, low_income
        Counts per unit.
    below
        ``[report] suppress_below``.

    Returns
    -------
    shown : list
        ``int`` counts, or ``"<N"`` strings for small ones.
    hidden : list of bool
        True where the unit's low-income share must not be shown (nor its colour class).
    """
    shown = [f"<{int(below)}" if is_small(s, below) else int(s) for s in students]
    hidden = [share_hidden(lo, s, below) for lo, s in zip(low_income, students, strict=True)]
    return shown, hidden


def suppression_note(below: int) -> str:
    """The sentence that tells readers what was suppressed (empty when nothing is)."""
    if not below:
        return ""
    return (
        f"To protect students' privacy, counts below {int(below)} are shown as \"<{int(below)}\", "
        "and shares computed from them are hidden; where a column has a single such count, the "
        "next smallest is withheld too, so that totals cannot reveal it."
    )
