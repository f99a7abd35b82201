"""Fixtures of the desk tests: small districts, plans, addresses, and the viz tests' Chromium."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_VIZ = Path(__file__).parents[1] / "viz"
sys.path.insert(0, str(_VIZ))
_spec = importlib.util.spec_from_file_location("_viz_conftest", _VIZ / "conftest.py")
_viz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_viz)

browser = _viz.browser  # Debian's headless Chromium with every network request failing
open_page = _viz.open_page


@pytest.fixture(scope="session")
def grid():
    """The 6 x 8 grid district with four schools (segregated west to east)."""
    from districts import grid_frames

    from zoneopt import District

    units, schools = grid_frames(6, 8, [9, 14, 33, 38], seed=1)
    return District.from_frames(units, schools)


@pytest.fixture(scope="session")
def grid_plan(grid):
    """A checked plan of the grid: a short search, so the tests do not wait for a proof."""
    from zoneopt import Scenario, optimize

    plan = optimize(grid, Scenario.from_dict({"constraints": {"max_utilization": 1.2}}),
                    time_limit=2)
    plan.check().raise_if_failed()
    return plan


@pytest.fixture(scope="session")
def big():
    """The 2,000-unit, 100-school synthetic district of the editor's speed requirement."""
    from zoneopt import District
    from zoneopt.synthetic import synthetic_district

    units, schools = synthetic_district(2000, 100)
    return District.from_frames(units, schools)
