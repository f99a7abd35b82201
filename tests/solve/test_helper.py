"""The step helper (zoneopt.solve.helper): on large districts the second core solves search steps.

Where a step is solved never changes the plan: with the helper, without it (one core) and after it
was killed mid-run, the same inputs give the same assignment. The district here is small; the
threshold that makes a district "large" is lowered so that the helper runs."""

from __future__ import annotations

import logging
import signal
import time

import numpy as np
import pytest
from districts import grid_frames
from workers import signal_first_worker

from zoneopt import District, Scenario, optimize, settings

SCENARIO = Scenario.from_dict({"solver": {"work_budget": 0.1},
                               "constraints": {"max_extra_distance_km": 4.0}})


@pytest.fixture(scope="module")
def district():
    # Twelve schools: room for two groups of four zones that share no school.
    cells = [15, 20, 25, 60, 65, 70, 110, 115, 120, 160, 165, 170]
    units, schools = grid_frames(14, 14, cells, seed=11)
    return District.from_frames(units, schools)


@pytest.fixture
def large(monkeypatch):
    """Make the district count as large: batches of two groups, the helper on the second core."""
    monkeypatch.setattr(settings, "PROOF_WORKER_MAX_PAIRS", 50)
    monkeypatch.setattr(settings, "HELPER_MIN_UNITS", 50)
    monkeypatch.delenv("ZONEOPT_NO_WORKER", raising=False)


def _lns_entries(plan):
    return [t for t in plan.trace if t["source"].startswith("lns(")]


@pytest.mark.slow
def test_the_helper_changes_where_steps_are_solved_never_the_plan(district, large, monkeypatch,
                                                                  caplog):
    from zoneopt.solve.helper import StepHelper

    caplog.set_level(logging.WARNING, logger="zoneopt")
    sent: list[list[int]] = []
    submit = StepHelper.submit

    def counted(self, group, current, seconds, *rules):
        # On a busy machine the helper may still be starting when the search's few batches run;
        # wait for it here, so that the test always compares steps solved on the helper.
        deadline = time.monotonic() + 120
        while not self.ready and not self.failed and time.monotonic() < deadline:
            self.conn.poll(0.05)
            self.poll()
        ok = submit(self, group, current, seconds, *rules)
        if ok:
            sent.append(list(group))
        return ok

    monkeypatch.setattr(StepHelper, "submit", counted)
    with_helper = optimize(district, SCENARIO, time_limit=300)
    assert "search helper" not in caplog.text, caplog.text
    assert sent, "the helper solved no step: the test proves nothing"
    monkeypatch.setenv("ZONEOPT_NO_WORKER", "1")
    alone = optimize(district, SCENARIO, time_limit=300)
    for plan in (with_helper, alone):
        assert plan.check().ok
        assert plan.summary["stopped_by"] in ("work_budget", "proof")
    assert _lns_entries(with_helper), "the search never improved: the test proves nothing"
    assert np.array_equal(with_helper.positions, alone.positions)
    assert with_helper.summary["objective"] == alone.summary["objective"]
    # The LP cut rounds (zoneopt.bounds.lp_cuts) ran on the helper between steps, and here
    # after the search without it: the same counted rounds, the same bound.
    assert "lp_cuts" in with_helper.summary["bounds"]
    assert with_helper.summary["bounds"] == alone.summary["bounds"]
    assert with_helper.summary["bound"] == alone.summary["bound"]
    # ... as many rounds as the work budget allows: a tenth of the default, like every count
    from zoneopt.bounds.lp_cuts import ROUNDS, lp_cuts_bound
    from zoneopt.model import eligible_pairs

    rounds = lp_cuts_bound(district, SCENARIO, eligible_pairs(district, SCENARIO),
                           round(0.1 * ROUNDS))
    assert rounds.detail["finished"]
    assert alone.summary["bounds"]["lp_cuts"] == rounds.value


@pytest.mark.slow
def test_a_helper_killed_mid_run_changes_nothing(district, large, caplog):
    caplog.set_level(logging.WARNING, logger="zoneopt")
    reference = optimize(district, SCENARIO, time_limit=300)
    killer, killed = signal_first_worker(signal.SIGKILL)
    plan = optimize(district, SCENARIO, time_limit=300)
    killer.join()
    assert killed, "the helper never started"
    assert "the search solves every step in this process" in caplog.text
    assert np.array_equal(plan.positions, reference.positions)
    assert plan.check().ok


def test_combined_groups_respect_the_moved_budget(district, large):
    """Zones of different groups interact only through the moved-students budget: a batch whose
    two improvements together would move too many students keeps only the better one."""
    tight = SCENARIO.with_values({"constraints.max_moved_share": 0.12,
                                  "solver.work_budget": 0.1})
    plan = optimize(district, tight, time_limit=120)
    report = plan.check()
    assert report.ok, report.violations
    assert plan.summary["moved_share"] <= 0.12 + 1e-9


def _batch_with_two_improving_groups(district, moved_share: float):
    """A batch of two groups whose fake steps each move one unit (objective: minus units moved)."""
    from zoneopt.solve import search

    scenario = SCENARIO.with_values({"constraints.max_moved_share": moved_share})
    current = district.status_quo.copy()
    groups = [[0, 1, 2, 3], [8, 9, 10, 11]]
    moves = {}
    for g in groups:  # move one unit of the group's first zone to the group's second school
        unit = int(np.flatnonzero(current == g[0])[-1])
        moves[tuple(g)] = (unit, g[1])

    def fake_solve(district_, scenario_, eligible_, plan, group, solver, deadline, potential="hops"):
        out = plan.copy()
        unit, school = moves[tuple(group)]
        out[unit] = school
        return out, False, 0

    def objective(plan):
        return -float((plan != district.status_quo).sum())

    batches = search._Batches(district, scenario, None, current, objective, time.perf_counter() + 60,
                              "highs", None, None)
    batches.pending = [list(g) for g in groups]
    return batches, fake_solve, moves


def test_a_batch_combines_the_improvements_of_groups_that_share_no_school(district, monkeypatch):
    from zoneopt.solve import search

    batches, fake_solve, moves = _batch_with_two_improving_groups(district, 1.0)
    monkeypatch.setattr(search, "solve_group", fake_solve)
    assert batches.run() is False
    changed = set(np.flatnonzero(batches.current != district.status_quo).tolist())
    assert changed == {unit for unit, _ in moves.values()}
    assert batches.steps == 2 and batches.value == -2.0


def test_a_batch_whose_combination_breaks_the_moved_budget_keeps_one_group(district, monkeypatch):
    from zoneopt.solve import search

    s = district.students.astype(float)
    batches, fake_solve, moves = _batch_with_two_improving_groups(district, 1.0)
    units = [unit for unit, _ in moves.values()]
    # room for the larger of the two moved units, not for both
    share = (max(s[units]) + 0.5) / s.sum()
    batches, fake_solve, moves = _batch_with_two_improving_groups(district, share)
    monkeypatch.setattr(search, "solve_group", fake_solve)
    batches.run()
    changed = np.flatnonzero(batches.current != district.status_quo)
    assert len(changed) == 1, "the combination that moves too many students was taken"
    assert batches.value == -1.0
