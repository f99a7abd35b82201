"""The planner's desk and the public: the what-if editor, public.html, report.pdf, addresses.

- :class:`Editor`: move units by hand, undo, re-optimise around the edits; a notebook widget.
- :func:`public_html`: the page for families (today's and proposed school of an address).
- :func:`report_pdf`: the report for print (letter size).
- :func:`addresses_table`: each address with today's and the proposed school (addresses.csv).
- :mod:`.suppress`: small-count suppression for every public-facing output.
"""

from .editor import Editor

__all__ = ["Editor"]
