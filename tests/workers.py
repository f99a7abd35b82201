"""Signalling zoneopt's worker process from a test, as the operating system would."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time


def signal_first_worker(sig: int, after_s: float = 1.0) -> tuple[threading.Thread, list[int]]:
    """Start a thread that sends ``sig`` to the first child process, ``after_s`` after it appears.

    Returns the thread (join it after the run) and the list that receives the signalled pid.
    """
    sent: list[int] = []

    def run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for child in mp.active_children():
                if child.is_alive() and child.pid:
                    time.sleep(after_s)  # let it start working first
                    os.kill(child.pid, sig)
                    sent.append(child.pid)
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, sent
