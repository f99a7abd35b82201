"""Trade-offs between plans: side-by-side comparison tables and the frontier of a policy sweep.

- :mod:`zoneopt.scenarios.compare`: :func:`compare`, :func:`compare_schools`, :func:`compare_html`.
- :mod:`zoneopt.scenarios.frontier`: :func:`frontier` (``zoneopt frontier``) and its table.
- :mod:`zoneopt.scenarios.chart`: the frontier's chart and files.
"""

from __future__ import annotations

from .chart import frontier_figure, frontier_html, write_frontier_files
from .compare import compare, compare_html, compare_schools
from .frontier import (
    LOOSER_WHEN_FALSE,
    LOOSER_WHEN_LARGER,
    LOOSER_WHEN_SMALLER,
    FrontierResult,
    _make_monotone,
    check_values,
    frontier,
    frontier_table,
    is_monotone_key,
    parse_vary,
    solve_order,
)

__all__ = [
    "FrontierResult",
    "LOOSER_WHEN_FALSE",
    "LOOSER_WHEN_LARGER",
    "LOOSER_WHEN_SMALLER",
    "_make_monotone",
    "compare",
    "compare_html",
    "compare_schools",
    "check_values",
    "frontier",
    "frontier_figure",
    "frontier_html",
    "frontier_table",
    "is_monotone_key",
    "parse_vary",
    "solve_order",
    "write_frontier_files",
]
