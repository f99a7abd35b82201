"""From census files to the contract's units file: :func:`build_units` and :func:`write_units`.

Columns of the result (CONTRACT.md's three first, then the extras):

============================== ==================================================================
``unit_id``                    the GEOID, text
``students``                   int; from ``students_total`` (largest remainder over ``age_5_10``)
                               or counted from student points
``low_income``                 int, 0..students: counted from points that carry ``low_income``,
                               else ``round(students x low_income_share)`` (halves round up)
``low_income_share``           C17002: people under 1.85 x poverty / poverty universe
``low_income_share_moe``       its 90 % margin (Census proportion formula); NaN when imputed
``low_income_share_cv``        coefficient of variation (MOE / 1.645 / share)
``low_income_source``          where the share comes from: "unit", else the enclosing geography
                               whose share was used ("block group", "tract", "county", "state",
                               "all") because the unit's own figures are missing or suppressed
``reliability``                "high" (CV <= 12 %), "medium" (<= 40 %), "low", "unknown" (no
                               margin), "imputed", or "missing" (no C17002 given), for the
                               low-income share
``age_5_10``                   B01001 children aged 5 to 10 inside the district (see acs.py)
``age_5_10_moe``, ``_cv``      its margin and CV (NaN when imputed)
``age_5_10_source``            "unit"; or "<level> by population" (the level's ratio of children
                               to people times the unit's B01001_001 or the block's POP20); or
                               "<level> by land area"; or "missing" when B01001 was not given
``population``                 B01001_001 inside the district, when given
``poverty_universe``           C17002_001 inside the district
``median_household_income``    B19013_001 (and ``_moe``, ``_note``: "top-coded", "missing", ...);
                               never imputed, since medians of areas cannot be combined
``inside_fraction``            share of the unit's land area inside the boundary (1 without one)
``imputed``                    True when the share or the children count is a fallback value
``flag_low_income_imputed``,   one flag per reason, for notebooks and maps
``flag_age_imputed``,
``flag_unreliable``,
``flag_clipped``
============================== ==================================================================

Counts of a unit partly inside the boundary are its counts times ``inside_fraction`` (area
weighting: people are assumed spread evenly over the unit's land); shares and medians are kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError
from ..io import write_vector
from . import acs as acs_mod
from .students import count_points, largest_remainder, read_student_points, whole_total
from .tiger import (
    PARENT_LEVELS,
    clip_to_boundary,
    equal_area_crs,
    read_block_groups,
)

_LEVEL_NAMES = dict(PARENT_LEVELS)


class CensusWarning(UserWarning):
    """Census figures were imputed or points fell outside every unit; the message says how many."""


def build_units(
    block_groups: str | os.PathLike | gpd.GeoDataFrame,
    acs: Sequence[str | os.PathLike] | str | os.PathLike,
    *,
    boundary: str | os.PathLike | gpd.GeoDataFrame | None = None,
    students_total: int | None = None,
    students: str | os.PathLike | gpd.GeoDataFrame | None = None,
    water: str | os.PathLike | gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Turn census files into the units zoneopt optimises (``zoneopt units`` calls this).

    Parameters
    ----------
    block_groups
        TIGER/Line or cartographic-boundary polygons: ``tl_2020_06_bg.zip``,
        ``cb_2022_06_bg_500k.zip``, an unzipped ``.shp`` or a GeoPackage with GEOID (or GEOID20).
        Tracts and blocks work the same.
    acs
        ACS 5-year tables, each a data.census.gov CSV or a Census API JSON file (auto-detected):
        C17002 for the low-income share (required unless the student points carry
        ``low_income``), B01001 for ``students_total``, B19013 optionally.
    boundary
        Optional district polygon(s); units are clipped to it (see :func:`clip_to_boundary`).
    students_total
        Students in the district, spread over units by children aged 5 to 10.
    students
        Or a CSV of geocoded students (``lon``, ``lat``, optional ``low_income`` 0/1), or a
        GeoDataFrame from :func:`read_student_points`. Exactly one of the two must be given.
    water
        Optional water polygons (TIGER/Line ``areawater``) so the boundary's area weights count
        land only.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit with some area inside the boundary, sorted by ``unit_id``, in the
        block-group file's CRS (EPSG:4269 for TIGER). Columns: see this module's notes. With
        student points, ``attrs["students_outside"]`` counts the points in no unit.

    Examples
    --------
    The shipped samples: 12 block groups of tract 0001.01 and 0001.02, county 06067.

    >>> from zoneopt.census import build_units
    >>> units = build_units(
    ...     "data/samples/tl_2020_06_bg_sample.zip",
    ...     ["data/samples/ACSDT5Y2022.C17002-Data_sample.csv",
    ...      "data/samples/acs2022_B01001_api_sample.json"],
    ...     boundary="data/samples/district_boundary_sample.geojson",
    ...     students_total=1200,
    ... )
    >>> len(units), int(units["students"].sum())   # the top-right block group is outside
    (11, 1200)
    >>> units[["unit_id", "students", "low_income", "reliability"]].head(2)
            unit_id  students  low_income reliability
    0  060670001011       142          28      medium
    1  060670001012       116          45      medium

    Block group 0001.01-1 has 144.2 children aged 5 to 10 (62 + 55 + (70 + 66) / 5) of the
    district's 1222.2, so its quota is 1200 x 144.2 / 1222.2 = 141.6 students, which the largest
    remainder rounds up to 142; of them 142 x 236 / 1210 = 27.7 -> 28 are low-income. Units with
    fallback figures, and why:

    >>> units.loc[units["imputed"], ["unit_id", "low_income_source", "age_5_10_source"]]
            unit_id low_income_source      age_5_10_source
    1  060670001012              unit  tract by population
    7  060670001022             tract                 unit
    8  060670001023             tract                 unit
    """
    if (students_total is None) == (students is None):
        raise ZoneoptInputError(
            "give exactly one of students_total (--students-total N) and students "
            "(--students STUDENTS.csv)"
        )
    if students_total is not None:
        students_total = whole_total(students_total)  # before the slow reading, not after
    all_units = read_block_groups(block_groups)
    source = all_units.attrs.get("source", "block groups")
    table = acs_mod.read_acs(acs)
    points = None
    if students is not None:
        points = (
            students.copy()
            if isinstance(students, gpd.GeoDataFrame)
            else read_student_points(students)
        )
    points_have_low = points is not None and "low_income" in points.columns
    if points_have_low and not points["low_income"].isin([0, 1]).all():
        raise ZoneoptInputError(
            "the students' low_income must be 0 or 1 for every student", column="low_income"
        )
    if not points_have_low and not acs_mod.has_table(table, "C17002"):
        acs_mod.low_income_measures(table)  # raises the error that names C17002
    if students_total is not None and not acs_mod.has_table(table, "B01001"):
        acs_mod.age_measures(table)  # raises the error that names B01001

    units = all_units.copy()
    if boundary is not None:
        units = clip_to_boundary(units, boundary, water=water)
    else:
        units["inside_fraction"] = 1.0
    units = units.sort_values("GEOID").reset_index(drop=True)
    length = len(units["GEOID"].iloc[0])
    land = _land_area(all_units)

    out = pd.DataFrame({"unit_id": units["GEOID"].to_numpy(dtype=object)})
    fraction = units["inside_fraction"].to_numpy(dtype=float)
    ids = pd.Index(units["GEOID"].to_numpy(dtype=object))

    share = _low_income(table, ids, length, source)
    age = _children(table, ids, length, land, units["POP"].to_numpy(dtype=float), source)
    income = acs_mod.income_measures(table).reindex(ids)

    for col in ("low_income_share", "low_income_share_moe", "low_income_share_cv"):
        out[col] = share[col].to_numpy()
    out["low_income_source"] = share["source"].to_numpy()
    out["reliability"] = share["reliability"].to_numpy()
    out["age_5_10"] = age["age_5_10"].to_numpy() * fraction
    out["age_5_10_moe"] = age["age_5_10_moe"].to_numpy() * fraction
    out["age_5_10_cv"] = age["age_5_10_cv"].to_numpy()
    out["age_5_10_source"] = age["source"].to_numpy()
    out["population"] = age["population"].to_numpy() * fraction
    out["poverty_universe"] = share["poverty_universe"].to_numpy() * fraction
    for col in ("median_household_income", "median_household_income_moe"):
        out[col] = income[col].to_numpy(dtype=float) if col in income else np.nan
    note = income.get("median_household_income_note")
    out["median_household_income_note"] = (
        note.fillna("missing").to_numpy(dtype=object) if note is not None else "missing"
    )
    out["inside_fraction"] = fraction

    outside = None
    if students_total is not None:
        weights = np.nan_to_num(out["age_5_10"].to_numpy(dtype=float), nan=0.0)
        counts = largest_remainder(weights, students_total)
        low_counts = None
    else:
        counts, low_counts, outside = count_points(units, points)
    out["students"] = counts.astype(np.int64)
    if low_counts is None:
        s = out["low_income_share"].to_numpy(dtype=float)
        if np.isnan(s[counts > 0]).any():
            bad = out["unit_id"][(counts > 0) & np.isnan(s)].iloc[0]
            raise ZoneoptInputError(
                "has students but no low-income share, not even from its tract or county; "
                "check that the C17002 table covers these units",
                file=source,
                row=bad,
            )
        low_counts = np.floor(counts * np.nan_to_num(s) + 0.5).astype(np.int64)
    out["low_income"] = np.clip(low_counts, 0, counts).astype(np.int64)

    # "missing" means the table was not given (and not needed), which is not an imputation.
    out["flag_low_income_imputed"] = ~out["low_income_source"].isin(["unit", "missing"])
    out["flag_age_imputed"] = ~out["age_5_10_source"].isin(["unit", "missing"])
    out["imputed"] = out["flag_low_income_imputed"] | out["flag_age_imputed"]
    out["flag_unreliable"] = (out["reliability"] == "low").to_numpy()
    out["flag_clipped"] = fraction < 1.0
    front = ["unit_id", "students", "low_income"]
    out = out[front + [c for c in out.columns if c not in front]]
    result = gpd.GeoDataFrame(out, geometry=units.geometry.to_numpy(), crs=units.crs)
    if outside is not None:
        result.attrs["students_outside"] = int(len(outside))
    _warn_imputed(result)
    return result


def write_units(units: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write units atomically; the format follows the extension (.gpkg, .geojson, .fgb, .shp).

    Parameters
    ----------
    units
        From :func:`build_units`; not modified.
    path
        The output file. A GeoPackage (recommended) gets one layer named "units". A shapefile
        keeps the contract's columns whole but shortens longer names to 10 characters.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return _write_shapefile(units, path)
    if suffix not in (".gpkg", ".geojson", ".json", ".fgb"):
        raise ZoneoptInputError(
            "unknown units file type; end the name with .gpkg (recommended), .geojson, .fgb "
            "or .shp",
            file=path,
        )
    kwargs = {"layer": "units"} if suffix == ".gpkg" else {}
    return write_vector(path, units, **kwargs)


def _write_shapefile(units: gpd.GeoDataFrame, path: Path) -> Path:
    """A shapefile is several files: each is written aside, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(truncated|Normalized).*")
            units.to_file(tmp / path.name)
        for part in sorted(tmp.iterdir()):
            os.replace(part, path.with_suffix(part.suffix))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


# ------------------------------------------------------------------------------- the fallbacks


def _land_area(units: gpd.GeoDataFrame) -> pd.Series:
    """Land area (m^2) of every unit of the file: ALAND, or the polygon's area where it is absent."""
    aland = units["ALAND"].to_numpy(dtype=float)
    if np.isnan(aland).any():
        area = units.geometry.to_crs(equal_area_crs(units)).area.to_numpy()
        aland = np.where(np.isnan(aland), area, aland)
    return pd.Series(aland, index=pd.Index(units["GEOID"].to_numpy(dtype=object)))


def _levels(length: int) -> list[int]:
    return [length] + [k for k, _ in PARENT_LEVELS if k < length]


def _label(k: int, length: int) -> str:
    return "unit" if k == length else _LEVEL_NAMES[k]


def _totals(rows: pd.DataFrame, k: int, invalid: pd.Index | None = None) -> pd.DataFrame:
    """Column sums per geography with a k-digit GEOID.

    The table's own row of that geography where it has one (the published figure), else the sum
    of its finest rows inside it (e.g. the block groups of a tract). With ``invalid`` (ids of the
    table's rows whose figure is missing), a geography holding any of them gets no sum: a partial
    sum would understate a count.
    """
    if len(rows) == 0:
        return rows
    lengths = rows.index.str.len()
    own = rows[lengths == k]
    finest_len = lengths.max()
    finest = rows[lengths == finest_len]
    summed = finest.groupby(finest.index.str[:k]).sum(min_count=1)
    if invalid is not None and finest_len > k:
        holes = invalid[invalid.str.len() == finest_len].str[:k]
        summed = summed[~summed.index.isin(holes)]
    return own.combine_first(summed)


def _low_income(table: pd.DataFrame, ids: pd.Index, length: int, source: str) -> pd.DataFrame:
    out = pd.DataFrame(index=ids)
    out["low_income_share"] = np.nan
    out["low_income_share_moe"] = np.nan
    out["poverty_universe"] = np.nan
    out["source"] = "missing"
    if not acs_mod.has_table(table, "C17002"):
        out["low_income_share_cv"] = np.nan
        out["reliability"] = "missing"
        return out
    m = acs_mod.low_income_measures(table)
    valid = m["low_income_count"].notna() & m["poverty_universe"].notna()
    rows = pd.DataFrame(
        {
            "num": m["low_income_count"],
            "den": m["poverty_universe"],
            "num_moe_sq": m["low_income_count_moe"] ** 2,
            "den_moe_sq": m["poverty_universe_moe"] ** 2,
        }
    )[valid]
    share = np.full(len(ids), np.nan)
    moe = np.full(len(ids), np.nan)
    universe = np.full(len(ids), np.nan)
    src = np.full(len(ids), "missing", dtype=object)
    invalid = m.index[~valid]
    for k in _levels(length):
        # The unit's own figure must be complete; an enclosing area's share may come from the
        # units of it that have one.
        tot = _totals(rows, k, invalid if k == length else None)
        tot = tot[tot["den"] > 0]
        if len(tot) == 0:
            continue
        prefix = ids.str[:k]
        hit = prefix.isin(tot.index) & np.isnan(share)
        if not hit.any():
            continue
        found = tot.reindex(prefix[hit])
        share[hit] = (found["num"] / found["den"]).to_numpy()
        src[hit] = _label(k, length)
        if k == length:
            moe[hit] = acs_mod.moe_proportion(
                found["num"].to_numpy(),
                found["den"].to_numpy(),
                np.sqrt(found["num_moe_sq"].to_numpy()),
                np.sqrt(found["den_moe_sq"].to_numpy()),
            )
            universe[hit] = found["den"].to_numpy()
    # A unit whose own universe is 0 (nobody lives there) has no share of its own; it has the
    # universe though, so report it.
    own_universe = m["poverty_universe"].reindex(ids).to_numpy(dtype=float)
    universe = np.where(np.isnan(universe), own_universe, universe)
    _require_local(src, ids, length, "low-income share (C17002)", source)
    out["low_income_share"] = share
    out["low_income_share_moe"] = moe
    out["low_income_share_cv"] = acs_mod.coefficient_of_variation(share, moe)
    out["poverty_universe"] = universe
    out["source"] = src
    rel = acs_mod.reliability(out["low_income_share_cv"].to_numpy(), share, moe)
    rel[src != "unit"] = "imputed"
    out["reliability"] = rel
    return out


def _children(
    table: pd.DataFrame,
    ids: pd.Index,
    length: int,
    land: pd.Series,
    tiger_pop: np.ndarray,
    source: str,
) -> pd.DataFrame:
    out = pd.DataFrame(index=ids)
    if not acs_mod.has_table(table, "B01001"):
        for col in ("age_5_10", "age_5_10_moe", "age_5_10_cv", "population"):
            out[col] = np.nan
        out["source"] = "missing"
        return out
    m = acs_mod.age_measures(table)
    age = np.full(len(ids), np.nan)
    moe = np.full(len(ids), np.nan)
    src = np.full(len(ids), "missing", dtype=object)
    valid_age = m["age_5_10"].notna()
    own = pd.DataFrame({"age": m["age_5_10"], "moe_sq": m["age_5_10_moe"] ** 2})[valid_age]
    tot = _totals(own, length, m.index[~valid_age])
    hit = ids.isin(tot.index)
    if hit.any():
        found = tot.reindex(ids[hit])
        age[hit] = found["age"].to_numpy()
        moe[hit] = np.sqrt(found["moe_sq"].to_numpy())
        src[hit] = "unit"

    # The unit's people: its own B01001_001, else the block's decennial POP20 from TIGER.
    pop_rows = m["population"].dropna()
    pop_holes = m.index[m["population"].isna()]
    unit_pop = (
        _totals(pd.DataFrame({"pop": pop_rows}), length, pop_holes)["pop"]
        if len(pop_rows)
        else None
    )
    pop = unit_pop.reindex(ids).to_numpy(dtype=float) if unit_pop is not None else np.nan
    pop = np.where(np.isnan(pop), tiger_pop, pop)

    with_pop = m[valid_age & m["population"].notna()]
    ratio_rows = pd.DataFrame({"num": with_pop["age_5_10"], "den": with_pop["population"]})
    by_land = pd.DataFrame({"num": m["age_5_10"][valid_age]})
    by_land["den"] = _row_land(by_land.index, land, length)
    by_land = by_land[by_land["den"] > 0]
    unit_land = land.reindex(ids).to_numpy(dtype=float)
    for rows, weight, how in ((ratio_rows, pop, "population"), (by_land, unit_land, "land area")):
        for k in _levels(length)[1:]:
            need = np.isnan(age) & ~np.isnan(weight)
            if not need.any():
                break
            tot = _totals(rows, k)
            tot = tot[tot["den"] > 0]
            prefix = ids.str[:k]
            hit = need & prefix.isin(tot.index)
            if not hit.any():
                continue
            found = tot.reindex(prefix[hit])
            age[hit] = (found["num"] / found["den"]).to_numpy() * weight[hit]
            src[hit] = f"{_LEVEL_NAMES[k]} by {how}"
    _require_local(src, ids, length, "children aged 5-10 (B01001)", source)
    out["age_5_10"] = age
    out["age_5_10_moe"] = moe
    out["age_5_10_cv"] = acs_mod.coefficient_of_variation(age, moe)
    out["population"] = pop
    out["source"] = src
    return out


def _row_land(row_ids: pd.Index, land: pd.Series, length: int) -> np.ndarray:
    """Land area of each table row's geography, from the units of the polygon file inside it."""
    out = np.full(len(row_ids), np.nan)
    lengths = row_ids.str.len()
    for m in sorted(set(lengths)):
        if m > length:
            continue  # rows finer than the units: their land is unknown here
        sums = land.groupby(land.index.str[:m]).sum()
        sel = np.asarray(lengths == m)
        out[sel] = sums.reindex(row_ids[sel]).to_numpy(dtype=float)
    return out


def _require_local(src: np.ndarray, ids: pd.Index, length: int, what: str, source: str) -> None:
    """Fallbacks are for a few holes; a table of another place would impute every unit."""
    local = {"unit"} | {
        _LEVEL_NAMES[k] for k in _levels(length)[1:] if k >= 11
    }
    if not any(str(s).split(" by ")[0] in local for s in src):
        raise ZoneoptInputError(
            f"no unit has its own {what} nor one of its tract (e.g. unit {ids[0]}); the ACS "
            "table covers other places or another geography: download it for the block groups "
            "of this county",
            file=source,
        )


def _warn_imputed(units: gpd.GeoDataFrame) -> None:
    parts = []
    for col, what in (("low_income_source", "low-income share"), ("age_5_10_source", "children")):
        counts = units.loc[~units[col].isin(["unit", "missing"]), col].value_counts()
        if len(counts):
            detail = ", ".join(f"{n} from the {lvl}" for lvl, n in counts.items())
            parts.append(f"{what}: {detail}")
    if parts:
        warnings.warn(
            f"some of the {len(units)} units lack their own census figures and use their "
            f"enclosing area's ({'; '.join(parts)}); they are flagged in the 'imputed' column",
            CensusWarning,
            stacklevel=3,
        )
