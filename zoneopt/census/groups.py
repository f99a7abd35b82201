"""Groups a district monitors but never assigns by: ``report_<name>`` columns from ACS B03002.

After *Parents Involved* (2007) a district may not assign students by race, but it watches the
racial and ethnic composition of its schools. :func:`race_report_columns` spreads each unit's
students over the groups of ACS table B03002 (Hispanic or Latino origin by race) in proportion to
the unit's residents, so that the report can show each school's composition today and proposed.
zoneopt's model and search never read these columns.

Groups (B03002 variables): ``hispanic`` = _012 (Hispanic or Latino, of any race); ``white`` = _003,
``black`` = _004, ``asian`` = _006 (each "alone, not Hispanic or Latino"); ``other`` = _005 + _007 +
_008 + _009 (American Indian and Alaska Native, Native Hawaiian and Other Pacific Islander, some
other race, two or more races; not Hispanic). They add up to _001, all residents.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError
from . import acs as acs_mod
from .students import largest_remainder

B03002_GROUPS: dict[str, tuple[str, ...]] = {
    "hispanic": ("012",),
    "white": ("003",),
    "black": ("004",),
    "asian": ("006",),
    "other": ("005", "007", "008", "009"),
}


def race_report_columns(
    units: pd.DataFrame,
    acs: Sequence[str | os.PathLike] | str | os.PathLike | pd.DataFrame,
) -> pd.DataFrame:
    """Add ``report_hispanic``, ``report_white``, ``report_black``, ``report_asian`` and
    ``report_other`` (students, whole numbers adding up to ``students``) to a copy of ``units``.

    Parameters
    ----------
    units
        Units with ``unit_id`` (census GEOIDs) and ``students``; not modified.
    acs
        Files holding B03002 (either format) or the frame of :func:`zoneopt.census.read_acs`.

    Returns
    -------
    pandas.DataFrame
        ``units`` with the five columns (empty where the unit has no B03002 figures or no
        residents in them) and ``flag_report_missing`` for those units.

    Examples
    --------
    A unit of 10 students whose residents are 500 Hispanic, 300 white, 150 Black, 50 Asian: 5, 3,
    1.5 and 0.5 students; the largest remainders give the half students to the earlier group.

    >>> t = pd.DataFrame([[1000, 300, 150, 0, 50, 0, 0, 0, 500]], index=["060670001011"],
    ...     columns=[f"B03002_{v}E" for v in ("001", "003", "004", "005", "006", "007", "008",
    ...                                        "009", "012")])
    >>> u = race_report_columns(pd.DataFrame({"unit_id": ["060670001011"], "students": [10]}), t)
    >>> u[["report_hispanic", "report_white", "report_black", "report_asian"]].iloc[0].tolist()
    [5, 3, 2, 0]
    """
    table = acs if isinstance(acs, pd.DataFrame) else acs_mod.read_acs(acs)
    needed = [f"B03002_{v}E" for vs in B03002_GROUPS.values() for v in vs]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ZoneoptInputError(
            f"the monitored race and ethnicity groups need ACS table B03002, but the tables given "
            f"lack {', '.join(missing)}; download B03002 (5-year, block groups) and pass it with "
            "--acs", column=missing[0])
    ids = units["unit_id"].astype(str).to_numpy(dtype=object)
    rows = table.reindex(ids)
    parts = np.column_stack([
        rows[[f"B03002_{v}E" for v in vs]].to_numpy(dtype=float).sum(axis=1)
        for vs in B03002_GROUPS.values()])
    students = pd.to_numeric(units["students"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    out = units.copy()
    counts = np.zeros(parts.shape)
    known = ~np.isnan(parts).any(axis=1) & (np.nan_to_num(parts).sum(axis=1) > 0)
    for i in np.flatnonzero(known):
        counts[i] = largest_remainder(parts[i], int(students[i]))
    for g, name in enumerate(B03002_GROUPS):
        col = pd.array(counts[:, g].astype(np.int64), dtype="Int64")
        col[~known] = pd.NA
        out[f"report_{name}"] = col
    out["flag_report_missing"] = ~known & (students > 0)
    return out
