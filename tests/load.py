"""A busy thread beside a run: what a loaded machine does to a search that counts its work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _spin(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 31 + 7) % 1_000_003  # holds the GIL: the search thread gets a share of it only


@contextmanager
def busy_thread() -> Iterator[None]:
    """Run the body beside a thread that keeps the interpreter busy."""
    stop = threading.Event()
    busy = threading.Thread(target=_spin, args=(stop,), daemon=True)
    busy.start()
    try:
        yield
    finally:
        stop.set()
        busy.join()


__all__ = ["busy_thread"]
