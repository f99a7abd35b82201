"""Fixtures of the travel tests: districts over real OpenStreetMap extracts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from osm_districts import HELSINKI, OAKLAND, osm_grid_district  # noqa: E402


@pytest.fixture(scope="session")
def helsinki_frames():
    """6 x 4 grid units over central Helsinki, four schools on real streets."""
    return osm_grid_district(HELSINKI, 6, 4, [1, 10, 13, 22], seed=3)


@pytest.fixture(scope="session")
def oakland_frames():
    """3 x 3 grid units over West Oakland, two schools on real streets."""
    return osm_grid_district(OAKLAND, 3, 3, [0, 8], seed=4)


@pytest.fixture(scope="session")
def helsinki_files(tmp_path_factory, helsinki_frames):
    """The Helsinki district as input files, with its walk matrix and barriers written by the CLI."""
    from zoneopt.cli import main

    folder = tmp_path_factory.mktemp("helsinki")
    units, schools = helsinki_frames
    units.to_file(folder / "units.gpkg", driver="GPKG")
    schools.to_csv(folder / "schools.csv", index=False)
    rc = main(["travel", "--units", str(folder / "units.gpkg"), "--schools",
               str(folder / "schools.csv"), "--network", str(HELSINKI), "--mode", "walk",
               "--out", str(folder / "walk.csv"), "--barriers-out",
               str(folder / "barriers.geojson")])
    assert rc == 0
    return folder


__all__ = ["HELSINKI", "OAKLAND"]
