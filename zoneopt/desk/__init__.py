"""The planner's desk and the public: the what-if editor, public.html, report.pdf, addresses.

- :class:`Editor`: move units by hand, undo, re-optimise around the edits; a notebook widget.
- :func:`public_html`: the page for families (today's and proposed school of an address).
- :func:`report_pdf`: the report for print (letter size).
- :func:`addresses_table`, :func:`read_addresses`: each address with today's and the proposed
  school (addresses.csv).
- :mod:`.suppress`: small-count suppression for every public-facing output.
"""

from __future__ import annotations

from typing import Any

from .editor import Editor

__all__ = ["Editor", "public_html", "report_pdf", "addresses_table", "read_addresses"]

_LAZY = {
    "public_html": ("public", "public_html"),
    "report_pdf": ("pdf", "report_pdf"),
    "addresses_table": ("addresses", "addresses_table"),
    "read_addresses": ("addresses", "read_addresses"),
}


def __getattr__(name: str) -> Any:
    # The page and print builders import folium and matplotlib: only when asked for.
    if name in _LAZY:
        from importlib import import_module

        module, attr = _LAZY[name]
        return getattr(import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(name)
