"""The checker's own travel rules (zoneopt/check/travel.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from districts import grid_frames  # noqa: E402

from zoneopt import District, Scenario  # noqa: E402
from zoneopt.check import check_plan  # noqa: E402
from zoneopt.check.travel import check_travel, own_distances, rook_pairs  # noqa: E402
from zoneopt.plan import Plan


def _matrix_file(district: District, path: Path, scale: float = 1.4) -> Path:
    rows = [(u, s, float(district.dist_km[i, j]) * scale + 0.05)
            for i, u in enumerate(district.unit_ids) for j, s in enumerate(district.school_ids)]
    pd.DataFrame(rows, columns=["unit_id", "school_id", "distance_km"]).to_csv(path, index=False)
    return path


def test_distances_are_re_read_from_the_matrix_file(tmp_path):
    units, schools = grid_frames(3, 3, [0, 8], seed=0)
    plain = District.from_frames(units, schools)
    path = _matrix_file(plain, tmp_path / "roads.csv")
    with_matrix = District.from_frames(units, schools, sources={"travel_matrix": str(path)},
                                       travel_matrix=pd.read_csv(path, dtype=str).astype(
                                           {"distance_km": float}))
    d, source = own_distances(with_matrix, Scenario())
    assert source == "roads.csv"
    assert np.allclose(d, with_matrix.dist_km)
    # A plan scored on straight lines while the scenario names the matrix is caught: the checker
    # re-reads the file and its distance figures differ from the summary's.
    scenario = Scenario.from_dict({"travel": {"matrix": str(path)}})
    violations, figures = check_travel(plain, scenario, plain.status_quo)
    assert figures["distance_source"] == "roads.csv"
    summary = Plan.from_assignment(plain, Scenario(), plain.status_quo).summary
    text = " ".join(check_plan(with_matrix, scenario, plain.status_quo, summary=summary).violations)
    assert "distance_source='straight_line', checker finds 'roads.csv'" in text


def test_walk_zone_count_and_summary_source_are_compared(tmp_path):
    units, schools = grid_frames(3, 3, [0, 8], seed=0)
    d = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"walk_zone_km": 1.1}})
    sq = d.status_quo
    summary = {"distance_source": "roads.csv", "walk_zone_units": 99}
    report = check_plan(d, scenario, sq, summary=summary)
    text = " ".join(report.violations)
    assert "distance_source='roads.csv', checker finds 'straight_line'" in text
    assert "walk_zone_units=99" in text
    assert report.figures["walk_zone_units"] == 6  # each school cell and its two neighbours


def test_rook_pairs_ignore_corners():
    units, _ = grid_frames(2, 2, [0], seed=0)
    geoms = units.geometry.to_numpy()
    assert sorted(rook_pairs(geoms)) == [(0, 1), (0, 2), (1, 3), (2, 3)]
