"""The editor's script API, headless: figures kept move by move equal a full recomputation, and
violations are the independent checker's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from desk_helpers import checked

from zoneopt import Editor, Plan, Scenario, check_plan
from zoneopt.errors import ZoneoptInputError

FIGURE_KEYS = (
    "objective", "dissimilarity_before", "dissimilarity_after", "max_share_gap_before",
    "max_share_gap_after", "students_moved", "moved_share", "mean_distance_km_before",
    "mean_distance_km_after", "max_utilization_after", "contiguous", "islands", "n_units",
    "n_schools", "district_share",
)


def assert_figures_match_full_recomputation(editor):
    full = Plan.from_assignment(editor.district, editor.scenario, editor.positions).summary
    for key in FIGURE_KEYS:
        mine, theirs = editor.figures[key], full[key]
        if isinstance(theirs, float):
            assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-12), key
        else:
            assert mine == theirs, key
    assert editor.violations == check_plan(editor.district, editor.scenario,
                                           editor.positions).violations


def boundary_moves(district, positions, rng, k):
    """k moves of a unit into a neighbouring zone (no school's home unit)."""
    homes = set(district.home_unit.tolist())
    pos = positions.copy()
    out = []
    while len(out) < k:
        i = int(rng.integers(district.n_units))
        other = [int(pos[v]) for v in district.neighbors[i] if pos[v] != pos[i]]
        if i in homes or not other:
            continue
        j = other[int(rng.integers(len(other)))]
        out.append((i, j))
        pos[i] = j
    return out


def test_figures_and_violations_after_moves_and_undos_equal_a_full_recomputation(grid_plan):
    ed = Editor(grid_plan)
    d = ed.district
    assert_figures_match_full_recomputation(ed)
    start = ed.figures
    rng = np.random.default_rng(3)
    for i, j in boundary_moves(d, grid_plan.positions, rng, 12):
        ed.move(d.unit_ids[i], d.school_ids[j])
        assert_figures_match_full_recomputation(ed)
    assert len(ed.edited_units) >= 1
    while ed.undo():
        assert_figures_match_full_recomputation(ed)
    assert ed.figures == start
    assert (ed.positions == grid_plan.positions).all()
    assert ed.undo() is False


def test_cutting_a_zone_in_two_is_reported_as_the_checker_words_it(grid):
    # Today's zones; move a unit out of the middle of a zone's corridor until it is cut.
    plan = checked(Plan.from_assignment(grid, Scenario(), grid.status_quo))
    ed = Editor(plan)
    pos = ed.positions
    for i in range(grid.n_units):
        if i in set(grid.home_unit.tolist()):
            continue
        others = {int(pos[v]) for v in grid.neighbors[i]} - {int(pos[i])}
        if not others:
            continue
        ed.move(grid.unit_ids[i], grid.school_ids[min(others)])
        if not ed.figures["contiguous"]:
            break
    assert ed.figures["contiguous"] is False
    assert any("is not connected to its home unit" in v for v in ed.violations)
    assert_figures_match_full_recomputation(ed)


def test_moving_a_home_unit_or_overfilling_a_school_shows_the_checkers_sentence(grid):
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 1.0}})
    ed = Editor(checked(Plan.from_assignment(grid, scenario, grid.status_quo)))
    home = int(grid.home_unit[0])
    ed.move(grid.unit_ids[home], grid.school_ids[1])
    assert any(f"home unit {grid.unit_ids[home]} of school {grid.school_ids[0]}" in v
               for v in ed.violations)
    assert_figures_match_full_recomputation(ed)


def test_unknown_unit_or_school_is_a_clear_input_error(grid_plan):
    ed = Editor(grid_plan)
    with pytest.raises(ZoneoptInputError, match="no unit with unit_id 'nope'"):
        ed.move("nope", "S0")
    with pytest.raises(ZoneoptInputError, match="no school with school_id 'S9'"):
        ed.move(grid_plan.district.unit_ids[0], "S9")


def test_editor_plan_is_a_checked_given_plan_with_the_checkers_violations(grid_plan):
    ed = Editor(grid_plan)
    d = ed.district
    i, j = boundary_moves(d, grid_plan.positions, np.random.default_rng(0), 1)[0]
    ed.move(d.unit_ids[i], d.school_ids[j])
    plan = ed.plan
    assert plan.summary["status"] == "given"
    assert plan.summary["violations"] == ed.violations
    assert plan.assignment[d.unit_ids[i]] == d.school_ids[j]
    report = check_plan(d, ed.scenario, plan.positions, summary=plan.summary)
    assert set(report.violations) == set(ed.violations)  # no figure mismatch on top


def test_reoptimize_keeps_the_hand_edits_and_returns_a_checked_plan(grid_plan, tmp_path):
    ed = Editor(grid_plan)
    d = ed.district
    # Two moves that keep every rule, so the search starts from the edited plan.
    moves, rng = [], np.random.default_rng(5)
    while len(moves) < 2:
        i, j = boundary_moves(d, ed.positions, rng, 1)[0]
        ed.move(d.unit_ids[i], d.school_ids[j])
        if ed.violations or i in {m[0] for m in moves}:
            ed.undo()
        else:
            moves.append((i, j))
    edited = ed.positions
    plan = ed.reoptimize(time_limit=2)
    for i, _ in moves:
        assert plan.positions[i] == edited[i]  # the edits stay where the committee put them
        assert plan.district.units["locked_school"].iat[i] == d.school_ids[edited[i]]
    report = check_plan(plan.district, plan.scenario, plan.positions, summary=plan.summary)
    assert report.ok, report.violations
    assert ed.plan is plan and (ed.positions == plan.positions).all()
    assert_figures_match_full_recomputation(ed)
    assert grid_plan.district.units["locked_school"].isna().all()  # the caller's data untouched
    ed.undo()
    assert (ed.positions == edited).all()


def test_figures_stay_exact_over_moves_at_2000_units(big):
    """Figures and the checker's violations after each move on the synthetic 2,000-unit district
    (its speed is measured by ``python -m benchmarks.editor``, not here)."""
    plan = checked(Plan.from_assignment(big, Scenario(), big.status_quo))
    ed = Editor(plan)
    for i, j in boundary_moves(big, plan.positions, np.random.default_rng(1), 30):
        ed.move(big.unit_ids[i], big.school_ids[j])
        assert isinstance(ed.violations, list)
    assert_figures_match_full_recomputation(ed)


def test_zone_sums_after_moves_equal_sums_made_from_scratch(grid_plan):
    from zoneopt.desk.figures import ZoneSums

    d = grid_plan.district
    sums = ZoneSums(d, grid_plan.scenario, grid_plan.positions)
    moves = boundary_moves(d, grid_plan.positions, np.random.default_rng(9), 15)
    for i, j in moves:
        sums.apply(np.array([i]), np.array([j]))
    fresh = ZoneSums(d, grid_plan.scenario, sums.pos)
    assert sums.figures == pytest.approx(fresh.figures)
    pd.testing.assert_frame_equal(sums.schools, fresh.schools, check_exact=False, rtol=1e-12)
