"""ACS 5-year tables in the two formats planners have, and the Census Bureau's margin-of-error rules.

Formats read (auto-detected, see :func:`read_acs_table`):

- the CSV downloaded from data.census.gov: a ``GEO_ID`` column such as ``1500000US060670001011``,
  estimate and margin columns (``C17002_001E``, ``C17002_001M``), a second header row of labels
  ("Geography", "Estimate!!Total:") and, in some downloads, annotation columns (``..._001EA``);
- the Census API JSON: an array of arrays of strings whose first row is the header, with the
  geography in ``state``, ``county``, ``tract`` and ``block group`` columns (or ``GEO_ID``).

Missing values are never zero. The API's special values (``-666666666`` "could not be computed",
``-999999999``, ``-888888888``, ``-222222222``, ``-333333333``) and data.census.gov's annotations
(``-``, ``N``, ``(X)``, ``**``, ``***``, ``null``) become NaN. A margin of ``*****`` or
``-555555555`` means the estimate is controlled (exact): its margin is 0. Top- and bottom-coded
medians (``250,000+``, ``2,500-``) become 250001 and 2499, the values the API gives for them.

Arithmetic follows the Census Bureau's "Understanding and Using American Community Survey Data:
What All Data Users Need to Know" (2020), chapter 8: margins are 90 % margins (SE = MOE / 1.645);
the margin of a sum is the root of the sum of squared margins, counting only the largest margin
among estimates that are zero; a proportion's margin is ``sqrt(M_num^2 - p^2 M_den^2) / den``,
falling back to the ratio formula ``sqrt(M_num^2 + p^2 M_den^2) / den`` when the term under the
root is negative; a constant times an estimate has that constant times its margin.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError

#: The Census Bureau's margins are 90 % margins: standard error = MOE / 1.645.
Z90 = 1.645

#: Coefficient-of-variation cut-offs of the reliability categories (the convention of ESRI's and
#: several state data centres' ACS guidance): CV <= 12 % high, <= 40 % medium, above low.
CV_HIGH = 0.12
CV_MEDIUM = 0.40

#: The Census API's special values ("jam values"); all mean "no usable number" except -555555555,
#: which on a margin means the estimate is controlled, so its margin is 0.
API_SPECIAL_VALUES = frozenset(
    {-666666666, -999999999, -888888888, -222222222, -333333333, -555555555}
)
_CONTROLLED = -555555555

_VARIABLE = re.compile(r"^([A-Z]\d{5}[A-Z]{0,3})_(\d{3})([EM])$")
_ANNOTATION = re.compile(r"^([A-Z]\d{5}[A-Z]{0,3})_(\d{3})([EM])A$")
_GEO_ID = re.compile(r"^\d{7}US(\d*)$")
# Order of the geography columns of the Census API; their concatenation is the GEOID.
_API_GEOGRAPHY = ("state", "county", "tract", "block group", "block")

#: C17002 variables: _001 the poverty universe, _002.._006 the people under 1.85 x poverty.
C17002_TOTAL = "C17002_001"
C17002_UNDER_185 = tuple(f"C17002_{i:03d}" for i in range(2, 7))
#: B01001 ages 5-9 (male, female) counted whole, ages 10-14 (male, female) one fifth.
B01001_AGE_5_9 = ("B01001_004", "B01001_028")
B01001_AGE_10_14 = ("B01001_005", "B01001_029")
B01001_TOTAL = "B01001_001"
B19013_MEDIAN = "B19013_001"


# ------------------------------------------------------------------------------------ reading


def read_acs_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read one ACS table file (data.census.gov CSV or Census API JSON, auto-detected).

    Parameters
    ----------
    path
        The file. JSON is recognised by its first character (``[`` or ``{``); anything else is
        read as CSV.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``GEOID`` (text, leading zeros kept), one float column per estimate or margin
        (``C17002_001E``, ``C17002_001M``, ...), NaN where the value is missing or suppressed.

    Examples
    --------
    >>> t = read_acs_table("data/samples/ACSDT5Y2022.C17002-Data_sample.csv")
    >>> t.loc["060670001011", ["C17002_001E", "C17002_001M"]].tolist()
    [1210.0, 164.0]
    >>> t = read_acs_table("data/samples/acs2022_B01001_api_sample.json")
    >>> t.loc["060670001012", ["B01001_004E", "B01001_005E"]].tolist()  # 48 and -666666666
    [48.0, nan]
    """
    path = Path(path)
    if not path.is_file():
        raise ZoneoptInputError("the ACS table file does not exist; check the path", file=path)
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise ZoneoptInputError("the ACS table file is empty", file=path)
    if text.lstrip()[:1] in ("[", "{"):
        raw, first_line = _api_json_frame(text, path), 2
    else:
        raw, first_line = _csv_frame(text, path)
    return _tidy(raw, path, first_line)


def parse_acs_json(text: str, source: str = "Census API response") -> pd.DataFrame:
    """Parse a Census API JSON response already in memory (same result as :func:`read_acs_table`)."""
    return _tidy(_api_json_frame(text, source), source, 2)


def read_acs(paths: Sequence[str | os.PathLike] | str | os.PathLike) -> pd.DataFrame:
    """Read several ACS tables and join them on GEOID.

    Parameters
    ----------
    paths
        One or more files, each in either format; formats may be mixed.

    Returns
    -------
    pandas.DataFrame
        The union of the tables' rows and columns, indexed by GEOID. A variable present in two files
        must agree where both give it.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if len(paths) == 0:
        raise ZoneoptInputError(
            "no ACS table given; pass at least C17002 (and B01001 for --students-total)"
        )
    merged: pd.DataFrame | None = None
    origin: dict[str, str] = {}
    for path in paths:
        table = read_acs_table(path)
        if merged is None:
            merged = table
        else:
            common = [c for c in table.columns if c in merged.columns]
            if common:
                both = merged.index.intersection(table.index)
                a = merged.loc[both, common].to_numpy(dtype=float)
                b = table.loc[both, common].to_numpy(dtype=float)
                clash = ~((a == b) | (np.isnan(a) & np.isnan(b)))
                if clash.any():
                    row, col = (int(x[0]) for x in np.nonzero(clash))
                    raise ZoneoptInputError(
                        f"{common[col]} of GEOID {both[row]} is {b[row, col]} here but "
                        f"{a[row, col]} in {origin[common[col]]}; give each table once, from the "
                        "same ACS release",
                        file=path,
                        row=both[row],
                        column=common[col],
                    )
            merged = merged.combine_first(table)
        for col in table.columns:
            origin.setdefault(col, str(path))
    assert merged is not None
    merged.index.name = "GEOID"
    return merged


def _api_json_frame(text: str, source: object) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZoneoptInputError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}); save the Census API response as is",
            file=source,
        ) from None
    if (
        not isinstance(data, list)
        or len(data) < 2
        or not all(isinstance(r, list) for r in data)
    ):
        raise ZoneoptInputError(
            "a Census API table is a JSON array of arrays: a header row then one row per area "
            "(this one is not, or has no data rows)",
            file=source,
        )
    header = [str(h) for h in data[0]]
    for i, row in enumerate(data[1:], start=2):
        if len(row) != len(header):
            raise ZoneoptInputError(
                f"has {len(row)} values but the header has {len(header)}", file=source, row=i
            )
    return pd.DataFrame(data[1:], columns=header, dtype=object)


def _csv_frame(text: str, path: Path) -> tuple[pd.DataFrame, int]:
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file for the user
        raise ZoneoptInputError(
            f"could not read the ACS table as CSV ({type(exc).__name__}: {exc}); give the CSV "
            "downloaded from data.census.gov or the Census API's JSON",
            file=path,
        ) from None
    raw = raw.loc[:, [not str(c).startswith("Unnamed:") for c in raw.columns]]
    geo = _find_column(raw, ("GEO_ID", "GEOID", "ucgid"))
    first_line = 2
    # data.census.gov puts a row of labels under the codes ("Geography", "Estimate!!Total:").
    if geo is not None and len(raw) and not _looks_like_geoid(raw[geo].iloc[0]):
        raw = raw.iloc[1:].reset_index(drop=True)
        first_line = 3
    return raw, first_line


def _find_column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _looks_like_geoid(value: object) -> bool:
    text = str(value).strip()
    return bool(_GEO_ID.match(text) or (text.isdigit() and len(text) >= 2))


def _geoids(raw: pd.DataFrame, source: object, first_line: int) -> pd.Series:
    geo = _find_column(raw, ("GEO_ID", "GEOID", "ucgid"))
    if geo is not None:
        out = []
        for i, value in enumerate(raw[geo]):
            text = "" if value is None else str(value).strip()
            match = _GEO_ID.match(text)
            if match:
                text = match.group(1)
            if not text.isdigit():
                raise ZoneoptInputError(
                    f"'{value}' is not a census geography id (expected e.g. 1500000US060670001011 "
                    "or 060670001011)",
                    file=source,
                    row=f"line {i + first_line}",
                    column=geo,
                )
            out.append(text)
        return pd.Series(out, index=raw.index, dtype=object)
    parts = [_find_column(raw, (name,)) for name in _API_GEOGRAPHY]
    present = [p for p in parts if p is not None]
    if not present or parts[0] is None:
        raise ZoneoptInputError(
            "no geography column: expected GEO_ID (data.census.gov) or state, county, tract and "
            "block group (Census API)",
            file=source,
        )
    widths = {"state": 2, "county": 3, "tract": 6, "block group": 1, "block": 4}
    out = pd.Series("", index=raw.index, dtype=object)
    for name in present:
        width = widths[str(name).strip().lower()]
        values = raw[name].astype(str).str.strip()
        bad = ~values.str.fullmatch(r"\d+") | (values.str.len() > width)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ZoneoptInputError(
                f"'{raw[name].iloc[i]}' is not a {width}-digit {name} code",
                file=source,
                row=f"line {i + first_line}",
                column=str(name),
            )
        # Codes saved through a spreadsheet lose their leading zeros; the widths are fixed.
        out = out + values.str.zfill(width)
    return out


def parse_acs_value(value: object, *, margin: bool = False) -> float:
    """One ACS cell as a number: NaN when missing or suppressed, never 0 (see the module notes).

    Parameters
    ----------
    value
        The cell as read (text, number or None).
    margin
        True for a margin-of-error cell, where "controlled" codes mean a margin of 0.

    Returns
    -------
    float
    """
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().replace(",", "")
        for prefix in ("+/-", "±"):
            if text.startswith(prefix):
                text = text[len(prefix) :].strip()
        if text == "*****":
            return 0.0 if margin else math.nan
        adjust = 0.0
        if len(text) > 1 and text.endswith("+") and text[:-1].replace(".", "", 1).isdigit():
            text, adjust = text[:-1], 1.0
        elif len(text) > 1 and text.endswith("-") and text[:-1].replace(".", "", 1).isdigit():
            text, adjust = text[:-1], -1.0
        try:
            number = float(text) + adjust
        except ValueError:
            return math.nan
    if not math.isfinite(number):
        return math.nan
    if number in API_SPECIAL_VALUES:
        return 0.0 if (margin and number == _CONTROLLED) else math.nan
    return number


def _parse_column(values: pd.Series, margin: bool) -> np.ndarray:
    """:func:`parse_acs_value` over a column; plain numbers (most cells) take a vectorised path."""
    numbers = np.array(pd.to_numeric(values, errors="coerce"), dtype=float)  # a writable copy
    special = np.isin(numbers, list(API_SPECIAL_VALUES))
    numbers[special] = np.where(margin & (numbers[special] == _CONTROLLED), 0.0, np.nan)
    other = np.isnan(numbers) & ~special & values.notna().to_numpy()
    if other.any():
        numbers[other] = [parse_acs_value(v, margin=margin) for v in values[other]]
    return numbers


def _tidy(raw: pd.DataFrame, source: object, first_line: int) -> pd.DataFrame:
    if len(raw) == 0:
        raise ZoneoptInputError("the ACS table has no data rows", file=source)
    geoid = _geoids(raw, source, first_line)
    columns = {str(c).strip().upper(): c for c in raw.columns}
    variables = sorted(c for c in columns if _VARIABLE.match(c))
    if not variables:
        raise ZoneoptInputError(
            "no ACS estimate columns found (expected names such as C17002_001E and C17002_001M)",
            file=source,
        )
    values = {}
    for name in variables:
        margin = name.endswith("M")
        parsed = _parse_column(raw[columns[name]], margin)
        note = columns.get(name + "A")
        if margin and note is not None:
            controlled = raw[note].astype(str).str.strip().isin(["*****", str(_CONTROLLED)])
            parsed = np.where(np.isnan(parsed) & controlled.to_numpy(), 0.0, parsed)
        values[name] = parsed
    table = pd.DataFrame(values, index=pd.Index(geoid.to_numpy(dtype=object), name="GEOID"))
    dup = table.index.duplicated(keep=False)
    if dup.any():
        first = table.index[dup][0]
        rows = table.loc[[first]]
        if not rows.drop_duplicates().shape[0] == 1:
            raise ZoneoptInputError(
                f"GEOID {first} appears in {len(rows)} rows with different values; keep one",
                file=source,
                row=first,
            )
        table = table[~table.index.duplicated(keep="first")]
    return table


# ------------------------------------------------------------------------------ MOE arithmetic


def moe_sum(estimates: np.ndarray, moes: np.ndarray) -> np.ndarray:
    """Margin of a sum of estimates, by the Census Bureau's rule.

    The root of the sum of squared margins, where among the terms whose estimate is 0 only the
    largest margin is counted (many zero cells would otherwise inflate the margin).

    Parameters
    ----------
    estimates, moes
        Arrays of shape (n_rows, n_terms).

    Returns
    -------
    numpy.ndarray
        Shape (n_rows,); NaN where any margin of a counted term is missing.

    Examples
    --------
    >>> moe_sum(np.array([[10.0, 0.0, 0.0]]), np.array([[3.0, 4.0, 12.0]]))
    array([12.36931688])
    """
    est = np.atleast_2d(np.asarray(estimates, dtype=float))
    moe = np.atleast_2d(np.asarray(moes, dtype=float))
    zero = est == 0
    nonzero_sq = np.where(zero, 0.0, moe**2).sum(axis=1)
    zero_moe = np.where(zero, moe, -np.inf)
    largest_zero = np.max(zero_moe, axis=1)
    with np.errstate(invalid="ignore"):
        total = nonzero_sq + np.where(np.isfinite(largest_zero), largest_zero, 0.0) ** 2
    # A NaN margin among zero estimates only matters if it could be the largest: be conservative.
    any_nan = np.isnan(moe).any(axis=1)
    return np.where(any_nan, np.nan, np.sqrt(total))


def moe_proportion(
    numerator: np.ndarray, denominator: np.ndarray, moe_num: np.ndarray, moe_den: np.ndarray
) -> np.ndarray:
    """Margin of a proportion p = numerator / denominator (numerator a subset of the denominator).

    ``sqrt(M_num^2 - p^2 M_den^2) / den``; where the term under the root is negative the Census
    Bureau says to use the ratio formula ``sqrt(M_num^2 + p^2 M_den^2) / den`` instead.

    Examples
    --------
    >>> float(moe_proportion(np.array([200.0]), np.array([1000.0]),
    ...                      np.array([50.0]), np.array([100.0]))[0])
    0.0458257569495584
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    mn = np.asarray(moe_num, dtype=float)
    md = np.asarray(moe_den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = num / den
        under = mn**2 - p**2 * md**2
        under = np.where(under < 0, mn**2 + p**2 * md**2, under)
        out = np.sqrt(under) / den
    return np.where(den > 0, out, np.nan)


def coefficient_of_variation(estimate: np.ndarray, moe: np.ndarray) -> np.ndarray:
    """CV = (MOE / 1.645) / estimate; NaN where the estimate is 0 or either value is missing."""
    est = np.asarray(estimate, dtype=float)
    m = np.asarray(moe, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = (m / Z90) / est
    return np.where(est > 0, cv, np.nan)


def reliability(cv: np.ndarray, estimate: np.ndarray, moe: np.ndarray) -> np.ndarray:
    """Reliability category per value: "high" (CV <= 12 %), "medium" (<= 40 %), "low", "unknown".

    A zero estimate with a positive margin is "low" (its CV is unbounded); with a zero margin it is
    "high" (a controlled, exact zero). "unknown" means the margin is missing.
    """
    cv = np.asarray(cv, dtype=float)
    est = np.asarray(estimate, dtype=float)
    m = np.asarray(moe, dtype=float)
    out = np.full(cv.shape, "unknown", dtype=object)
    out[cv <= CV_HIGH] = "high"
    out[(cv > CV_HIGH) & (cv <= CV_MEDIUM)] = "medium"
    out[cv > CV_MEDIUM] = "low"
    zero = (est == 0) & ~np.isnan(m)
    out[zero & (m > 0)] = "low"
    out[zero & (m == 0)] = "high"
    return out


# -------------------------------------------------------------------------------- the measures


def _columns(table: pd.DataFrame, stems: Sequence[str], suffix: str) -> np.ndarray | None:
    names = [f"{s}{suffix}" for s in stems]
    if not all(n in table.columns for n in names):
        return None
    return table[names].to_numpy(dtype=float)


def _require(table: pd.DataFrame, stems: Sequence[str], what: str, table_id: str) -> np.ndarray:
    est = _columns(table, stems, "E")
    if est is None:
        missing = [f"{s}E" for s in stems if f"{s}E" not in table.columns]
        raise ZoneoptInputError(
            f"{what} needs ACS table {table_id}, but the tables given lack "
            f"{', '.join(missing)}; download {table_id} (5-year estimates, block groups) from "
            "data.census.gov or the Census API and pass it with --acs",
            column=missing[0],
        )
    return est


def has_table(table: pd.DataFrame, table_id: str) -> bool:
    """True when the joined tables hold any estimate of ``table_id`` (e.g. "C17002")."""
    return any(str(c).startswith(table_id + "_") and str(c).endswith("E") for c in table.columns)


def low_income_measures(table: pd.DataFrame) -> pd.DataFrame:
    """Low-income share from C17002: people under 1.85 x poverty over the poverty universe.

    Parameters
    ----------
    table
        Joined ACS tables (:func:`read_acs`) holding C17002_001E..C17002_006E (margins optional).

    Returns
    -------
    pandas.DataFrame
        Per GEOID: ``low_income_count`` = sum of C17002_002..006 and its margin (sum rule),
        ``poverty_universe`` = C17002_001 and its margin, ``low_income_share`` and its margin
        (proportion rule) and CV. NaN where an estimate is missing or the universe is 0.

    Examples
    --------
    A block group with C17002_001E = 1000 (MOE 100) and _002.._006 = 50, 60, 40, 30, 20 (MOEs 20, 25,
    15, 10, 12): count 200, count MOE sqrt(400+625+225+100+144) = 38.65, share 0.2, share MOE
    sqrt(38.65^2 - 0.2^2 x 100^2) / 1000 = 0.03308.

    >>> t = pd.DataFrame(
    ...     [[1000, 100, 50, 20, 60, 25, 40, 15, 30, 10, 20, 12]],
    ...     index=["060670001011"],
    ...     columns=[f"C17002_{i:03d}{k}" for i in range(1, 7) for k in "EM"],
    ... )
    >>> m = low_income_measures(t).iloc[0]
    >>> [round(float(m[c]), 5) for c in ("low_income_count_moe", "low_income_share",
    ...                                   "low_income_share_moe")]
    [38.6523, 0.2, 0.03308]
    """
    est = _require(table, C17002_UNDER_185 + (C17002_TOTAL,), "the low-income share", "C17002")
    parts, total = est[:, :5], est[:, 5]
    moe = _columns(table, C17002_UNDER_185 + (C17002_TOTAL,), "M")
    if moe is None:
        moe = np.full(est.shape, np.nan)
    count = parts.sum(axis=1)  # NaN if any part is missing: a partial sum would understate it
    count_moe = moe_sum(parts, moe[:, :5])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, count / total, np.nan)
    share_moe = moe_proportion(count, total, count_moe, moe[:, 5])
    share_moe = np.where(np.isnan(share), np.nan, share_moe)
    return pd.DataFrame(
        {
            "low_income_count": count,
            "low_income_count_moe": count_moe,
            "poverty_universe": total,
            "poverty_universe_moe": moe[:, 5],
            "low_income_share": share,
            "low_income_share_moe": share_moe,
            "low_income_share_cv": coefficient_of_variation(share, share_moe),
        },
        index=table.index,
    )


def age_measures(table: pd.DataFrame) -> pd.DataFrame:
    """Children of elementary age (5 to 10) from B01001.

    ``age_5_10`` = B01001_004 + B01001_028 (boys and girls 5-9) + (B01001_005 + B01001_029) / 5
    (one year of the 10-14 band). Margin: the sum rule within each band, then
    ``sqrt(M_5_9^2 + (M_10_14 / 5)^2)``. Also ``population`` (B01001_001) when present, used by
    the fallback for missing values.

    Examples
    --------
    Boys 5-9 = 40 (MOE 12), girls 5-9 = 35 (MOE 11), boys 10-14 = 50 (MOE 15), girls 10-14 = 45
    (MOE 14): age_5_10 = 75 + 95/5 = 94, MOE = sqrt(12^2 + 11^2 + (15^2 + 14^2)/25) = 16.79.
    """
    young = _require(table, B01001_AGE_5_9, "the children of elementary age", "B01001")
    older = _require(table, B01001_AGE_10_14, "the children of elementary age", "B01001")
    m_young = _columns(table, B01001_AGE_5_9, "M")
    m_older = _columns(table, B01001_AGE_10_14, "M")
    if m_young is None or m_older is None:
        age_moe = np.full(len(table), np.nan)
    else:
        age_moe = np.sqrt(moe_sum(young, m_young) ** 2 + (moe_sum(older, m_older) / 5.0) ** 2)
    age = young.sum(axis=1) + older.sum(axis=1) / 5.0
    out = pd.DataFrame(
        {
            "age_5_10": age,
            "age_5_10_moe": age_moe,
            "age_5_10_cv": coefficient_of_variation(age, age_moe),
        },
        index=table.index,
    )
    total = _columns(table, (B01001_TOTAL,), "E")
    out["population"] = total[:, 0] if total is not None else np.nan
    return out


def income_measures(table: pd.DataFrame) -> pd.DataFrame:
    """Median household income (B19013_001) and its margin; NaN where suppressed.

    ``median_household_income_note`` says "top-coded" (250,000+), "bottom-coded" (2,500-),
    "missing" or "" so maps can label them.
    """
    est = _columns(table, (B19013_MEDIAN,), "E")
    if est is None:
        return pd.DataFrame(index=table.index)
    moe = _columns(table, (B19013_MEDIAN,), "M")
    value = est[:, 0]
    margin = moe[:, 0] if moe is not None else np.full(len(table), np.nan)
    note = np.full(len(table), "", dtype=object)
    note[np.isnan(value)] = "missing"
    note[value >= 250001] = "top-coded"
    note[value <= 2499] = "bottom-coded"
    return pd.DataFrame(
        {
            "median_household_income": value,
            "median_household_income_moe": margin,
            "median_household_income_note": note,
        },
        index=table.index,
    )
