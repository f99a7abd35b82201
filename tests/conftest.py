"""Shared fixtures: small districts, and a hypothesis profile sized for CI's two cores."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))
# The tests' own Dask clusters run without the workers' statistical profiler: on Python 3.11 before
# 3.11.9 its sys._current_frames() can deadlock with the garbage collector (CPython gh-106883; a
# clean clone's batch test hung here for 11 minutes). Dask reads this when it is first imported, and
# worker processes inherit it. zoneopt's own local clusters turn it off too (zoneopt.batch).
os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED", "False")

from districts import grid_frames  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("ZONEOPT_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.load_profile("ci")


@pytest.fixture
def grid_district():
    """A 6 x 8 grid with four schools, segregated west to east."""
    from zoneopt import District

    units, schools = grid_frames(6, 8, [9, 14, 33, 38], seed=1)
    return District.from_frames(units, schools)


@pytest.fixture
def grid_inputs(tmp_path):
    """The same grid written as the contract's input files (units.gpkg, schools.csv)."""
    from districts import schools_csv_frame

    units, schools = grid_frames(6, 8, [9, 14, 33, 38], seed=1)
    upath = tmp_path / "units.gpkg"
    spath = tmp_path / "schools.csv"
    units.to_crs("EPSG:4269").to_file(upath, driver="GPKG")
    schools_csv_frame(schools).to_csv(spath, index=False)
    return upath, spath
