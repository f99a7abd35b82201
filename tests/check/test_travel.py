"""The checker's own distances (check/travel.py) are read once per district and file version."""

from __future__ import annotations

import os

import numpy as np
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.check.travel import own_distances


def test_own_distances_are_kept_per_district_and_reread_when_the_matrix_file_changes(tmp_path):
    units, schools = grid_frames(2, 3, [0, 5], seed=1)
    path = tmp_path / "matrix.csv"
    rows = [f"{u},{s},{1 + k}" for k, (u, s) in enumerate(
        (u, s) for u in units["unit_id"] for s in schools["school_id"])]
    path.write_text("unit_id,school_id,distance_km\n" + "\n".join(rows) + "\n")
    d = District.from_frames(units, schools, sources={"travel_matrix": str(path)})
    first, source = own_distances(d, Scenario())
    assert source == "matrix.csv" and first[0, 0] == 1 and not first.flags.writeable
    assert own_distances(d, Scenario())[0] is first  # no second read for the same file
    path.write_text("unit_id,school_id,distance_km\n" + "\n".join(
        r.rsplit(",", 1)[0] + ",9" for r in rows) + "\n")
    os.utime(path, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    again, _ = own_distances(d, Scenario())
    assert np.all(again == 9)
    straight, source = own_distances(District.from_frames(units, schools), Scenario())
    assert source == "straight_line" and np.isclose(straight[0, 0], 0.0, atol=1e-9)
