"""Fuzzing the readers (issue 8): whatever the files hold, ``zoneopt optimize`` ends with a plan or a
clear message, never a traceback.

Hypothesis writes random tables and geometries (missing, renamed and extra columns; numbers, text,
blanks, NaN, negative and huge values; null, empty, invalid, point, line, far-away and swapped
geometries; missing or wrong CRS) as GeoPackage, GeoJSON and CSV files, and random bytes, and runs the
command line on them. The exit status must be 0, 2, 3 or 4 and ``main`` must not raise.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from zoneopt.cli import main

UTM = "EPSG:32610"
X0, Y0 = 630_000.0, 4_270_000.0
CELL = 1000.0
EXIT_CODES = {0, 2, 3, 4}

FUZZ = settings(
    max_examples=35,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)

# ----------------------------------------------------------------------------- value strategies

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                max_size=8)
_NUMBER_TEXT = st.one_of(
    st.integers(-10, 400).map(str),
    st.sampled_from(["", " ", "NaN", "nan", "inf", "-inf", "1e400", "12.5", "3,5", "0x10",
                     "１２", "999999999999999999999", "None", "null", "-0"]),
    _TEXT,
)


def _column(kind: str, n: int) -> st.SearchStrategy:
    """n values of one type (files hold typed columns), with missing values mixed in."""
    if kind == "int":
        value = st.one_of(st.integers(-20, 400), st.integers(-(2**62), 2**62))
    elif kind == "float":
        value = st.floats(allow_nan=True, allow_infinity=True, width=64)
    else:
        value = _NUMBER_TEXT
    return st.lists(st.one_of(st.none(), value) if kind != "int" else value,
                    min_size=n, max_size=n)


def _ids(n: int, prefix: str) -> st.SearchStrategy:
    good = [f"{prefix}{i}" for i in range(n)]
    return st.one_of(
        st.just(good),
        st.lists(st.one_of(st.sampled_from(good), st.none(), _TEXT), min_size=n, max_size=n),
        st.just(list(range(n))),  # numbers as ids
    )


@st.composite
def _geometry(draw, i: int, n_cols: int, broken: bool):
    r, c = divmod(i, n_cols)
    x, y = X0 + c * CELL, Y0 + r * CELL
    cell = box(x, y, x + CELL, y + CELL)
    if not broken:
        return cell
    kind = draw(st.sampled_from(
        ["cell"] * 3 + ["none", "empty", "point", "line", "bowtie", "flat", "far", "tiny", "multi"]
    ))
    if kind == "cell":
        return cell
    if kind == "none":
        return None
    if kind == "empty":
        return Polygon()
    if kind == "point":
        return cell.centroid
    if kind == "line":
        return LineString([(x, y), (x + CELL, y + CELL)])
    if kind == "bowtie":
        return Polygon([(x, y), (x + CELL, y + CELL), (x + CELL, y), (x, y + CELL), (x, y)])
    if kind == "flat":
        return Polygon([(x, y), (x + CELL, y), (x + CELL / 2, y), (x, y)])
    if kind == "far":
        return box(x + 50 * CELL, y, x + 51 * CELL, y + CELL)
    if kind == "tiny":
        return box(x, y, x + 1e-6, y + 1e-6)
    return cell.union(box(x + 3 * CELL, y + 3 * CELL, x + 3.5 * CELL, y + 3.5 * CELL))


#: What a units example may get wrong; each example breaks a random few (often none, so that the
#: solve path is fuzzed too).
ASPECTS = ("ids", "students", "low_income", "references", "columns", "geometry", "crs")


@st.composite
def unit_frames(draw):
    broken = draw(st.sets(st.sampled_from(ASPECTS), max_size=3))
    n_rows, n_cols = draw(st.integers(1, 2)), draw(st.integers(1, 4))
    n = n_rows * n_cols
    students = draw(st.lists(st.integers(0, 300), min_size=n, max_size=n))
    low = [draw(st.integers(0, s)) for s in students]
    data = {
        "unit_id": draw(_ids(n, "U")) if "ids" in broken else [f"U{i}" for i in range(n)],
        "students": (_pick(draw, n) if "students" in broken else students),
        "low_income": (_pick(draw, n) if "low_income" in broken else low),
    }
    school_ids = ["S0", "S1"]
    for col in ("current_school", "locked_school"):
        if draw(st.booleans()):
            value = st.one_of(st.none(), st.sampled_from(school_ids))
            if "references" in broken:
                value = st.one_of(value, _TEXT)
            data[col] = draw(st.lists(value, min_size=n, max_size=n))
    if "columns" in broken:
        for old in list(data):
            action = draw(st.sampled_from(["keep", "drop", "upper", "typo"]))
            if action == "drop":
                data.pop(old)
            elif action == "upper":
                data[old.upper()] = data.pop(old)
            elif action == "typo":
                data[old[:-1]] = data.pop(old)
    if draw(st.booleans()):
        data["extra"] = draw(_column("text", n))
    geoms = [draw(_geometry(i, n_cols, "geometry" in broken)) for i in range(n)]
    crs = "utm" if "crs" not in broken else draw(
        st.sampled_from(["wgs84", "wgs84-swapped", "metres-as-degrees", "none"]))
    if "crs" not in broken and draw(st.booleans()):
        crs = "wgs84"
    return data, geoms, crs


def _pick(draw, n: int) -> list:
    return draw(_column(draw(st.sampled_from(["int", "float", "text"])), n))


@st.composite
def school_tables(draw):
    """A schools CSV as text: random headers and cells, coordinates near the grid or anywhere."""
    m = draw(st.integers(1, 3))
    frame = gpd.GeoSeries(
        [Point(X0 + (0.5 + 1.1 * j) * CELL, Y0 + 0.5 * CELL) for j in range(m)], crs=UTM
    ).to_crs("EPSG:4326")
    lon = [f"{p.x:.6f}" for p in frame]
    lat = [f"{p.y:.6f}" for p in frame]
    coords = draw(st.sampled_from(["good", "swapped", "garbage", "projected"]))
    if coords == "swapped":
        lon, lat = lat, lon
    elif coords == "garbage":
        lon = draw(st.lists(_NUMBER_TEXT, min_size=m, max_size=m))
    elif coords == "projected":
        lon, lat = [str(X0 + 500)] * m, [str(Y0 + 500)] * m
    columns = {
        "school_id": [f"S{j}" for j in range(m)] if draw(st.booleans()) else draw(
            st.lists(st.one_of(_TEXT, st.just("S0")), min_size=m, max_size=m)),
        "capacity": draw(st.one_of(st.lists(st.integers(1, 5000).map(str), min_size=m,
                                            max_size=m),
                                   st.lists(_NUMBER_TEXT, min_size=m, max_size=m))),
        "lon": lon,
        "lat": lat,
        "name": draw(st.lists(_TEXT, min_size=m, max_size=m)),
    }
    for old in list(columns):
        action = draw(st.sampled_from(["keep"] * 5 + ["drop", "rename"]))
        if action == "drop":
            columns.pop(old)
        elif action == "rename":
            columns[old.title()] = columns.pop(old)
    sep = draw(st.sampled_from([",", ";", "\t"]))
    header = sep.join(columns)
    rows = [sep.join(str(v).replace(sep, " ").replace("\n", " ") for v in vals)
            for vals in zip(*columns.values(), strict=True)]
    return "\n".join([header, *rows]) + "\n"


# ------------------------------------------------------------------------------------ running


def _units_file(folder: Path, data: dict, geoms: list, crs: str, fmt: str) -> Path | None:
    frame = gpd.GeoDataFrame(data, geometry=geoms, crs=UTM)
    if crs == "wgs84":
        frame = frame.to_crs("EPSG:4326")
    elif crs == "wgs84-swapped":
        frame = frame.to_crs("EPSG:4326")
        frame["geometry"] = frame.geometry.map(
            lambda g: None if g is None or g.is_empty else _swap(g)
        )
    elif crs == "metres-as-degrees":
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    elif crs == "none":
        frame = frame.set_crs(None, allow_override=True)
    path = folder / f"units.{fmt}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame.to_file(path, driver="GPKG" if fmt == "gpkg" else "GeoJSON")
    except Exception:  # noqa: BLE001 - a frame GDAL cannot write is not a reader test
        return None
    return path


def _swap(geom):
    import shapely

    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def _good_schools(folder: Path) -> Path:
    frame = gpd.GeoSeries(
        [Point(X0 + 0.5 * CELL, Y0 + 0.5 * CELL), Point(X0 + 2.5 * CELL, Y0 + 0.5 * CELL)],
        crs=UTM).to_crs("EPSG:4326")
    path = folder / "schools.csv"
    pd.DataFrame({"school_id": ["S0", "S1"], "capacity": [2000, 2000],
                  "lon": frame.x, "lat": frame.y}).to_csv(path, index=False)
    return path


def _good_units(folder: Path) -> Path:
    geoms = [box(X0 + c * CELL, Y0, X0 + (c + 1) * CELL, Y0 + CELL) for c in range(4)]
    frame = gpd.GeoDataFrame({"unit_id": [f"U{c}" for c in range(4)], "students": [50, 60, 70, 80],
                              "low_income": [5, 30, 35, 60]}, geometry=geoms, crs=UTM)
    path = folder / "units.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def _run(units: Path, schools: Path, folder: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["optimize", "--units", str(units), "--schools", str(schools),
                     "--out", str(folder / "out"), "--time-limit", "2", "--no-maps"])
    return code, err.getvalue()


def _assert_clear(code: int, err: str, folder: Path) -> None:
    assert code in EXIT_CODES, err
    assert "Traceback" not in err, err
    if code == 2:
        assert err.startswith("zoneopt: bad input: "), err
        assert not (folder / "out").exists()
    if code in (0, 3, 4):
        assert (folder / "out" / "summary.json").exists()


@FUZZ
@given(units=unit_frames(), fmt=st.sampled_from(["gpkg", "geojson"]))
def test_random_units_files_give_a_plan_or_a_clear_error(units, fmt):
    data, geoms, crs = units
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _units_file(folder, data, geoms, crs, fmt)
        if path is None:
            return
        code, err = _run(path, _good_schools(folder), folder)
        _assert_clear(code, err, folder)


@FUZZ
@given(text=school_tables())
def test_random_schools_csv_gives_a_plan_or_a_clear_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        schools = folder / "schools.csv"
        schools.write_text(text, encoding="utf-8")
        code, err = _run(_good_units(folder), schools, folder)
        _assert_clear(code, err, folder)


@settings(FUZZ, max_examples=25)
@given(blob=st.binary(max_size=300), which=st.sampled_from(
    ["units.gpkg", "units.geojson", "units.shp", "schools.csv", "schools.gpkg"]))
def test_random_bytes_are_a_clear_error(blob, which):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units, schools = _good_units(folder), _good_schools(folder)
        target = folder / which
        target.write_bytes(blob)
        if which.startswith("units"):
            units = target
        else:
            schools = target
        code, err = _run(units, schools, folder)
        _assert_clear(code, err, folder)
        assert code == 2 or which == "schools.csv"  # random bytes can happen to be a valid CSV


@settings(FUZZ, max_examples=20)
@given(capacity=st.floats(allow_nan=True, allow_infinity=True),
       students=st.floats(allow_nan=True, allow_infinity=True))
def test_random_numbers_in_frames_give_a_plan_or_an_input_error(capacity, students):
    """The Python API: from_frames with any float raises ZoneoptInputError or builds a district."""
    from zoneopt import District, ZoneoptInputError

    geoms = [box(X0 + c * CELL, Y0, X0 + (c + 1) * CELL, Y0 + CELL) for c in range(2)]
    units = gpd.GeoDataFrame({"unit_id": ["A", "B"], "students": [students, 10.0],
                              "low_income": [0, 5]}, geometry=geoms, crs=UTM)
    schools = gpd.GeoDataFrame({"school_id": ["S"], "capacity": [capacity]},
                               geometry=[Point(X0 + 500, Y0 + 500)], crs=UTM)
    try:
        district = District.from_frames(units, schools)
    except ZoneoptInputError as exc:
        assert str(exc)
        return
    assert math.isfinite(capacity) and capacity >= 1 and abs(capacity - round(capacity)) <= 1e-6
    assert np.all(district.students >= 0)
