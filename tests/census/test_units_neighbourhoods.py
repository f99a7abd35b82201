"""`zoneopt units --neighbourhoods`: census places become a neighbourhoods file and a units column."""

from __future__ import annotations

import warnings

import geopandas as gpd

from zoneopt.cli import main
from zoneopt.io import read_units


def test_units_command_writes_places_as_neighbourhoods(samples, tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = gpd.read_file(samples["bg_zip"])
    west = bg.iloc[:3].geometry.union_all()
    places = gpd.GeoDataFrame({"GEOID": ["0699001"], "NAME": ["Westfield"],
                               "NAMELSAD": ["Westfield CDP"]}, geometry=[west], crs=bg.crs)
    places.to_file(tmp_path / "tl_2020_06_place.shp")
    out = tmp_path / "units.gpkg"
    args = ["units", "--block-groups", str(samples["bg_zip"]), "--acs", str(samples["c17002_csv"]),
            "--acs", str(samples["b01001_json"]), "--boundary", str(samples["boundary"]),
            "--students-total", "1200", "--neighbourhoods", str(tmp_path / "tl_2020_06_place.shp"),
            "--out", str(out)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args) == 0
    assert "neighbourhoods to" in capsys.readouterr().out
    hoods = gpd.read_file(tmp_path / "units_neighbourhoods.gpkg")
    assert list(hoods["name"]) == ["Westfield CDP"]
    units = read_units(out)
    inside = units["neighbourhood"].fillna("").eq("Westfield CDP")
    assert 1 <= inside.sum() < len(units)
