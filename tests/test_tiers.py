"""SES tier counts, the multi-group dissimilarity D_T and the figures of a plan."""

from __future__ import annotations

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, metrics
from zoneopt.errors import ZoneoptInputError
from zoneopt.tiers import (
    multigroup_dissimilarity,
    report_groups,
    ses_figures,
    ses_school_columns,
    tier_counts,
)


def _district(tiers, **extra):
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    units["ses_tier"] = tiers
    for k, v in extra.items():
        units[k] = v
    return District.from_frames(units, schools)


def test_two_groups_give_the_dissimilarity_index():
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.integers(0, 60, 15)
        low = (s * rng.uniform(0, 1, 15)).astype(int)
        assign = rng.integers(0, 4, 15)
        d = metrics.dissimilarity(assign, s, low, 4)
        dt = multigroup_dissimilarity(assign, np.column_stack([low, s - low]), 4)
        assert dt == pytest.approx(d, abs=1e-12)


def test_multigroup_dissimilarity_by_hand():
    # Tiers 1..3 of 3 units of 10 students; school 0 has units 0 and 1, school 1 unit 2.
    # P = (1/3, 1/3, 1/3), I = 2/3, S = 30; deviations school 0: 10 - 20/3 twice and 0 - 20/3,
    # school 1: 10/3 twice and 10 - 10/3: sum 20/3 x 4 = 80/3; D_T = (80/3) / (2 x 30 x 2/3) = 2/3.
    counts = np.diag([10, 10, 10])
    assert multigroup_dissimilarity(np.array([0, 0, 1]), counts, 2) == pytest.approx(2 / 3)
    assert multigroup_dissimilarity(np.array([0, 0, 0]), counts, 2) == 0.0


def test_tier_counts_put_every_student_of_a_unit_in_its_tier():
    tiers = [1, 2, 3, 4] * 3
    d = _district(tiers)
    counts = tier_counts(d)
    assert counts.shape == (12, 4)
    assert (counts.sum(axis=1) == d.students).all()
    assert counts[2, 2] == d.students[2]


@pytest.mark.parametrize("bad, match", [
    ([1.5] + [1] * 11, "not a whole number"),
    ([0] + [2] * 11, "not a whole number"),
    ([np.nan] + [2] * 11, "no ses_tier"),
    ([1] * 12, "at least two tiers"),
])
def test_bad_tiers_are_input_errors_naming_unit_and_column(bad, match):
    with pytest.raises(ZoneoptInputError, match=match) as err:
        tier_counts(_district(bad))
    assert err.value.column == "ses_tier"


def test_missing_tier_column_says_how_to_make_it():
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    with pytest.raises(ZoneoptInputError, match="--ses-tiers"):
        tier_counts(District.from_frames(units, schools))


def test_figures_and_school_columns_before_and_after():
    units, _ = grid_frames(3, 4, [0, 11], seed=2)
    d = _district([1, 1, 2, 2] * 3, report_hispanic=units["students"] // 2)
    pos = np.array([0, 1] * 6)
    f = ses_figures(d, pos)
    counts = tier_counts(d)
    assert f["tier_dissimilarity_after"] == pytest.approx(
        multigroup_dissimilarity(pos, counts, 2))
    assert sum(f["tier_shares"]) == pytest.approx(1.0)
    assert set(f["report_dissimilarity_after"]) == {"hispanic"}
    cols = ses_school_columns(d, d.status_quo, pos)
    assert cols["tier_1_after"].sum() + cols["tier_2_after"].sum() == d.students.sum()
    assert cols["report_hispanic_after"].sum() == report_groups(d)["hispanic"].sum()


def test_unusable_tiers_are_left_out_of_a_low_income_plan_not_fatal():
    from zoneopt import Scenario
    from zoneopt.check import check_plan
    from zoneopt.plan import Plan

    d = _district([1] * 12)  # a single tier: nothing to report, nothing to balance
    plan = Plan.from_assignment(d, Scenario(), d.status_quo)
    assert "tier_dissimilarity_after" not in plan.summary
    assert check_plan(d, Scenario(), d.status_quo, summary=plan.summary).ok
    assert "tier_1_after" not in plan.schools_table.columns


@pytest.mark.parametrize("module", ["zoneopt.tiers", "zoneopt.census.ses"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_complete_separation_is_one():
    # Each school holds a single tier: D_T = 1 whatever the tier sizes.
    counts = np.array([[10, 0, 0], [0, 25, 0], [0, 0, 5], [7, 0, 0]])
    assert multigroup_dissimilarity(np.array([0, 1, 2, 0]), counts, 3) == pytest.approx(1.0)
