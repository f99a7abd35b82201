"""`python -m zoneopt` runs the command line."""

from .cli import entry

entry()
