import pytest

from zoneopt import io


def test_atomic_directory_leaves_the_old_folder_when_writing_fails(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous plan")
    with pytest.raises(RuntimeError), io.atomic_directory(out) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert (out / "keep.txt").read_text() == "previous plan"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_json_writes_infinity_as_text(tmp_path):
    path = io.write_json(tmp_path / "a.json", {"x": float("inf"), "y": [1.5, float("nan")]})
    assert path.read_text() == '{\n  "x": "inf",\n  "y": [\n    1.5,\n    null\n  ]\n}\n'


def test_schools_csv_with_swapped_coordinates_is_explained(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("school_id,capacity,lon,lat\nA,100,38.5,-121.4\n")
    from zoneopt import ZoneoptInputError

    with pytest.raises(ZoneoptInputError, match="swapped"):
        io.read_schools(path)


def test_outputs_are_readable_by_others_as_the_umask_allows(tmp_path):
    import os
    import stat

    os.umask(0o022)
    f = io.write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(f.stat().st_mode) == 0o644
    with io.atomic_directory(tmp_path / "out") as tmp:
        (tmp / "b.txt").write_text("y")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_shapefiles_keep_their_sidecar_files(tmp_path, grid_district):
    import geopandas as gpd

    path = io.write_vector(tmp_path / "units.shp", grid_district.units[["unit_id", "geometry"]])
    assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".shx", ".dbf", ".prj"}
    assert len(gpd.read_file(path)) == 48


def test_every_bad_coordinate_of_a_schools_csv_is_reported_at_once(tmp_path):
    from zoneopt import ZoneoptInputError
    from zoneopt.io import read_schools

    path = tmp_path / "schools.csv"
    path.write_text("school_id,capacity,lon,lat\nA,100,-121.4,38.5\nB,100,x,38.5\n"
                    "C,100,-121.4,\nD,100,38.5,-121.4\n", encoding="utf-8")
    with pytest.raises(ZoneoptInputError) as info:
        read_schools(path)
    rows = [(p.row, p.column) for p in info.value.problems]
    assert rows == [("B (line 3)", "lon"), ("C (line 4)", "lat"), ("D (line 5)", "lat")]
    assert "lon and lat are swapped" in str(info.value)
