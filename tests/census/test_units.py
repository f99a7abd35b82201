"""build_units / write_units on the sample files, checked against figures computed by hand.

Sample numbers: data/samples/make_samples.py. Children 5-10 = B01001 _004 + _028 + (_005 + _029)/5.
"""

from __future__ import annotations

import math
import shutil
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from zoneopt.census import CensusWarning, build_units, largest_remainder, write_units
from zoneopt.errors import ZoneoptInputError
from zoneopt.io import read_units
from zoneopt.validate import validate_units

# Children aged 5-10 per block group, by hand from the sample's B01001.
AGE = {
    "060670001011": 62 + 55 + (70 + 66) / 5,  # 144.2
    "060670001012": 552.0 / 7590 * 1620,  # missing band: tract 0001.01's ratio x its 1620 people
    "060670001013": 40 + 38 + (45 + 41) / 5,  # 95.2
    "060670001014": 85 + 80 + (90 + 77) / 5,  # 198.4
    "060670001015": 0 + 25 + (30 + 0) / 5,  # 31
    "060670001016": 35 + 33 + (40 + 36) / 5,  # 83.2
    "060670001021": 110 + 98 + (105 + 101) / 5,  # 249.2
    "060670001022": 0.0,
    "060670001023": 50 + 47 + (52 + 49) / 5,  # 117.2
    "060670001024": 70 + 64 + (66 + 60) / 5,  # 159.2
    "060670001025": 45 + 42 + (50 + 47) / 5,  # 106.4
    "060670001026": 52 + 49 + (55 + 51) / 5,  # 122.2
}
# Low-income share (C17002 _002.._006 / _001) by hand.
SHARE = {
    "060670001011": 236 / 1210,
    "060670001012": 407 / 1057,
    "060670001013": 89 / 927,
    "060670001014": 675 / 1140,
    "060670001015": 70 / 795,
    "060670001016": 255 / 800,
    "060670001021": 860 / 1260,
    # 0001.02-2 has nobody in the poverty universe and 0001.02-3 is suppressed: both take the
    # share of their tract's other block groups, (860 + 0 + 350 + 100 + 175) / (1260 + 0 + 1000
    # + 1000 + 900) = 1485 / 4160.
    "060670001022": 1485 / 4160,
    "060670001023": 1485 / 4160,
    "060670001024": 350 / 1000,
    "060670001025": 100 / 1000,
    "060670001026": 175 / 900,
}


def _build(samples, *, acs=None, quiet=True, **kwargs):
    tables = acs or [samples["c17002_csv"], samples["b01001_json"], samples["b19013_csv"]]
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", CensusWarning)
        return build_units(samples["bg_zip"], tables, **kwargs)


def test_students_total_spread_by_children_and_exact(samples):
    units = _build(samples, students_total=1200)
    ids = units["unit_id"].tolist()
    assert ids == sorted(AGE)
    assert units["age_5_10"].to_numpy() == pytest.approx([AGE[i] for i in ids])
    expected = largest_remainder([AGE[i] for i in ids], 1200)
    assert units["students"].tolist() == expected.tolist()
    # By hand: the weights sum to 1424.018; quotas 121.515, 99.284, 80.224, 167.189, 26.123,
    # 70.111, 209.997, 0, 98.763, 134.156, 89.662, 102.976; the floors leave 5 students, which go
    # to the 5 largest remainders (.997, .976, .763, .662, .515).
    assert expected.tolist() == [122, 99, 80, 167, 26, 70, 210, 0, 99, 134, 90, 103]
    assert int(units["students"].sum()) == 1200
    assert units["students"].dtype == np.int64 and units["low_income"].dtype == np.int64


def test_low_income_is_students_times_share_rounded(samples):
    units = _build(samples, students_total=1200).set_index("unit_id")
    for gid, share in SHARE.items():
        assert units.loc[gid, "low_income_share"] == pytest.approx(share)
        n = units.loc[gid, "students"]
        assert units.loc[gid, "low_income"] == math.floor(n * share + 0.5)
    # By hand for 0001.01-1: 122 students (see the next test), 122 x 236 / 1210 = 23.8 -> 24.
    assert units.loc["060670001011", "low_income"] == 24


def test_margins_reliability_and_flags(samples):
    units = _build(samples, students_total=1200).set_index("unit_id")
    row = units.loc["060670001011"]
    assert row["low_income_share_moe"] == pytest.approx(0.047128, abs=1e-6)
    assert row["low_income_share_cv"] == pytest.approx(0.146888, abs=1e-6)
    assert row["reliability"] == "medium"
    assert row["age_5_10_moe"] == pytest.approx(math.sqrt(25**2 + 22**2 + (28**2 + 26**2) / 25))
    assert row["median_household_income"] == 78250
    assert not row["imputed"]
    for gid in ("060670001022", "060670001023"):
        assert units.loc[gid, "low_income_source"] == "tract"
        assert units.loc[gid, "reliability"] == "imputed"
        assert units.loc[gid, "flag_low_income_imputed"] and units.loc[gid, "imputed"]
        assert math.isnan(units.loc[gid, "low_income_share_moe"])
    assert units.loc["060670001012", "age_5_10_source"] == "tract by population"
    assert units.loc["060670001012", "flag_age_imputed"]
    assert units.loc["060670001015", "median_household_income_note"] == "top-coded"
    assert units.loc["060670001014", "reliability"] == "high"  # CV 0.099
    assert units["imputed"].sum() == 3


def test_imputations_are_reported_in_a_warning(samples):
    with pytest.warns(CensusWarning, match="2 from the tract.*1 from the tract by population"):
        _build(samples, quiet=False, students_total=100)


def test_both_acs_formats_give_the_same_units(samples, to_api_json, tmp_path):
    csv_units = _build(samples, students_total=1000)
    json_c17002 = to_api_json(samples["c17002_csv"], tmp_path / "c17002.json")
    json_b19013 = to_api_json(samples["b19013_csv"], tmp_path / "b19013.json")
    json_units = _build(
        samples, acs=[json_c17002, samples["b01001_json"], json_b19013], students_total=1000
    )
    # "250,000+" in the CSV is 250001 in the API, "***" is -333333333: both read the same.
    pd.testing.assert_frame_equal(
        pd.DataFrame(csv_units.drop(columns="geometry")),
        pd.DataFrame(json_units.drop(columns="geometry")),
    )


def test_boundary_clips_units_and_scales_their_counts(samples):
    whole = _build(samples, students_total=1200).set_index("unit_id")
    units = _build(samples, boundary=samples["boundary"], students_total=1200).set_index("unit_id")
    assert "060670001026" not in units.index and len(units) == 11
    for gid in ("060670001022", "060670001024"):
        f = units.loc[gid, "inside_fraction"]
        assert f == pytest.approx(0.5, abs=1e-4)
        assert units.loc[gid, "flag_clipped"]
        assert units.loc[gid, "age_5_10"] == pytest.approx(AGE[gid] * f)
        assert units.loc[gid, "low_income_share"] == whole.loc[gid, "low_income_share"]
    assert units.loc["060670001024", "poverty_universe"] == pytest.approx(1000 * 0.5, rel=1e-4)
    weights = [AGE[g] * units.loc[g, "inside_fraction"] for g in units.index]
    assert units["students"].tolist() == largest_remainder(weights, 1200).tolist()
    assert units.crs.to_epsg() == 4269


def test_students_from_points_with_low_income(samples):
    pts = gpd.read_file(samples["students"])
    lon = pts["lon"].astype(float).to_numpy()
    lat = pts["lat"].astype(float).to_numpy()
    low = pts["low_income"].astype(int).to_numpy()
    with pytest.warns(UserWarning, match="fall in no unit"):
        units = _build(samples, students=samples["students"], boundary=samples["boundary"])
    assert units.attrs["students_outside"] > 5  # 5 east of the grid, more in the cut-off parts
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(units.crs)
    for _, row in units.iterrows():
        inside = points.within(row.geometry).to_numpy()
        assert row["students"] == inside.sum()
        assert row["low_income"] == low[inside].sum()
    assert units.attrs["students_outside"] == len(lon) - units["students"].sum()


def test_students_from_points_without_low_income_use_the_share(samples, tmp_path):
    path = tmp_path / "students.csv"
    table = pd.read_csv(samples["students"]).drop(columns="low_income")
    table.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="fall in no unit"):
        units = _build(samples, students=path)
    for _, row in units.iterrows():
        assert row["low_income"] == math.floor(row["students"] * SHARE[row["unit_id"]] + 0.5)
    assert units["students"].sum() == 395


def test_student_frame_with_bad_low_income_is_refused(samples):
    pts = gpd.GeoDataFrame({"low_income": [0, 2]}, geometry=gpd.points_from_xy([0, 0], [0, 0]), crs=4326)
    with pytest.raises(ZoneoptInputError, match="0 or 1"):
        build_units(samples["bg_zip"], [samples["c17002_csv"]], students=pts)


def test_points_with_low_income_need_no_c17002(samples):
    with pytest.warns(UserWarning, match="fall in no unit"):
        units = _build(samples, acs=[samples["b01001_json"]], students=samples["students"])
    assert units["students"].sum() == 395
    assert (units["low_income_source"] == "missing").all()
    assert not units["flag_low_income_imputed"].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"students_total": 10, "students": "x.csv"}, "exactly one"),
        ({"students_total": -1}, "whole number"),
        ({"students_total": 10.5}, "whole number"),
    ],
)
def test_exactly_one_student_source(samples, kwargs, message):
    with pytest.raises(ZoneoptInputError, match=message):
        build_units(samples["bg_zip"], [samples["c17002_csv"]], **kwargs)


def test_missing_tables_name_what_to_download(samples):
    with pytest.raises(ZoneoptInputError, match="B01001"):
        build_units(samples["bg_zip"], [samples["c17002_csv"]], students_total=10)
    with pytest.raises(ZoneoptInputError, match="C17002"):
        build_units(samples["bg_zip"], [samples["b01001_json"]], students_total=10)


def test_tables_of_another_place_are_refused(samples, tmp_path):
    other = tmp_path / "other.csv"
    text = samples["c17002_csv"].read_text().replace("US06067", "US06113")  # Yolo, not Sacramento
    other.write_text(text)
    with pytest.raises(ZoneoptInputError, match="covers other places"):
        build_units(samples["bg_zip"], [other, samples["b01001_json"]], students_total=10)


def test_published_tract_figure_is_preferred_for_the_fallback(samples, tmp_path):
    path = tmp_path / "with_tract.csv"
    tract_row = (
        '"1400000US06067000102","Census Tract 1.02; Sacramento County; California",'
        '"5000","300","500","80","400","70","300","60","200","50","100","40","100","40",'
        '"3400","200",\n'
    )
    path.write_text(samples["c17002_csv"].read_text() + tract_row)
    units = _build(samples, acs=[path, samples["b01001_json"]], students_total=1200)
    units = units.set_index("unit_id")
    assert units.loc["060670001023", "low_income_share"] == pytest.approx(1500 / 5000)
    assert units.loc["060670001021", "low_income_share"] == pytest.approx(860 / 1260)


def test_blocks_take_their_block_groups_figures(samples):
    """Blocks (15-digit GEOIDs) with block-group tables: the share of their block group, the
    children of their block group in proportion to their 2020 population."""
    bg = gpd.read_file(samples["bg_zip"])
    rows = []
    for _, r in bg.iterrows():
        x0, y0, x1, y1 = r.geometry.bounds
        mid = (x0 + x1) / 2
        for j, (geom, pop) in enumerate(
            ((shapely.box(x0, y0, mid, y1), 300), (shapely.box(mid, y0, x1, y1), 100))
        ):
            rows.append({"GEOID20": r["GEOID20"] + f"{j:03d}", "POP20": pop, "geometry": geom})
    blocks = gpd.GeoDataFrame(rows, crs=bg.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CensusWarning)
        units = build_units(
            blocks, [samples["c17002_csv"], samples["b01001_json"]], students_total=1000
        ).set_index("unit_id")
    west = units.loc["060670001011000"]
    assert west["low_income_share"] == pytest.approx(SHARE["060670001011"])
    assert west["low_income_source"] == "block group"
    assert west["age_5_10"] == pytest.approx(AGE["060670001011"] / 1850 * 300)
    assert west["age_5_10_source"] == "block group by population"
    assert units["students"].sum() == 1000


def test_tract_units_sum_their_block_groups(samples):
    bg = gpd.read_file(samples["bg_zip"])
    tracts = bg.dissolve(by="TRACTCE20", as_index=False)
    tracts["GEOID"] = "06067" + tracts["TRACTCE20"]
    tracts = tracts[["GEOID", "geometry"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CensusWarning)
        units = build_units(
            tracts, [samples["c17002_csv"], samples["b01001_json"]], students_total=1000
        ).set_index("unit_id")
    t1 = units.loc["06067000101"]
    assert t1["low_income_source"] == "unit"
    assert t1["low_income_share"] == pytest.approx(
        (236 + 407 + 89 + 675 + 70 + 255) / (1210 + 1057 + 927 + 1140 + 795 + 800)
    )
    # One block group of tract 0001.01 lacks its children count: the tract's sum would be short,
    # so the tract takes the county's ratio of children to people times its people.
    assert t1["age_5_10_source"] == "county by population"
    t2 = units.loc["06067000102"]
    assert t2["age_5_10_source"] == "unit"
    assert t2["age_5_10"] == pytest.approx(sum(AGE[g] for g in AGE if g.startswith("06067000102")))
    # Tract 0001.02 holds a suppressed block group: its own share is not complete.
    assert t2["low_income_source"] == "county"


def test_written_units_are_a_valid_contract_units_file(samples, tmp_path):
    units = _build(samples, boundary=samples["boundary"], students_total=1200)
    before = units.copy()
    path = write_units(units, tmp_path / "out" / "units.gpkg")
    assert path.exists() and not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    back = read_units(path)
    checked = validate_units(back, source=str(path))
    assert checked["unit_id"].tolist() == units["unit_id"].tolist()
    assert checked["students"].tolist() == units["students"].tolist()
    assert checked["low_income"].tolist() == units["low_income"].tolist()
    assert back.crs.to_epsg() == 4269
    assert back["reliability"].tolist() == units["reliability"].tolist()
    pd.testing.assert_frame_equal(pd.DataFrame(units), pd.DataFrame(before))
    geojson = write_units(units, tmp_path / "units.geojson")
    assert len(read_units(geojson)) == len(units)
    shp = read_units(write_units(units, tmp_path / "shp" / "units.shp"))
    assert shp["low_income"].tolist() == units["low_income"].tolist()  # not the truncated extras
    assert shp.crs.to_epsg() == 4269
    with pytest.raises(ZoneoptInputError, match=".gpkg"):
        write_units(units, tmp_path / "units.xlsx")


def test_unzipped_block_groups_and_gpkg_input_give_the_same_units(samples, tmp_path):
    import zipfile

    with zipfile.ZipFile(samples["bg_zip"]) as z:
        z.extractall(tmp_path)
    shp = next(tmp_path.glob("*.shp"))
    tables = [samples["c17002_csv"], samples["b01001_json"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CensusWarning)
        a = build_units(samples["bg_zip"], tables, students_total=777)
        b = build_units(shp, tables, students_total=777)
    assert a["students"].tolist() == b["students"].tolist()
    shutil.rmtree(tmp_path)
