import numpy as np
import pytest

from zoneopt import Plan, Scenario
from zoneopt.plan import SCHOOL_COLUMNS


def test_schools_table_before_and_after(grid_district):
    d = grid_district
    plan = Plan.from_assignment(d, Scenario(), d.status_quo)
    table = plan.schools_table
    assert list(table.columns) == SCHOOL_COLUMNS
    assert (table["enrollment_before"] == table["enrollment_after"]).all()
    assert table["students_gained"].sum() == 0
    assert plan.summary["students_moved"] == 0
    assert plan.summary["dissimilarity_before"] == pytest.approx(plan.summary["dissimilarity_after"])


def test_gains_and_losses_balance(grid_district):
    d = grid_district
    moved = d.status_quo.copy()
    moved[[0, 1, 8]] = 1
    plan = Plan.from_assignment(d, Scenario(), moved)
    t = plan.schools_table
    assert t["students_gained"].sum() == t["students_lost"].sum() == plan.summary["students_moved"]
    assert t["enrollment_after"].sum() == d.students.sum()


def test_zones_are_dissolved_per_school_in_wgs84(grid_district):
    plan = Plan.from_assignment(grid_district, Scenario(), grid_district.status_quo)
    zones = plan.zones()
    assert len(zones) == 4 and zones.crs.to_epsg() == 4326
    assert np.isclose(zones["enrollment"].sum(), grid_district.students.sum())
