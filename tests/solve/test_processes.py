"""A worker runs with the parent's settings, even those a notebook changed after import."""

import multiprocessing as mp
import signal

from zoneopt import settings
from zoneopt.solve.processes import (
    LockedConn,
    report_error,
    send_payload,
    settings_snapshot,
    worker_pipe,
)


def test_the_worker_side_applies_the_settings_the_parent_sent(monkeypatch):
    parent, child = mp.Pipe(duplex=True)
    monkeypatch.setattr(settings, "LNS_NODE_LIMIT", 7)
    monkeypatch.setattr(settings, "LNS_STEP_POTENTIALS", ("zones",))
    send_payload(parent, ("work",))
    # What a freshly spawned worker would hold: the module's own values.
    monkeypatch.setattr(settings, "LNS_NODE_LIMIT", 400)
    monkeypatch.setattr(settings, "LNS_STEP_POTENTIALS", ("hops", "zones"))
    seen = {}
    handler = signal.getsignal(signal.SIGINT)  # worker_pipe leaves Ctrl-C to the parent
    try:
        with worker_pipe(child):
            seen["payload"] = child.recv()
            seen["nodes"], seen["rules"] = settings.LNS_NODE_LIMIT, settings.LNS_STEP_POTENTIALS
    finally:
        signal.signal(signal.SIGINT, handler)
    assert seen == {"payload": ("work",), "nodes": 7, "rules": ("zones",)}


def test_the_snapshot_holds_only_plain_constants():
    snap = settings_snapshot()
    assert snap["LNS_NODE_LIMIT"] == settings.LNS_NODE_LIMIT
    assert all(name.isupper() for name in snap)
    assert all(isinstance(v, (bool, int, float, str, tuple)) for v in snap.values())


def test_a_worker_reports_its_error_and_stays_quiet_when_the_parent_has_gone():
    parent, child = mp.Pipe()
    report_error(LockedConn(child), ValueError("no plan"))
    assert parent.recv() == {"error": "ValueError: no plan"}
    parent.close()  # the parent's search ended: a send now breaks the pipe
    try:
        child.send({"bound": 0.1})
    except (BrokenPipeError, OSError) as exc:
        report_error(LockedConn(child), exc)  # must not raise (it printed a traceback before)
    else:
        raise AssertionError("a send to a closed pipe should fail")
