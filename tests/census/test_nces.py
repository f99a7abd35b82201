"""NCES EDGE school geocodes joined with capacities, written as the contract's schools CSV."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest

from zoneopt.census import read_nces_schools, write_schools_csv
from zoneopt.errors import ZoneoptInputError
from zoneopt.io import read_schools
from zoneopt.validate import validate_schools


def _read(samples, **kw):
    with pytest.warns(UserWarning, match="1 schools of district 0699999 have no capacity"):
        return read_nces_schools(
            kw.get("geocode", samples["nces"]),
            leaid=kw.get("leaid", "0699999"),
            capacities=kw.get("capacities", samples["capacity"]),
        )


def test_district_schools_with_capacities(samples):
    schools = _read(samples)
    assert schools["school_id"].tolist() == ["069999900011", "069999900012", "069999900013"]
    assert schools["name"].tolist() == ["Alder Elementary", "Birch Elementary", "Cedar Elementary"]
    assert schools["capacity"].tolist() == [450, 450, 450]
    assert schools.crs.to_epsg() == 4326
    assert schools.loc[0, "lat"] == pytest.approx(38.504) and schools.loc[0, "lon"] == pytest.approx(-121.415)
    assert schools.geometry.iloc[0].x == pytest.approx(-121.415)


def test_ids_that_a_spreadsheet_turned_into_numbers_are_repaired(samples, tmp_path):
    table = pd.read_csv(samples["nces"], dtype=str)
    table["NCESSCH"] = table["NCESSCH"].astype(int)  # 69999900011: leading zero lost
    table["LEAID"] = table["LEAID"].astype(int)
    geocode = tmp_path / "edge.txt"
    table.to_csv(geocode, sep="\t", index=False)
    capacity = tmp_path / "cap.csv"
    capacity.write_text("ncessch,capacity\n69999900011,450.0\n69999900012,450\n69999900013,450\n")
    schools = _read(samples, geocode=geocode, capacities=capacity, leaid=699999)
    assert schools["school_id"].tolist() == ["069999900011", "069999900012", "069999900013"]


def test_geocode_file_as_a_shapefile_zip(samples, tmp_path):
    table = pd.read_csv(samples["nces"], dtype=str)
    frame = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["LON"].astype(float), table["LAT"].astype(float)),
        crs=4269,
    )
    path = tmp_path / "EDGE_GEOCODE_PUBLICSCH_2223.shp"
    frame.to_file(path)
    schools = _read(samples, geocode=path)
    assert len(schools) == 3 and schools["school_id"].iloc[1] == "069999900012"


def test_written_csv_is_a_valid_contract_schools_file(samples, tmp_path):
    schools = _read(samples)
    path = write_schools_csv(schools, tmp_path / "schools.csv")
    text = path.read_text().splitlines()
    assert text[0] == "school_id,name,capacity,lon,lat"
    assert text[1].startswith("069999900011,Alder Elementary,450,-121.415")
    checked = validate_schools(read_schools(path), source=str(path))
    assert checked["school_id"].tolist() == schools["school_id"].tolist()
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_unknown_school_in_the_capacity_file_is_an_error(samples, tmp_path):
    capacity = tmp_path / "cap.csv"
    capacity.write_text("NCESSCH,capacity\n069999800021,300\n")  # another district's school
    with pytest.raises(ZoneoptInputError, match="not a school of district 0699999") as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_nces_schools(samples["nces"], leaid="0699999", capacities=capacity)
    assert err.value.row == "069999800021"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("NCESSCH,seats\n069999900011,4\n", "capacity columns"),
        ("NCESSCH,capacity\n069999900011,0\n", "whole number of seats > 0"),
        ("NCESSCH,capacity\n069999900011,12.5\n", "whole number of seats > 0"),
        ("NCESSCH,capacity\n069999900011,5\n069999900011,6\n", "appears twice"),
    ],
)
def test_bad_capacity_files(samples, tmp_path, content, message):
    capacity = tmp_path / "cap.csv"
    capacity.write_text(content)
    with pytest.raises(ZoneoptInputError, match=message):
        read_nces_schools(samples["nces"], leaid="0699999", capacities=capacity)


def test_unknown_district_is_an_error(samples):
    with pytest.raises(ZoneoptInputError, match="no school has LEAID 0600001"):
        read_nces_schools(samples["nces"], leaid="0600001", capacities=samples["capacity"])
