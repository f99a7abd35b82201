"""Process plumbing shared by the proof worker and the search's step helper.

Both are spawned (HiGHS's thread pool does not survive a fork), talk through one pipe, and beat
every ``settings.WORKER_HEARTBEAT_S`` so that the parent can tell a slow worker from a hung one.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.reduction import ForkingPickler


def silence(started: float, last_beat: float | None) -> float | None:
    """Seconds a worker has been silent when that means it hung, else None.

    A worker still starting (spawning, importing, reading the district) gets
    ``settings.WORKER_START_GRACE_S``; once it beats, ``settings.WORKER_SILENCE_S`` of silence means
    it hung (stopped, deadlocked, swapped out). Both times are ``time.monotonic()``, a system-wide
    clock, so a beat stamped by the worker says when it was alive even if it is read much later.
    """
    from .. import settings

    now = time.monotonic()
    if last_beat is None:
        quiet, allowed = now - started, settings.WORKER_START_GRACE_S
    else:
        quiet, allowed = now - last_beat, settings.WORKER_SILENCE_S
    return quiet if quiet > allowed else None


def drain(conn, proc, started: float, last_beat: float | None, handle,
          ) -> tuple[float | None, str]:
    """Read everything a worker sent; notice its death or its silence.

    Heartbeats move ``last_beat`` on; an error message, a closed pipe, a dead process or a silence
    (:func:`silence`) is a failure; every other message goes to ``handle``, which returns True to
    stop reading (an answer is in: the worker may exit right after it, which is no failure).

    Returns
    -------
    (last_beat, failure)
        The latest beat, and why the worker failed ("" when it did not), e.g. "exited".
    """
    try:
        while conn.poll():
            msg = conn.recv()
            if "heartbeat" in msg:
                last_beat = max(last_beat or 0.0, float(msg["heartbeat"]))
            elif "error" in msg:
                return last_beat, f"failed ({msg['error']})"
            elif handle(msg):
                return last_beat, ""
    except (EOFError, OSError):
        return last_beat, "exited"
    if not proc.is_alive():
        return last_beat, "exited"
    quiet = silence(started, last_beat)
    return last_beat, "" if quiet is None else f"sent nothing for {quiet:.0f} s (hung)"


@contextmanager
def main_module_hidden():
    """Start the worker without re-running the caller's script.

    A spawned child imports the parent's ``__main__`` from its path; a planner's plain script that
    calls :func:`optimize` without an ``if __name__ == "__main__":`` guard would then run itself
    again in the child and fail. The worker needs nothing from ``__main__`` (its target and payload
    are zoneopt's), so the path is hidden while the child is prepared.
    """
    import sys

    main = sys.modules.get("__main__")
    missing = object()
    saved = {a: getattr(main, a, missing) for a in ("__file__", "__spec__")} if main else {}
    try:
        if main is not None:
            main.__spec__ = None
            if saved["__file__"] is not missing:
                del main.__file__
        yield
    finally:
        for attr, value in saved.items():
            if value is not missing:
                setattr(main, attr, value)


def spawn_worker(target):
    """Start ``target(conn)`` in a spawned daemon process (HiGHS's thread pool does not survive a
    fork); returns the process and this side of its duplex pipe. Nothing goes through the
    process's arguments but its end of the pipe: send the work through the pipe (from a thread,
    so that a worker that dies at start can never block this process)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=target, args=(child,), daemon=True)
    with main_module_hidden():
        proc.start()
    child.close()
    return proc, parent


class LockedConn:
    """The worker's end of the pipe, shared by the proof and the heartbeat thread."""

    def __init__(self, conn) -> None:
        self.conn, self.lock = conn, threading.Lock()

    def send(self, msg) -> None:
        with self.lock:
            self.conn.send(msg)


def heartbeat(conn: LockedConn, stop: threading.Event) -> None:
    """Tell the parent every ``settings.WORKER_HEARTBEAT_S`` that the worker is alive.

    HiGHS releases the GIL while it solves, so the beats go on during long solves; a process
    that is stopped or frozen sends none, which is how the parent tells hung from slow.
    """
    from .. import settings

    while not stop.is_set():
        try:
            conn.send({"heartbeat": time.monotonic()})
        except (OSError, ValueError):
            return
        stop.wait(settings.WORKER_HEARTBEAT_S)


def settings_snapshot() -> dict[str, object]:
    """The tuning constants of :mod:`zoneopt.settings` as they are now in this process."""
    from .. import settings

    return {k: v for k, v in vars(settings).items()
            if k.isupper() and isinstance(v, (bool, int, float, str, tuple))}


def _payload_bytes(payload) -> tuple[bytes, bytes]:
    """The settings snapshot and the payload, pickled now."""
    return (bytes(ForkingPickler.dumps(settings_snapshot())),
            bytes(ForkingPickler.dumps(payload)))


def send_payload(conn, payload) -> None:
    """Send a worker its settings, then its work.

    A spawned worker imports :mod:`zoneopt.settings` afresh; a constant a notebook changed would
    otherwise hold in this process and not in the worker, and the same run would give another plan
    with a worker than without one.
    """
    for data in _payload_bytes(payload):
        conn.send_bytes(data)


def send_payload_soon(conn, payload) -> None:
    """:func:`send_payload` from a daemon thread, so that a worker that dies at start can never
    block this process (a pipe holds only so much). The payload is pickled here and now: this
    process goes on working and fills the district's cached properties meanwhile, and a dict that
    changes while another thread pickles it fails ("dictionary changed size during iteration").
    A send that fails (the worker died, or its pipe was closed when its answer was no longer
    needed) is left to the reader, which notices the worker is gone."""
    datas = _payload_bytes(payload)

    def send() -> None:
        try:
            for data in datas:
                conn.send_bytes(data)
        except (OSError, ValueError, TypeError):  # TypeError: the pipe was closed under us
            pass

    threading.Thread(target=send, daemon=True).start()


def apply_settings(snapshot: dict[str, object]) -> None:
    """Set the constants of :mod:`zoneopt.settings` from :func:`settings_snapshot`."""
    from .. import settings

    for name, value in snapshot.items():
        setattr(settings, name, value)


def report_error(out: LockedConn, exc: BaseException) -> None:
    """Tell the parent that the worker's work failed (it then does the work itself); nothing to
    tell when the parent has already closed the pipe (its search ended), which is also why the
    work failed with a broken pipe."""
    try:
        out.send({"error": f"{type(exc).__name__}: {exc}"})
    except (OSError, ValueError):
        pass


@contextmanager
def worker_pipe(conn) -> Iterator[LockedConn]:
    """A worker's side of the pipe while it works: Ctrl-C left to the parent, heartbeats going,
    the parent's settings applied (:func:`send_payload`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out = LockedConn(conn)
    stop = threading.Event()
    beat = threading.Thread(target=heartbeat, args=(out, stop), daemon=True)
    beat.start()
    try:
        try:
            apply_settings(conn.recv())
        except (EOFError, OSError):
            pass  # the parent went away: the worker's next read ends it
        yield out
    finally:
        stop.set()
        beat.join(timeout=5)
        conn.close()
