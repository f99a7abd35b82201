"""Reproducible by default: the same inputs give the same plan at any load and any time limit large
enough for the work budget, with the proof worker on; and a killed worker changes nothing."""

from __future__ import annotations

import logging
import os
import signal
import time

import numpy as np
import pytest
from districts import grid_frames
from load import busy_thread
from workers import signal_first_worker

from zoneopt import District, Scenario, optimize

#: Small enough to be quick, big enough for the worker (>= 400 eligible pairs, >= 8 s).
SCENARIO = Scenario.from_dict({"solver": {"work_budget": 0.05}})


@pytest.fixture(autouse=True, scope="module")
def proof_on_the_worker():
    """This loose grid (no distance limit: root bound 0) would get a second search on the second
    core instead of the proof (zoneopt.solve.second_search, tested on its own); these tests are
    about the proof worker."""
    from zoneopt import settings

    saved = settings.HOPELESS_BOUND_SHARE
    settings.HOPELESS_BOUND_SHARE = 0.0
    yield
    settings.HOPELESS_BOUND_SHARE = saved


@pytest.fixture(scope="module")
def calm(district):
    """The reference run: no load, a generous time limit."""
    return optimize(district, SCENARIO, time_limit=300)


@pytest.fixture(scope="module")
def district():
    units, schools = grid_frames(10, 10, [11, 18, 55, 81, 88], seed=5)
    d = District.from_frames(units, schools)
    from zoneopt.model import eligible_pairs

    assert eligible_pairs(d, SCENARIO).sum() >= 400
    return d



@pytest.mark.slow
def test_same_plan_under_a_busy_thread_and_another_time_limit(district, calm):
    os.environ.pop("ZONEOPT_NO_WORKER", None)
    with busy_thread():
        loaded = optimize(district, SCENARIO, time_limit=200)
    for plan in (loaded, calm):
        assert plan.summary["stopped_by"] in ("work_budget", "proof"), plan.summary["stopped_by"]
        assert any(t["source"] == "proof done (exact MIP (worker))" for t in plan.trace), \
            "the proof did not run in the worker"
        assert plan.check().ok
    assert np.array_equal(loaded.positions, calm.positions)
    for key in ("objective", "bound", "gap", "status", "stopped_by"):
        assert loaded.summary[key] == calm.summary[key], key


@pytest.mark.slow
def test_a_worker_killed_mid_run_changes_nothing_but_where_the_proof_ran(district, calm, caplog):
    caplog.set_level(logging.WARNING, logger="zoneopt")
    reference = calm
    killer, killed = signal_first_worker(signal.SIGKILL)  # as an out-of-memory kill would
    t0 = time.perf_counter()
    plan = optimize(district, SCENARIO, time_limit=300)
    killer.join()
    assert killed, "the worker never started"
    assert "proving in this process" in caplog.text
    assert plan.summary["stopped_by"] in ("work_budget", "proof")
    assert plan.summary["bound"] == reference.summary["bound"]
    assert any(t["source"] == "proof done (exact MIP)" for t in plan.trace), "no proof in process"
    assert np.array_equal(plan.positions, reference.positions)
    assert time.perf_counter() - t0 < 300
    assert plan.check().ok


@pytest.mark.slow
def test_a_hung_worker_is_noticed_and_the_proof_runs_in_process(district, calm, caplog,
                                                                monkeypatch):
    from zoneopt import settings

    monkeypatch.setattr(settings, "WORKER_SILENCE_S", 3.0)
    # On a loaded machine the worker may be frozen before its first beat, when the start grace
    # (60 s by default) is what notices it: shortened, so the test stays quick either way.
    monkeypatch.setattr(settings, "WORKER_START_GRACE_S", 5.0)
    caplog.set_level(logging.WARNING, logger="zoneopt")
    freezer, stopped = signal_first_worker(signal.SIGSTOP)  # alive, never heard of again
    t0 = time.perf_counter()
    plan = optimize(district, SCENARIO, time_limit=300)
    freezer.join()
    assert stopped, "the worker never started"
    assert "(hung); proving in this process" in caplog.text
    assert any(t["source"] == "proof done (exact MIP)" for t in plan.trace), "no proof in process"
    assert plan.summary["stopped_by"] in ("work_budget", "proof")
    assert plan.summary["bound"] == calm.summary["bound"]
    assert np.array_equal(plan.positions, calm.positions)
    assert time.perf_counter() - t0 < 120, "the parent waited for the hung worker to the deadline"
    assert plan.check().ok
    for pid in stopped:  # the parent killed it; nothing must be left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_script_without_a_main_guard_can_start_the_worker(tmp_path):
    """A planner's plain script (no ``if __name__ == "__main__":``) must not run itself again in
    the spawned worker (which fails with multiprocessing's bootstrapping error)."""
    import subprocess
    import sys

    script = tmp_path / "plan_zones.py"
    script.write_text(
        "import numpy as np\n"
        "from districts import grid_frames\n"
        "from zoneopt import District, Scenario, optimize, settings\n"
        "settings.HOPELESS_BOUND_SHARE = 0.0  # the proof on the worker, not a second search\n"
        "units, schools = grid_frames(10, 10, [11, 18, 55, 81, 88], seed=5)\n"
        "plan = optimize(District.from_frames(units, schools),\n"
        "                Scenario.from_dict({'solver': {'work_budget': 0.05}}), time_limit=120)\n"
        "print('SOURCES', sorted({t['source'] for t in plan.trace}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(__file__) + "/..", os.environ.get("PYTHONPATH", "")])}
    env.pop("ZONEOPT_NO_WORKER", None)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "bootstrapping phase" not in out.stderr
    assert "proof done (exact MIP (worker))" in out.stdout, out.stdout + out.stderr[-2000:]
