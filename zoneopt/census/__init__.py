"""Census files in, zoneopt units out (issue 3).

A planner downloads the state's TIGER/Line block groups and a few ACS 5-year tables and calls
:func:`build_units` (or runs ``zoneopt units``); :func:`read_nces_schools` does the same for the
schools. Everything here is readers and arithmetic: nothing knows about optimisation.

Examples
--------
>>> from zoneopt.census import build_units, write_units
>>> units = build_units(
...     "tl_2022_06_bg.zip",
...     ["ACSDT5Y2022.C17002-Data.csv", "ACSDT5Y2022.B01001-Data.csv"],
...     boundary="district.gpkg",
...     students_total=23000,
... )                                                            # doctest: +SKIP
>>> units[units["flag_unreliable"]]                              # doctest: +SKIP
>>> write_units(units, "units.gpkg")                             # doctest: +SKIP
"""

from __future__ import annotations

from .acs import (
    age_measures,
    coefficient_of_variation,
    income_measures,
    low_income_measures,
    moe_proportion,
    moe_sum,
    read_acs,
    read_acs_table,
)
from .fetch import CensusFiles, FetchError, fetch
from .nces import read_nces_schools, write_schools_csv
from .ses import ses_tiers
from .students import count_points, largest_remainder, read_student_points, suppress_small_counts
from .tiger import clip_to_boundary, read_block_groups, read_boundary
from .units import CensusWarning, build_units, write_units

__all__ = [
    "CensusFiles",
    "CensusWarning",
    "FetchError",
    "age_measures",
    "build_units",
    "clip_to_boundary",
    "coefficient_of_variation",
    "count_points",
    "fetch",
    "income_measures",
    "largest_remainder",
    "low_income_measures",
    "moe_proportion",
    "moe_sum",
    "read_acs",
    "read_acs_table",
    "read_block_groups",
    "read_boundary",
    "read_nces_schools",
    "read_student_points",
    "ses_tiers",
    "suppress_small_counts",
    "write_schools_csv",
    "write_units",
]
