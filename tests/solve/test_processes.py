"""A worker runs with the parent's settings, even those a notebook changed after import."""

import multiprocessing as mp
import signal

from zoneopt import settings
from zoneopt.solve.processes import send_payload, settings_snapshot, worker_pipe


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
