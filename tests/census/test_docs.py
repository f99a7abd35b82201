"""The worked examples in the census docstrings run, on the shipped samples, and are right."""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["acs", "tiger", "students", "units", "nces", "fetch", "__init__"])
def test_docstring_examples(name, monkeypatch):
    module = importlib.import_module(
        "zoneopt.census" if name == "__init__" else f"zoneopt.census.{name}"
    )
    monkeypatch.chdir(REPO)  # the examples name data/samples/... as a planner would
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(
            module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False
        )
    assert result.failed == 0
