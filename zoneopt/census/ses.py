r"""Composite socioeconomic-status (SES) tiers from ACS 5-year tables, in the spirit of Chicago's.

Chicago Public Schools place every census block group in one of four tiers by a composite of
block-group measures; zoneopt computes the census part of that index (school performance, the sixth
Chicago factor, is not a census figure and is left out). The method, which :func:`describe_method`
prints and ``zoneopt units --ses-tiers K`` shows:

1. **Five measures per unit**, each oriented so that a higher value means higher SES:

   ============== ============================================================= ==================
   measure        definition (ACS 5-year table)                                 direction
   ============== ============================================================= ==================
   income         median family income, B19113_001                              higher is higher
   education      attainment score of adults 25+, B15003: each adult counts     higher is higher
                  0.2 (no high-school diploma, _002.._016), 0.4 (diploma or
                  GED, _017.._018), 0.6 (some college or associate's,
                  _019.._021), 0.8 (bachelor's, _022), 1.0 (graduate or
                  professional degree, _023.._025); the score is the mean
   single_parent  share of families with own children under 18 headed by a     lower is higher
                  single parent, B11003: (_010 + _016) / (_003 + _010 + _016);
                  or, without B11003, the share of own children living with a
                  single parent, B09002: _008 / _001
   owner          share of occupied housing units that are owner-occupied,      higher is higher
                  B25003: _002 / _001
   english        share speaking only English at home: households, C16002:      higher is higher
                  _002 / _001; or, without C16002, people 5+, B16004:
                  (_003 + _025 + _047) / _001
   ============== ============================================================= ==================

2. **Percentiles across the district's units** (unweighted, as Chicago ranks block groups): for a
   measure with values :math:`v_1..v_n` over the units that have it, unit :math:`i` gets
   :math:`100\,(\#\{v < v_i\} + \tfrac12 \#\{v = v_i\}) / n` (the mid-rank percentile; ties share
   one), computed on :math:`-v` for single_parent.
3. **Score** = the weighted mean of the unit's percentiles (weights default 1 each, configurable);
   a unit missing a measure (suppressed, or nobody in its universe) is scored on the others and
   flagged (``ses_measures`` < 5).
4. **Tiers with equal numbers of students** (Chicago's convention): units sorted by score; a unit
   whose students' cumulative midpoint falls in the k-th K-quantile of the district's students is
   in tier k (1 the lowest SES). Units of equal score are one group with one midpoint, so they
   share a tier. Tier sizes are as equal as whole units allow.
5. **Margins**: each measure's 90 % margin follows the Census Bureau's rules (:mod:`.acs`); its
   reliability is "high" (CV <= 12 %), "medium" (<= 40 %) or "low"; ``flag_ses_unreliable`` is set
   when any measure used is "low". The margin is carried to the score: a measure's margin in
   percentile points is half the spread between the unit's percentiles were its value
   :math:`v \pm` MOE (the other units' values unchanged), and the
   score's margin ``ses_score_moe`` is the root of the weighted sum of their squares over the sum of
   the weights. ``flag_ses_tier_uncertain`` is set when the score +/- that margin crosses a tier
   boundary (the midpoint between the scores of the last unit of a tier and the first of the next),
   i.e. when sampling error alone could put the unit in another tier.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError
from . import acs as acs_mod

#: The measures of the index in their documented order, with whether a higher value is higher SES.
MEASURES: dict[str, bool] = {
    "income": True,
    "education": True,
    "single_parent": False,
    "owner": True,
    "english": True,
}
DEFAULT_WEIGHTS: dict[str, float] = {name: 1.0 for name in MEASURES}

#: B15003 attainment levels and the score of each (CPS-style weighting of educational attainment).
EDUCATION_LEVELS: tuple[tuple[range, float], ...] = (
    (range(2, 17), 0.2),
    (range(17, 19), 0.4),
    (range(19, 22), 0.6),
    (range(22, 23), 0.8),
    (range(23, 26), 1.0),
)

_TABLES = {
    "income": "B19113",
    "education": "B15003",
    "single_parent": "B11003 or B09002",
    "owner": "B25003",
    "english": "C16002 or B16004",
}


def parse_weights(
    text: str | Mapping[str, float] | None, extra: Sequence[str] = ()
) -> dict[str, float]:
    """Weights of the measures from ``income=2,education=1,...`` (or a mapping); others stay 1.

    ``extra`` names the district's own measures (see :func:`ses_tiers`), which may be weighed too.

    Raises
    ------
    ZoneoptInputError
        For an unknown measure, a negative or non-numeric weight, or all weights 0.
    """
    weights = dict(DEFAULT_WEIGHTS) | {name: 1.0 for name in extra}
    if text is None or text == "":
        return weights
    items = text.items() if isinstance(text, Mapping) else (
        part.split("=", 1) if "=" in part else (part, "")
        for part in str(text).split(",") if part.strip()
    )
    for name, value in items:
        name = str(name).strip()
        if name not in weights:
            raise ZoneoptInputError(
                f"unknown SES measure '{name}' in the weights; use {', '.join(weights)}",
                column="--ses-weights",
            )
        try:
            w = float(value)
        except (TypeError, ValueError):
            raise ZoneoptInputError(
                f"weight of {name} is '{value}', not a number (write e.g. {name}=2)",
                column="--ses-weights",
            ) from None
        if not np.isfinite(w) or w < 0:
            raise ZoneoptInputError(f"weight of {name} must be a number >= 0, not {value}",
                                    column="--ses-weights")
        weights[name] = w
    if sum(weights.values()) <= 0:
        raise ZoneoptInputError("at least one SES weight must be positive", column="--ses-weights")
    return weights


def describe_method(
    k: int, weights: Mapping[str, float] | None = None, extra: Sequence[str] = ()
) -> str:
    """The method in plain words, as ``zoneopt units --ses-tiers K`` prints it."""
    w = parse_weights(weights, extra)
    lines = [
        f"SES tiers (K = {k}), a composite index in the spirit of Chicago's tiers:",
        "  measures per unit (higher = higher SES unless noted), weight in brackets:",
        f"    income        median family income (B19113) [{w['income']:g}]",
        "    education     attainment score of adults 25+ (B15003: 0.2 no diploma, 0.4 diploma/GED,"
        f" 0.6 some college/associate's, 0.8 bachelor's, 1.0 graduate) [{w['education']:g}]",
        "    single_parent share of families with children headed by a single parent (B11003;"
        f" or children with a single parent, B09002); lower = higher SES [{w['single_parent']:g}]",
        f"    owner         share of occupied housing owner-occupied (B25003) [{w['owner']:g}]",
        "    english       share speaking only English at home (households, C16002; or people 5+,"
        f" B16004) [{w['english']:g}]",
        *[f"    {name:<13} the district's own measure (no margin of error) [{w[name]:g}]"
          for name in extra],
        "  each measure is ranked across the district's units (mid-rank percentile 0-100);",
        "  score = weighted mean of the unit's percentiles (missing measures left out, flagged);",
        f"  units sorted by score are cut into {k} tiers holding equal numbers of students",
        "  (tier 1 = lowest SES); margins of error give ses_score_moe, flag_ses_unreliable",
        "  (a measure with CV > 40 %) and flag_ses_tier_uncertain (score +/- margin crosses a tier",
        "  boundary).",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- measures


def _est(table: pd.DataFrame, names: Sequence[str]) -> np.ndarray | None:
    cols = [f"{n}E" for n in names]
    if not all(c in table.columns for c in cols):
        return None
    return table[cols].to_numpy(dtype=float)


def _moe(table: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    cols = [f"{n}M" for n in names]
    if not all(c in table.columns for c in cols):
        return np.full((len(table), len(names)), np.nan)
    return table[cols].to_numpy(dtype=float)


def _vars(table_id: str, numbers: Sequence[int]) -> list[str]:
    return [f"{table_id}_{i:03d}" for i in numbers]


def _first_table(out: dict, key: str, options: list, missing: list, what: str) -> None:
    """The first of ``options`` (table name, share and margin or None) that the files hold goes
    into ``out`` as ``ses_<key>``, its margin and its table; none: ``what`` is missing."""
    for table, share in options:
        if share is not None:
            out[f"ses_{key}"], out[f"ses_{key}_moe"] = share
            out[f"ses_{key}_table"] = table
            return
    missing.append(what)


def _share(table, num_vars, den_vars, *, den_is_sum_of_num=False):
    """A proportion of sums, with its margin (sum rule, then the proportion rule)."""
    num = _est(table, num_vars)
    den = _est(table, den_vars)
    if num is None or den is None:
        return None
    num_m, den_m = _moe(table, num_vars), _moe(table, den_vars)
    n = num.sum(axis=1)
    d = den.sum(axis=1)
    n_moe = acs_mod.moe_sum(num, num_m)
    d_moe = acs_mod.moe_sum(den, den_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(d > 0, n / d, np.nan)
    moe = np.where(np.isnan(value), np.nan, acs_mod.moe_proportion(n, d, n_moe, d_moe))
    return value, moe


def ses_measures(table: pd.DataFrame) -> pd.DataFrame:
    """The five raw measures of the index and their 90 % margins, per GEOID of the joined tables.

    Parameters
    ----------
    table
        Joined ACS tables (:func:`zoneopt.census.read_acs`), both formats alike.

    Returns
    -------
    pandas.DataFrame
        Columns ``ses_<measure>`` and ``ses_<measure>_moe`` for income, education, single_parent,
        owner and english (NaN where missing or the universe is 0), and ``ses_single_parent_table``
        / ``ses_english_table`` naming the table used.

    Raises
    ------
    ZoneoptInputError
        When a measure's table is missing from every file given (the message names it).
    """
    out = pd.DataFrame(index=table.index)
    missing = []
    # income: a median, used as published (medians of areas cannot be combined).
    inc = _est(table, ["B19113_001"])
    if inc is None:
        missing.append("income (B19113)")
    else:
        out["ses_income"] = inc[:, 0]
        out["ses_income_moe"] = _moe(table, ["B19113_001"])[:, 0]
    # education: the mean attainment score, sum_v w_v c_v / total.
    total = _est(table, ["B15003_001"])
    levels = [v for rng, _ in EDUCATION_LEVELS for v in rng]
    counts = _est(table, _vars("B15003", levels))
    if total is None or counts is None:
        missing.append("education (B15003_001.._025)")
    else:
        w = np.array([score for rng, score in EDUCATION_LEVELS for _ in rng])
        moes = _moe(table, _vars("B15003", levels))
        num = (counts * w).sum(axis=1)
        num_moe = acs_mod.moe_sum(counts * w, moes * w)
        t = total[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(t > 0, num / t, np.nan)
        out["ses_education"] = value
        out["ses_education_moe"] = np.where(
            np.isnan(value), np.nan,
            acs_mod.moe_proportion(num, t, num_moe, _moe(table, ["B15003_001"])[:, 0]))
    # single parents: B11003 families, else B09002 children.
    b11003 = _share(table, _vars("B11003", [10, 16]), _vars("B11003", [3, 10, 16]))
    b09002 = _share(table, _vars("B09002", [8]), _vars("B09002", [1]))
    _first_table(out, "single_parent", [("B11003", b11003), ("B09002", b09002)], missing,
                 "single_parent (B11003 _003, _010, _016; or B09002 _001, _008)")
    owner = _share(table, _vars("B25003", [2]), _vars("B25003", [1]))
    if owner is None:
        missing.append("owner (B25003 _001, _002)")
    else:
        out["ses_owner"], out["ses_owner_moe"] = owner
    c16002 = _share(table, _vars("C16002", [2]), _vars("C16002", [1]))
    b16004 = _share(table, _vars("B16004", [3, 25, 47]), _vars("B16004", [1]))
    _first_table(out, "english", [("C16002", c16002), ("B16004", b16004)], missing,
                 "english (C16002 _001, _002; or B16004 _001, _003, _025, _047)")
    if missing:
        raise ZoneoptInputError(
            "the SES index needs ACS tables that the files given lack: " + "; ".join(missing)
            + ". Download them (5-year estimates, block groups) from data.census.gov or the "
            "Census API and pass each with --acs",
            column="--acs",
        )
    return out


# ------------------------------------------------------------------------------ percentiles


def midrank_percentile(values: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``100 (#{v < x} + #{v = x} / 2) / n`` over the non-missing ``values``, for each ``x`` of ``at``.

    ``at`` defaults to ``values`` (each unit's own percentile); NaN stays NaN.

    Examples
    --------
    >>> midrank_percentile(np.array([10.0, 20.0, 20.0, np.nan, 40.0])).tolist()
    [12.5, 50.0, 50.0, nan, 87.5]
    """
    v = np.asarray(values, dtype=float)
    x = v if at is None else np.asarray(at, dtype=float)
    known = np.sort(v[~np.isnan(v)])
    n = len(known)
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    if n == 0 or not ok.any():
        return out
    below = np.searchsorted(known, x[ok], side="left")
    upto = np.searchsorted(known, x[ok], side="right")
    out[ok] = 100.0 * (below + 0.5 * (upto - below)) / n
    return out


def _percentile_as_if(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Each unit's mid-rank percentile were its own value ``at[i]`` instead of ``values[i]``.

    :func:`midrank_percentile` at ``at[i]`` still counts the unit's own value; moving the unit to
    ``at[i]`` puts it half a place there instead: +50/n below its old value, -50/n above.
    """
    v = np.asarray(values, dtype=float)
    x = np.asarray(at, dtype=float)
    n = int((~np.isnan(v)).sum())
    if n == 0:
        return np.full(x.shape, np.nan)
    base = midrank_percentile(v, x)
    adjust = np.where(x < v, 50.0 / n, np.where(x > v, -50.0 / n, 0.0))
    return base + adjust


def equal_student_tiers(score: np.ndarray, students: np.ndarray, k: int) -> np.ndarray:
    """Tier 1..k per unit: cut the units, sorted by score, into k groups of equal students.

    A group of units of equal score has its students' cumulative midpoint ``c``; its tier is
    ``min(k, floor(k c / S) + 1)`` with ``S`` all students. Units without a score get 0.

    Examples
    --------
    Four units of 10 students, scores 1..4, two tiers: midpoints 5, 15, 25, 35 of 40 students.

    >>> equal_student_tiers(np.array([3.0, 1.0, 4.0, 2.0]), np.array([10, 10, 10, 10]), 2).tolist()
    [2, 1, 2, 1]
    """
    score = np.asarray(score, dtype=float)
    s = np.asarray(students, dtype=float)
    tiers = np.zeros(len(score), dtype=np.int64)
    ok = ~np.isnan(score)
    total = s[ok].sum()
    if not ok.any():
        return tiers
    # Scores are means of percentiles: equal ones may differ in the last bits (summation order).
    key = np.round(score[ok], 9)
    values = np.unique(key)
    group = np.searchsorted(values, key)
    per_group = np.bincount(group, weights=s[ok], minlength=len(values))
    before = np.concatenate([[0.0], np.cumsum(per_group)[:-1]])
    mid = before + per_group / 2.0
    if total > 0:
        t = np.minimum(k, np.floor(k * mid / total + 1e-12).astype(np.int64) + 1)
    else:
        t = np.minimum(k, np.floor(k * (np.arange(len(values)) + 0.5) / len(values)).astype(
            np.int64) + 1)
    tiers[ok] = t[group]
    return tiers


def ses_tiers(
    units: pd.DataFrame,
    acs: Sequence[str | os.PathLike] | str | os.PathLike | pd.DataFrame,
    k: int = 4,
    *,
    weights: Mapping[str, float] | str | None = None,
    extra: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Add the composite SES index and ``ses_tier`` (1..k) to a units frame (a copy).

    Parameters
    ----------
    units
        Units with ``unit_id`` (the census GEOIDs of the tables) and ``students``; e.g. from
        :func:`zoneopt.census.build_units` or a units file. Not modified.
    acs
        ACS table files (data.census.gov CSV or Census API JSON, mixed freely) or the frame of
        :func:`zoneopt.census.read_acs`; they must hold B19113, B15003, B11003 or B09002, B25003
        and C16002 or B16004 for these units.
    k
        Number of tiers (Chicago uses 4).
    weights
        Weight of each measure in the score (``{"income": 2}`` or ``"income=2,owner=0.5"``);
        unnamed measures weigh 1.
    extra
        The district's own measures, ``name -> values`` indexed by ``unit_id`` with a higher value
        meaning higher SES (negate one that runs the other way), e.g. Chicago's sixth factor, the
        school performance of the area; ranked and weighed like the census measures, with no
        margin of error. Columns ``ses_<name>`` and ``ses_<name>_pct``.

    Returns
    -------
    pandas.DataFrame (a GeoDataFrame when ``units`` is one)
        ``units`` with, per measure, ``ses_<m>``, ``ses_<m>_moe``, ``ses_<m>_pct`` (percentile),
        ``ses_<m>_reliability``; then ``ses_score``, ``ses_score_moe``, ``ses_measures`` (how many
        measures the score used), ``ses_tier`` (nullable integer: empty only for a unit with no
        students and no census figures), ``flag_ses_unreliable`` and ``flag_ses_tier_uncertain``.
        ``attrs["ses_method"]`` holds :func:`describe_method`'s text.

    Raises
    ------
    ZoneoptInputError
        A table is missing, k is not an integer >= 2, or a unit with students has no measure at all.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ZoneoptInputError(f"the number of SES tiers must be an integer >= 2, not {k!r}",
                                column="--ses-tiers")
    k = int(k)
    extra = dict(extra or {})
    clash = [name for name in extra if name in MEASURES]
    if clash:
        raise ZoneoptInputError(f"the district's own SES measure '{clash[0]}' has the name of a "
                                "census measure; name it otherwise", column=clash[0])
    w = parse_weights(weights, list(extra))
    for col in ("unit_id", "students"):
        if col not in units.columns:
            raise ZoneoptInputError(f"the units lack the column '{col}' the SES tiers need",
                                    column=col)
    table = acs if isinstance(acs, pd.DataFrame) else acs_mod.read_acs(acs)
    measures = ses_measures(table)
    ids = pd.Index(units["unit_id"].astype(str).to_numpy(dtype=object))
    found = ids.isin(measures.index)
    if not found.any():
        raise ZoneoptInputError(
            f"no unit of the units file is in the SES tables (e.g. unit {ids[0]}); the tables "
            "cover other places or another geography: download them for these units",
            column="unit_id",
        )
    m = measures.reindex(ids)
    students = pd.to_numeric(units["students"], errors="coerce").fillna(0).to_numpy(dtype=float)

    out = units.copy()
    pct_cols, moe_pts, used = [], [], []
    series = [(name, higher, m[f"ses_{name}"].to_numpy(dtype=float),
               m[f"ses_{name}_moe"].to_numpy(dtype=float)) for name, higher in MEASURES.items()]
    for name, values in extra.items():
        v = pd.to_numeric(pd.Series(values), errors="coerce")
        v.index = v.index.astype(str)
        series.append((name, True, v.reindex(ids).to_numpy(dtype=float), np.full(len(ids), np.nan)))
    for name, higher, v, mo in series:
        sign = 1.0 if higher else -1.0
        pct = midrank_percentile(sign * v)
        # Margin in percentile points: half the spread between the unit's percentiles were its
        # value v - MOE or v + MOE (the other units' values unchanged).
        lo = _percentile_as_if(sign * v, sign * (v - mo))
        hi = _percentile_as_if(sign * v, sign * (v + mo))
        spread = np.abs(hi - lo) / 2.0
        out[f"ses_{name}"] = v
        out[f"ses_{name}_moe"] = mo
        out[f"ses_{name}_pct"] = pct
        cv = acs_mod.coefficient_of_variation(v, mo)
        rel = acs_mod.reliability(cv, v, mo)
        rel[np.isnan(v)] = "missing"
        if name in MEASURES:
            out[f"ses_{name}_reliability"] = rel
        else:
            out = out.drop(columns=[f"ses_{name}_moe"])
        pct_cols.append(pct)
        moe_pts.append(spread)
        used.append(~np.isnan(pct))
    for source in ("ses_single_parent_table", "ses_english_table"):
        if source in m.columns:
            out[source] = m[source].to_numpy(dtype=object)
    pcts = np.column_stack(pct_cols)
    has = np.column_stack(used)
    wv = np.array([w[name] for name, *_ in series])
    weight = has * wv[None, :]
    wsum = weight.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(wsum > 0, np.nansum(pcts * weight, axis=1) / np.where(wsum > 0, wsum, 1),
                         np.nan)
        # A measure without a margin adds no uncertainty it could be blamed for; NaN -> 0.
        moe_sq = np.nansum((np.column_stack(moe_pts) * weight) ** 2, axis=1)
        score_moe = np.where(wsum > 0, np.sqrt(moe_sq) / np.where(wsum > 0, wsum, 1), np.nan)
    no_score = np.isnan(score) & (students > 0)
    if no_score.any():
        bad = ids[np.flatnonzero(no_score)[0]]
        raise ZoneoptInputError(
            f"has {int(students[np.flatnonzero(no_score)[0]])} students but none of the SES "
            "measures (all suppressed or missing from the tables); give the tables for this unit "
            "or set its ses_tier by hand",
            row=bad, column="ses_tier",
        )
    tiers = equal_student_tiers(score, students, k)
    out["ses_score"] = score
    out["ses_score_moe"] = score_moe
    out["ses_measures"] = has.sum(axis=1).astype(np.int64)
    out["ses_tier"] = pd.array(np.where(tiers > 0, tiers, 0), dtype="Int64")
    out.loc[tiers == 0, "ses_tier"] = pd.NA
    rel_cols = [f"ses_{name}_reliability" for name in MEASURES]
    out["flag_ses_unreliable"] = (out[rel_cols] == "low").any(axis=1).to_numpy()
    out["flag_ses_tier_uncertain"] = _crosses_boundary(score, score_moe, tiers)
    out.attrs["ses_method"] = describe_method(k, w, list(extra))
    return out


def _crosses_boundary(score: np.ndarray, moe: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    """True where score +/- moe contains a boundary between consecutive tiers' scores."""
    ok = tiers > 0
    bounds = []
    for t in range(1, int(tiers.max(initial=0))):
        below, above = score[ok & (tiers == t)], score[ok & (tiers == t + 1)]
        if len(below) and len(above):
            bounds.append((below.max() + above.min()) / 2.0)
    out = np.zeros(len(score), dtype=bool)
    m = np.nan_to_num(moe, nan=0.0)
    for b in bounds:
        out |= ok & (score - m <= b) & (score + m >= b) & (m > 0)
    return out


def tier_summary(units: pd.DataFrame) -> str:
    """One line per tier: units, students, score range and flagged units (for the CLI)."""
    lines = ["tier  units  students  score range    uncertain  unreliable"]
    tiers = units["ses_tier"]
    for t in sorted(int(x) for x in tiers.dropna().unique()):
        sel = (tiers == t).fillna(False).to_numpy(dtype=bool)
        part = units[sel]
        lines.append(
            f"{t:>4}  {len(part):>5}  {int(part['students'].sum()):>8}  "
            f"{part['ses_score'].min():5.1f}-{part['ses_score'].max():5.1f}    "
            f"{int(part['flag_ses_tier_uncertain'].sum()):>9}  "
            f"{int(part['flag_ses_unreliable'].sum()):>10}"
        )
    missing = int(tiers.isna().sum())
    if missing:
        lines.append(f"({missing} unit(s) with no students and no census figures have no tier)")
    return "\n".join(lines)
