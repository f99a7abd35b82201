"""Bad input (issue 8, item 1): one clear message, exit status 2, in the CLI and in the Python API.

Every case is run twice: through ``zoneopt optimize`` (exit status 2, ``zoneopt: bad input:`` on stderr,
no output folder) and through the Python API (``District.from_files`` / ``District.from_frames`` /
``Scenario.from_toml`` / ``Scenario.from_dict`` raising :class:`ZoneoptInputError`). Each asserts the
key words of the message: the file, the id or row, the column, what is wrong and how to fix it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from districts import grid_frames, schools_csv_frame
from shapely.geometry import Point, Polygon

from zoneopt import District, Scenario, ZoneoptInputError
from zoneopt.cli import main
from zoneopt.validate import InputWarning

REPO = Path(__file__).resolve().parents[1]


def _base() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """A 3 x 3 grid in NAD83 degrees (as census files come) and its two schools as a lon/lat table."""
    units, schools = grid_frames(3, 3, [0, 8], seed=3)
    return units.to_crs("EPSG:4269"), schools_csv_frame(schools)


def _set(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


# ----------------------------------------------------------------------- data cases (frames)
# Each mutates the base frames; the same mutation is written to files (CLI, from_files) and passed
# as frames (from_frames), so the message is the same whichever door the data comes through.


@dataclass
class DataCase:
    name: str
    mutate: Callable[[gpd.GeoDataFrame, pd.DataFrame], tuple[gpd.GeoDataFrame, pd.DataFrame]]
    words: list[str]
    file_words: list[str] = field(default_factory=list)  # extra words when read from files


def _outside(units, schools):
    schools = schools.copy()
    schools.loc[1, ["lon", "lat"]] = [-121.0, 39.2]  # tens of km north-east of the grid
    return units, schools


def _in_gap(units, schools):
    # A school in the middle cell, whose unit is missing: a hole in the district, not outside it.
    centre = units.geometry.iloc[4].centroid
    units = units.drop(index=4).reset_index(drop=True)
    row = pd.DataFrame(
        {"school_id": ["S2"], "name": ["Middle"], "capacity": [900],
         "lon": [centre.x], "lat": [centre.y]}
    )
    return units, pd.concat([schools, row], ignore_index=True)


def _swapped_units(units, schools):
    units = units.to_crs("EPSG:4326")
    units["geometry"] = [
        Polygon([(y, x) for x, y in g.exterior.coords]) for g in units.geometry
    ]
    return units, schools


def _projected_as_degrees(units, schools):
    utm = units.to_crs(units.estimate_utm_crs())
    return utm.set_crs("EPSG:4326", allow_override=True), schools


def _points_as_units(units, schools):
    units = units.copy()
    units["geometry"] = units.geometry.representative_point()
    return units, schools


def _flat_polygon(units, schools):
    units = units.copy()
    x0, y0, x1, _ = units.geometry.iloc[5].bounds
    units.loc[5, "geometry"] = Polygon([(x0, y0), (x1, y0), ((x0 + x1) / 2, y0), (x0, y0)])
    return units, schools


DATA_CASES = [
    DataCase(
        "missing units column, near name",
        lambda u, s: (u.rename(columns={"students": "Student"}), s),
        ["'students'", "did you mean 'Student'", "column 'students'"],
        ["units.gpkg"],
    ),
    DataCase(
        "missing schools column, near name",
        lambda u, s: (u, s.rename(columns={"capacity": "capcity"})),
        ["'capacity'", "did you mean 'capcity'"],
        ["schools.csv"],
    ),
    DataCase(
        "non-numeric count",
        lambda u, s: (_set(u, 3, "students", "many"), s),
        ["U0003", "column 'students'", "'many' is not a number", "whole number"],
        ["units.gpkg"],
    ),
    DataCase(
        "negative count",
        lambda u, s: (_set(u, 2, "low_income", -3), s),
        ["U0002", "column 'low_income'", "-3", "0 or more"],
    ),
    DataCase(
        "fractional count",
        lambda u, s: (_set(u, 6, "students", 12.5), s),
        ["U0006", "column 'students'", "12.5 is not a whole number", "round it"],
    ),
    DataCase(
        "implausibly large count",
        lambda u, s: (_set(u, 1, "students", 1e15), s),
        ["U0001", "column 'students'", "implausibly large"],
    ),
    DataCase(
        "missing value cast to an integer",
        lambda u, s: (_set(u, 3, "low_income", np.iinfo(np.int64).min), s),
        ["U0003", "column 'low_income'", "is negative", "missing value that was cast"],
    ),
    DataCase(
        "low_income greater than students",
        lambda u, s: (_set(_set(u, 7, "students", 10), 7, "low_income", 11), s),
        ["U0007", "column 'low_income'", "low_income (11) is greater than students (10)",
         "between 0 and students"],
    ),
    DataCase(
        "missing value in a count",
        lambda u, s: (_set(u, 4, "students", None), s),
        ["U0004", "column 'students'", "is empty"],
    ),
    DataCase(
        "missing unit id",
        lambda u, s: (_set(u, 2, "unit_id", None), s),
        ["row 3", "column 'unit_id'", "has no unit_id", "unique id"],
    ),
    DataCase(
        "missing capacity",
        lambda u, s: (u, _set(s, 1, "capacity", "")),
        ["S1", "column 'capacity'", "is empty", "greater than 0"],
    ),
    DataCase(
        "duplicate unit ids",
        lambda u, s: (_set(u, 5, "unit_id", "U0001"), s),
        ["U0001", "appears 2 times", "rows 2, 6", "must be unique"],
    ),
    DataCase(
        "duplicate school ids",
        lambda u, s: (u, _set(s, 1, "school_id", "S0")),
        ["S0", "appears 2 times", "must be unique", "column 'school_id'"],
    ),
    DataCase(
        "unknown current_school",
        lambda u, s: (u.assign(current_school=["S0"] * 8 + ["S9"]), s),
        ["U0008", "column 'current_school'", "'S9' is not a school_id", "leave it empty"],
    ),
    DataCase(
        "unknown locked_school with a suggestion",
        lambda u, s: (u.assign(locked_school=[None] * 4 + ["s1"] + [None] * 4), s),
        ["U0004", "column 'locked_school'", "'s1' is not a school_id", "did you mean 'S1'"],
    ),
    DataCase(
        "units without a CRS",
        lambda u, s: (u.set_crs(None, allow_override=True), s),
        ["no coordinate reference system", "set_crs"],
    ),
    DataCase(
        "schools with lon and lat swapped",
        lambda u, s: (u, s.rename(columns={"lon": "lat", "lat": "lon"})),
        ["S0", "out of range", "swapped"],
    ),
    DataCase(
        "schools in projected numbers",
        lambda u, s: (u, s.assign(lon=630_500.0 + np.arange(len(s)), lat=4_270_500.0)),
        ["S0", "out of range", "projected"],
    ),
    DataCase(
        "units with lon and lat swapped",
        _swapped_units,
        ["U0000", "out of range", "longitude and latitude are swapped"],
    ),
    DataCase(
        "units in metres labelled as degrees",
        _projected_as_degrees,
        ["U0000", "out of range", "projected coordinates", "real CRS"],
    ),
    DataCase(
        "null geometry",
        lambda u, s: (_set(u, 2, "geometry", None), s),
        ["U0002", "column 'geometry'", "empty or missing geometry", "drop the row"],
    ),
    DataCase(
        "empty geometry",
        lambda u, s: (_set(u, 3, "geometry", Polygon()), s),
        ["U0003", "empty or missing geometry"],
    ),
    DataCase(
        "invalid polygon with no area",
        _flat_polygon,
        ["U0005", "no area", "redraw it"],
    ),
    DataCase(
        "points given as units",
        _points_as_units,
        ["U0000", "is a Point, not a polygon", "points were given as units"],
    ),
    DataCase(
        "school outside the district",
        _outside,
        ["S1", "falls in no unit", "outside the district's area", "km from the nearest unit",
         "check its coordinates"],
    ),
    DataCase(
        "school in a gap between units",
        _in_gap,
        ["S2", "falls in no unit", "gap between units", "close the gap"],
    ),
    DataCase(
        "zero capacity",
        lambda u, s: (u, _set(s, 0, "capacity", 0)),
        ["S0", "column 'capacity'", "0 is not allowed", "greater than 0"],
    ),
    DataCase(
        "negative capacity",
        lambda u, s: (u, _set(s, 1, "capacity", -40)),
        ["S1", "column 'capacity'", "-40 is not allowed", "greater than 0"],
    ),
]


def _write(tmp: Path, units: gpd.GeoDataFrame, schools: pd.DataFrame) -> tuple[Path, Path]:
    upath, spath = tmp / "units.gpkg", tmp / "schools.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio warns when writing a file without a CRS
        units.to_file(upath, driver="GPKG")
    schools.to_csv(spath, index=False)
    return upath, spath


def _cli(capsys, tmp: Path, units: Path, schools: Path, *extra: str) -> tuple[int, str]:
    out = tmp / "out"
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--out", str(out),
                 "--time-limit", "2", "--no-maps", *extra])
    err = capsys.readouterr().err
    if code == 2:
        assert not out.exists(), "bad input must not leave an output folder"
    return code, err


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.name)
def test_bad_data_exits_2_in_the_cli_with_a_precise_message(case, tmp_path, capsys):
    units, schools = _write(tmp_path, *case.mutate(*_base()))
    code, err = _cli(capsys, tmp_path, units, schools)
    assert code == 2, err
    assert err.startswith("zoneopt: bad input: ")
    assert "Traceback" not in err
    for word in case.words + case.file_words:
        assert word in err, f"{word!r} missing from: {err}"


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.name)
def test_bad_data_raises_from_files_with_the_same_message(case, tmp_path):
    units, schools = _write(tmp_path, *case.mutate(*_base()))
    with pytest.raises(ZoneoptInputError) as info:
        District.from_files(units, schools)
    for word in case.words + case.file_words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"
    assert info.value.file is not None


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.name)
def test_bad_frames_raise_from_frames_and_leave_the_frames_untouched(case, tmp_path):
    units, schools = case.mutate(*_base())
    units_before, schools_before = units.copy(), schools.copy()
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(units, schools)
    for word in case.words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"
    pd.testing.assert_frame_equal(units, units_before)
    pd.testing.assert_frame_equal(schools, schools_before)


# ------------------------------------------------------------------------ file-level cases


def _good(tmp: Path) -> tuple[Path, Path]:
    return _write(tmp, *_base())


FILE_CASES = {
    "units file does not exist": (
        lambda t: (t / "nowhere.gpkg", _good(t)[1]), ["nowhere.gpkg", "does not exist"]),
    "units file is empty (0 bytes)": (
        lambda t: (_touch(t / "units0.gpkg", b""), _good(t)[1]), ["units0.gpkg", "is empty"]),
    "units file is unreadable": (
        lambda t: (_touch(t / "junk.gpkg", b"\x00\x01not a geopackage" * 20), _good(t)[1]),
        ["junk.gpkg", "could not read the units file", "GeoPackage"]),
    "units file is a folder": (
        lambda t: (_mkdir(t / "folder.gpkg"), _good(t)[1]), ["folder.gpkg", "a folder"]),
    "units file has no features": (
        lambda t: (_touch(t / "u.geojson", b'{"type":"FeatureCollection","features":[]}'),
                   _good(t)[1]), ["u.geojson", "has no rows"]),
    "units given as a CSV table": (
        lambda t: (_table(t / "u.csv"), _good(t)[1]), ["u.csv", "geometry"]),
    "schools file is empty (0 bytes)": (
        lambda t: (_good(t)[0], _touch(t / "s0.csv", b"")), ["s0.csv", "is empty"]),
    "schools CSV has only a header": (
        lambda t: (_good(t)[0], _touch(t / "s1.csv", b"school_id,capacity,lon,lat\n")),
        ["s1.csv", "has no rows"]),
    "schools CSV without coordinates": (
        lambda t: (_good(t)[0], _touch(t / "s2.csv", b"school_id,capacity\nA,100\n")),
        ["s2.csv", "'lon' and 'lat'"]),
    "schools CSV with a blank coordinate": (
        lambda t: (_good(t)[0], _touch(t / "s3.csv", b"school_id,capacity,lon,lat\nA,100,,38.5\n")),
        ["s3.csv", "A (line 2)", "column 'lon'", "fill in the coordinate"]),
    "schools vector file without a CRS": (
        lambda t: (_good(t)[0], _points_without_crs(t / "s.gpkg")),
        ["s.gpkg", "schools have no coordinate reference system"]),
}


def _touch(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _table(path: Path) -> Path:
    units, _ = _base()
    pd.DataFrame(units.drop(columns="geometry")).to_csv(path, index=False)
    return path


def _points_without_crs(path: Path) -> Path:
    _, schools = _base()
    frame = gpd.GeoDataFrame(
        schools.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(schools.lon, schools.lat),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_file(path, driver="GPKG")
    return path


@pytest.mark.parametrize("name", list(FILE_CASES))
def test_unreadable_or_empty_files_exit_2_and_raise(name, tmp_path, capsys):
    build, words = FILE_CASES[name]
    units, schools = build(tmp_path)
    code, err = _cli(capsys, tmp_path, units, schools)
    assert code == 2, err
    with pytest.raises(ZoneoptInputError) as info:
        District.from_files(units, schools)
    for word in words:
        assert word in err, f"{word!r} missing from: {err}"
        assert word in str(info.value)


# ---------------------------------------------------------------------------- scenario cases

SCENARIO_CASES = {
    "unknown key with a suggestion": (
        "[constraints]\nmax_distance = 3\n", ["unknown key 'max_distance'", "max_distance_km"]),
    "unknown section": ("[constrains]\nmax_distance_km = 3\n", ["unknown section", "constraints"]),
    "negative distance": (
        "[constraints]\nmax_distance_km = -1\n", ["constraints.max_distance_km", "cannot be negative"]),
    "negative extra distance": (
        "[constraints]\nmax_extra_distance_km = -0.5\n", ["max_extra_distance_km", "negative"]),
    "utilization below 0": (
        "[constraints]\nmin_utilization = -0.1\n", ["constraints.min_utilization", "below 0"]),
    "max utilization 0": (
        "[constraints]\nmax_utilization = 0\n", ["constraints.max_utilization", "greater than 0"]),
    "min above max": (
        "[constraints]\nmin_utilization = 0.9\nmax_utilization = 0.8\n",
        ["min_utilization (0.9) is above max_utilization (0.8)", "lower the minimum"]),
    "moved share above 1": (
        "[constraints]\nmax_moved_share = 1.5\n", ["max_moved_share", "between 0 and 1"]),
    "text where a number goes": (
        "[constraints]\nmax_distance_km = 'far'\n", ["max_distance_km = 'far'", "not a number"]),
    "not TOML": ("[constraints\nmax_distance_km = 3\n", ["not valid TOML"]),
}


@pytest.mark.parametrize("name", list(SCENARIO_CASES))
def test_bad_scenario_exits_2_and_raises(name, tmp_path, capsys):
    text, words = SCENARIO_CASES[name]
    path = tmp_path / "policy.toml"
    path.write_text(text)
    units, schools = _good(tmp_path)
    code, err = _cli(capsys, tmp_path, units, schools, "--scenario", str(path))
    assert code == 2, err
    with pytest.raises(ZoneoptInputError) as info:
        Scenario.from_toml(path)
    for word in [*words, "policy.toml"]:
        assert word in err, f"{word!r} missing from: {err}"
        assert word in str(info.value)


def test_scenario_from_dict_names_the_key_and_the_fix():
    with pytest.raises(ZoneoptInputError, match="did you mean 'max_moved_share'"):
        Scenario.from_dict({"constraints": {"max_moved_shares": 0.2}})
    with pytest.raises(ZoneoptInputError, match="constraints.low_income_band cannot be negative"):
        Scenario.from_dict({"constraints": {"low_income_band": -0.1}})


def test_unknown_solver_exits_2_naming_the_available_ones(tmp_path, capsys):
    units, schools = _good(tmp_path)
    code, err = _cli(capsys, tmp_path, units, schools, "--solver", "gurobbi")
    assert code == 2
    assert "unknown solver 'gurobbi'" in err and "highs" in err and "cbc" in err.lower()


# --------------------------------------------------------------------- repaired, not rejected


def _bowtie(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    units = units.copy()
    x0, y0, x1, y1 = units.geometry.iloc[1].bounds
    # A self-intersecting ring over the same square: invalid, repairable into two triangles.
    units.loc[1, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    return units


def test_invalid_polygon_is_repaired_with_a_warning_that_names_it(tmp_path):
    units, schools = _base()
    units = _bowtie(units)
    upath, spath = _write(tmp_path, units, schools)
    with pytest.warns(InputWarning, match=r"repaired 1 invalid polygon.*U0001"):
        district = District.from_files(upath, spath)
    assert district.units.geometry.is_valid.all()
    with pytest.warns(InputWarning, match="U0001"):
        District.from_frames(units, schools)
    assert not units.geometry.iloc[1].is_valid  # the caller's frame is not repaired in place


def test_invalid_polygon_warning_reaches_the_command_line(tmp_path):
    units, schools = _base()
    upath, spath = _write(tmp_path, _bowtie(units), schools)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "zoneopt", "optimize", "--units", str(upath), "--schools",
         str(spath), "--out", str(tmp_path / "out"), "--time-limit", "3", "--no-maps"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "repaired 1 invalid polygon" in proc.stderr and "U0001" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_two_schools_in_one_unit_are_not_an_error(tmp_path, capsys):
    units, schools = _base()
    extra = schools.iloc[[0]].assign(school_id="S0b", name="Annex",
                                     lon=schools.lon.iloc[0] + 0.001)
    schools = pd.concat([schools, extra], ignore_index=True)
    upath, spath = _write(tmp_path, units, schools)
    district = District.from_files(upath, spath)
    assert district.home_unit[0] == district.home_unit[2]
    assert district.home_owner[2] == 0  # CONTRACT.md: the unit goes to one of them
    code, err = _cli(capsys, tmp_path, upath, spath)
    assert code == 0, err


def test_ids_are_read_as_text_and_counts_as_whole_numbers(tmp_path):
    units, schools = _base()
    units = units.assign(unit_id=np.arange(9) * 10, students=units.students.astype(float))
    schools = schools.assign(capacity=schools.capacity.astype(float))
    district = District.from_frames(units, schools)
    assert list(district.unit_ids[:3]) == ["0", "10", "20"]
    assert district.students.dtype == np.int64
    assert units.unit_id.dtype != object  # the caller's frame keeps its own types


def test_message_parts_are_available_to_programs(tmp_path):
    units, schools = _base()
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(_set(units, 4, "students", "n/a"), schools)
    err = info.value
    assert (err.row, err.column) == ("U0004", "students")
    assert "'n/a' is not a number" in err.detail


def test_school_exactly_on_the_boundary_of_two_units_is_not_an_error():
    units, schools = grid_frames(2, 2, [0])
    corner = units.geometry.iloc[0].bounds
    schools.loc[0, "geometry"] = Point(corner[2], (corner[1] + corner[3]) / 2)
    district = District.from_frames(units, schools)
    assert district.home_unit[0] in (0, 1)


# ------------------------------------------------------------------------------- travel matrix

MATRIX_CASES = {
    "missing column": ("unit_id,school_id,km\nU0000,S0,1.0\n", ["column 'distance_km'",
                                                                  "needs columns"]),
    "negative distance": ("unit_id,school_id,distance_km\nU0000,S0,-2\n",
                          ["line 2", "'-2' is not a non-negative number of km"]),
    "text distance": ("unit_id,school_id,distance_km\nU0000,S0,far\n",
                      ["line 2", "'far' is not a non-negative number"]),
    "duplicate pair": ("unit_id,school_id,distance_km\nU0000,S0,1\nU0000,S0,2\n",
                       ["line 3", "(U0000, S0) appears twice"]),
    "missing id": ("unit_id,school_id,distance_km\n,S0,1\n", ["line 2", "has no unit_id"]),
    "unknown unit": ("unit_id,school_id,distance_km\nU9999,S0,1\n",
                     ["unit_id 'U9999' of the travel matrix is not a unit"]),
    "unknown school": ("unit_id,school_id,distance_km\nU0000,S7,1\n",
                       ["school_id 'S7' of the travel matrix is not a school"]),
    "empty file": ("", ["travel.csv", "is empty"]),
}


@pytest.mark.parametrize("name", list(MATRIX_CASES))
def test_bad_travel_matrix_exits_2_and_raises(name, tmp_path, capsys):
    text, words = MATRIX_CASES[name]
    (tmp_path / "travel.csv").write_text(text)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[travel]\nmatrix = "travel.csv"\n')
    units, schools = _good(tmp_path)
    code, err = _cli(capsys, tmp_path, units, schools, "--scenario", str(scenario))
    assert code == 2, err
    with pytest.raises(ZoneoptInputError) as info:
        District.from_files(units, schools, travel_matrix=tmp_path / "travel.csv")
    for word in [*words, "travel.csv"]:
        assert word in err, f"{word!r} missing from: {err}"
        assert word in str(info.value)


def test_missing_travel_matrix_names_the_scenario_key(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text('[travel]\nmatrix = "roads.csv"\n')
    units, schools = _good(tmp_path)
    code, err = _cli(capsys, tmp_path, units, schools, "--scenario", str(scenario))
    assert code == 2
    assert "roads.csv" in err and "does not exist" in err and "[travel] matrix" in err


def test_thousands_separator_in_a_count_is_explained(tmp_path, capsys):
    units, schools = _base()
    schools = schools.assign(capacity=["1,200", "900"])
    upath, spath = _write(tmp_path, units, schools)
    code, err = _cli(capsys, tmp_path, upath, spath)
    assert code == 2
    assert "'1,200' is not a number (remove the thousands separators" in err
    with pytest.raises(ZoneoptInputError, match="thousands separators"):
        District.from_frames(units, schools)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_schools_csv_saved_by_a_spreadsheet_is_read(encoding, tmp_path):
    units, schools = _base()
    upath, _ = _write(tmp_path, units, schools)
    spath = tmp_path / "schools.csv"
    schools.assign(name=["Escuela Peña", "École Saint-Léon"]).to_csv(spath, index=False,
                                                                     encoding=encoding)
    district = District.from_files(upath, spath)
    assert list(district.school_ids) == ["S0", "S1"]  # a byte-order mark does not hide school_id
    assert list(district.schools["name"]) == ["Escuela Peña", "École Saint-Léon"]
