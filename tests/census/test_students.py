"""Spreading a students total (largest remainder), counting student points, suppression."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zoneopt.census import (
    count_points,
    largest_remainder,
    read_block_groups,
    read_student_points,
    suppress_small_counts,
)
from zoneopt.errors import ZoneoptInputError


def test_largest_remainder_by_hand():
    # Quotas 10 x (0.5, 0.3, 0.2) = 5, 3, 2 exactly.
    assert largest_remainder([5, 3, 2], 10).tolist() == [5, 3, 2]
    # Quotas 7 x (1/3, 1/3, 1/3) = 2.33 each: floors 2, 2, 2 and one left, to the first tie.
    assert largest_remainder([1, 1, 1], 7).tolist() == [3, 2, 2]
    # Quotas 100 x (0.114, 0.333, 0.553) = 11.4, 33.3, 55.3: floors 11, 33, 55, the one
    # left goes to the largest remainder (0.4).
    assert largest_remainder([114, 333, 553], 100).tolist() == [12, 33, 55]
    assert largest_remainder([0, 4, 0], 9).tolist() == [0, 9, 0]
    assert largest_remainder([2, 3], 0).tolist() == [0, 0]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=40).filter(
        lambda w: sum(w) > 0
    ),
    total=st.integers(0, 100_000),
)
def test_largest_remainder_is_exact_and_within_one_of_each_quota(weights, total):
    parts = largest_remainder(weights, total)
    assert parts.dtype == np.int64
    assert int(parts.sum()) == total
    w = np.asarray(weights)
    quota = total * w / w.sum()
    assert (np.abs(parts - quota) < 1 + 1e-9).all()
    assert (parts[w == 0] == 0).all()


@pytest.mark.parametrize(
    ("weights", "total", "message"),
    [
        ([0, 0], 5, "no unit has any children"),
        ([1, -1], 5, ">= 0"),
        ([1, 1], -3, "whole number"),
        ([1, 1], 2.5, "whole number"),
    ],
)
def test_largest_remainder_rejects_bad_input(weights, total, message):
    with pytest.raises(ZoneoptInputError, match=message):
        largest_remainder(weights, total)


def test_points_are_counted_per_unit_and_outsiders_reported(samples):
    bg = read_block_groups(samples["bg_zip"])
    pts = read_student_points(samples["students"])
    assert len(pts) == 400 and set(pts["low_income"]) == {0, 1}
    with pytest.warns(UserWarning, match="5 of 400 student points fall in no unit"):
        students, low, outside = count_points(bg, pts)
    assert students.sum() == 395 and len(outside) == 5
    # Cross-check with a direct point-in-polygon test.
    for i, geom in enumerate(bg.geometry):
        inside = pts.geometry.within(geom)
        assert students[i] == inside.sum()
        assert low[i] == pts["low_income"][inside].sum()


def test_point_on_a_shared_edge_counts_once(tmp_path):
    units = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4326"
    )
    path = tmp_path / "s.csv"
    path.write_text("lon,lat\n1.0,0.5\n0.5,0.5\n")
    students, low, outside = count_points(units, read_student_points(path))
    assert students.tolist() == [2, 0] and low is None and len(outside) == 0


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ("x,y\n1,2\n", "needs 'lon'", None),
        ("lon,lat\n-121.4,38.5\n-121.4,abc\n", "not a lat", "line 3"),
        ("lon,lat\n38.5,-121.4\n", "not a lat", "line 2"),
        ("lon,lat,low_income\n-121.4,38.5,1\n-121.4,38.5,yes\n", "0 or 1", "line 3"),
    ],
)
def test_bad_student_files_name_the_line(tmp_path, content, message, line):
    path = tmp_path / "s.csv"
    path.write_text(content)
    with pytest.raises(ZoneoptInputError, match=message) as err:
        read_student_points(path)
    assert err.value.row == line


def test_suppression_blanks_small_counts_and_their_complements():
    t = pd.DataFrame({"unit_id": list("abcd"), "students": [120, 8, 40, 0], "low_income": [30, 2, 37, 0]})
    out = suppress_small_counts(t)
    assert out["students"].tolist() == [120, pd.NA, 40, 0]
    # b: both small; c: 37 of 40 gives away the 3 others; d: zeros disclose nobody.
    assert out["low_income"].tolist() == [30, pd.NA, pd.NA, 0]
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert t["students"].tolist() == [120, 8, 40, 0]  # input untouched
