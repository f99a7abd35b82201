"""The planner's own column names: the scenario's ``[columns]`` mapping (CONTRACT.md, Additions).

A district's export rarely uses the contract's names: planning blocks with ``PBID`` and
``K5LiveAtt``, a county-wide schools file with ``NAME`` and ``TYPE``. :func:`apply_columns` keeps
the schools that ``schools_where`` selects and renames the mapped columns to the contract's, on
copies, so everything downstream (validation, model, checker, outputs) reads one set of names.
School ids may be names (``school_id = "NAME"``); ``current_school`` and ``locked_school`` then
hold names too, and are matched as ids are.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import ZoneoptInputError
from .scenario import Columns
from .validate import Problems, _did_you_mean

__all__ = ["as_columns", "apply_columns", "select_schools"]

_UNIT_KEYS = ("unit_id", "students", "low_income", "current_school", "locked_school")
_SCHOOL_KEYS = {"school_id": "school_id", "school_name": "name", "capacity": "capacity"}
#: Mapped units columns that may be absent from the file (optional in the contract).
_OPTIONAL = {"current_school", "locked_school"}


def as_columns(columns: Columns | dict[str, Any] | None) -> Columns:
    """A :class:`~zoneopt.scenario.Columns` from itself, a dict of its keys, or None (defaults).

    Raises
    ------
    ZoneoptInputError
        For a key that is not one of ``[columns]``, or a value that is not text.
    """
    if columns is None:
        return Columns()
    if isinstance(columns, Columns):
        return columns
    known = {f.name for f in fields(Columns)}
    for key, value in columns.items():
        if key not in known:
            raise ZoneoptInputError(
                f"'{key}' is not a [columns] key; use {', '.join(sorted(known))}",
                column=f"columns.{key}",
            )
        if not isinstance(value, str):
            raise ZoneoptInputError(
                f"columns.{key} must be a column name (text), not {value!r}",
                column=f"columns.{key}",
            )
    return Columns(**columns)


def select_schools(
    schools: pd.DataFrame, where: str, *, source: str = "schools"
) -> pd.DataFrame:
    """The schools rows that match the pandas query ``where`` (all rows when it is empty).

    Parameters
    ----------
    schools
        The schools as read, with the file's own column names.
    where
        A :meth:`pandas.DataFrame.query` expression, e.g. ``"TYPE == 'ES'"``.
    source
        The file name, for messages.

    Returns
    -------
    pandas.DataFrame
        A copy of the matching rows (index reset).

    Raises
    ------
    ZoneoptInputError
        When the query cannot be evaluated (naming the column it does not know) or keeps no row.
    """
    if not where.strip():
        return schools.copy()
    columns = [str(c) for c in schools.columns if c != getattr(schools, "_geometry_column_name",
                                                                  None)]
    try:
        mask = schools.drop(columns=schools.geometry.name).eval(where) if isinstance(
            schools, gpd.GeoDataFrame) else schools.eval(where)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's query is bad input
        name = getattr(exc, "args", [""])[0] if isinstance(exc, pd.errors.UndefinedVariableError
                                                           ) else ""
        hint = ""
        if isinstance(exc, pd.errors.UndefinedVariableError):
            unknown = str(name).split("'")[1] if "'" in str(name) else ""
            hint = _did_you_mean(unknown, columns).replace("(rename it to", "(the column is")
        raise ZoneoptInputError(
            f"columns.schools_where = \"{where}\" cannot be applied ({type(exc).__name__}: "
            f"{exc}){hint}; write a pandas query on the schools file's columns "
            f"({', '.join(columns)}), e.g. \"TYPE == 'ES'\"",
            file=source,
            column="columns.schools_where",
        ) from None
    mask = pd.Series(mask, index=schools.index)
    if mask.dtype != bool:
        raise ZoneoptInputError(
            f"columns.schools_where = \"{where}\" does not give true/false per school; write a "
            "condition, e.g. \"TYPE == 'ES'\"",
            file=source,
            column="columns.schools_where",
        )
    if not mask.any():
        raise ZoneoptInputError(
            f"columns.schools_where = \"{where}\" keeps none of the {len(schools)} schools; "
            "check the values it compares with (text is case-sensitive and needs quotes)",
            file=source,
            column="columns.schools_where",
        )
    return schools.loc[mask.to_numpy()].reset_index(drop=True)


def apply_columns(
    units: gpd.GeoDataFrame,
    schools: pd.DataFrame,
    columns: Columns | dict[str, Any] | None,
    *,
    units_source: str = "units",
    schools_source: str = "schools",
    require_low_income: bool = True,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Copies of the frames with the contract's column names, and only the selected schools.

    Parameters
    ----------
    units, schools
        The frames as read from the planner's files (never modified).
    columns
        The ``[columns]`` mapping (a :class:`~zoneopt.scenario.Columns`, a dict of its keys, or
        None for the contract's own names).
    units_source, schools_source
        File names, for messages.
    require_low_income
        False when the scenario balances nothing: the low-income column may then be absent.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        The units and schools under the contract's names. A file column that already holds a
        contract name another column is mapped onto is kept as ``<name>_original``.

    Raises
    ------
    ZoneoptInputError
        Listing every mapped column missing from its file (with a near name when one exists),
        or a ``schools_where`` that cannot be applied.
    """
    cols = as_columns(columns)
    mapping = asdict(cols)
    schools = select_schools(schools, cols.schools_where, source=schools_source)
    problems = Problems()
    unit_pairs = [(mapping[k], k) for k in _UNIT_KEYS]
    school_pairs = [(mapping[k], v) for k, v in _SCHOOL_KEYS.items()]
    for frame, pairs, source, what in (
        (units, unit_pairs, units_source, "units"),
        (schools, school_pairs, schools_source, "schools"),
    ):
        for (name, contract), key in zip(pairs, [k for k in mapping if k != "schools_where"
                                                 and (k in _UNIT_KEYS) == (what == "units")],
                                         strict=True):
            if name == contract or name in frame.columns:
                # Unmapped names are checked by the validation, which says what they are for.
                continue
            if key == "low_income" and not require_low_income:
                continue
            found = [str(c) for c in frame.columns
                     if c != getattr(frame, "_geometry_column_name", None)]
            problems.add(
                f"[columns] {key} = \"{name}\" but the {what} have no column '{name}'"
                f"{_did_you_mean(name, found).split(' (rename')[0]}; "
                f"correct the scenario (columns found: {', '.join(found)})",
                file=source,
                column=name,
            )
    problems.raise_if_any()
    return _renamed(units, unit_pairs), _renamed(schools, school_pairs)


def _renamed(frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> Any:
    """``frame`` with each (file name, contract name) pair applied, on a copy.

    A file column that already holds a contract name which another column is mapped onto steps
    aside as ``<name>_original``; one file column mapped onto two contract names (``school_id =
    school_name = "NAME"``) is copied.
    """
    moves = [(old, new) for old, new in pairs if old != new and old in frame.columns]
    out = frame.copy()
    if not moves:
        return out
    targets = {new for _, new in moves}
    sources = {old for old, _ in moves}
    clash = [c for c in targets if c in out.columns and c not in sources]
    out = out.rename(columns={c: f"{c}_original" for c in clash})
    values = {old: out[old] for old in sources}
    out = out.drop(columns=[old for old in sources if old not in targets])
    for old, new in moves:
        out[new] = values[old].to_numpy()
    return out
