"""`zoneopt travel`: the contract's columns, exit codes, barriers file."""

from __future__ import annotations

import pandas as pd
import pytest
from osm_districts import HELSINKI

from zoneopt.cli import main
from zoneopt.travel import TravelWarning


def test_travel_writes_the_contract_columns(helsinki_files, capsys):
    table = pd.read_csv(helsinki_files / "walk.csv", dtype={"unit_id": str, "school_id": str})
    assert list(table.columns) == ["unit_id", "school_id", "distance_km", "minutes"]
    assert table["distance_km"].gt(0).all() and table["minutes"].gt(0).all()
    assert not table.duplicated(["unit_id", "school_id"]).any()


def test_drive_with_max_km(helsinki_files, tmp_path, capsys):
    out = tmp_path / "drive.csv"
    with pytest.warns(TravelWarning, match=r"reach no school .*within 1.2 km .*: U0"):
        rc = main(["travel", "--units", str(helsinki_files / "units.gpkg"), "--schools",
                   str(helsinki_files / "schools.csv"), "--network", str(HELSINKI), "--mode",
                   "drive", "--out", str(out), "--max-km", "1.2"])
    assert rc == 0
    table = pd.read_csv(out)
    assert table["distance_km"].max() <= 1.2
    assert "drive distances" in capsys.readouterr().out


def test_bad_network_is_exit_2(helsinki_files, tmp_path, capsys):
    bad = tmp_path / "x.osm.pbf"
    bad.write_bytes(b"garbage")
    rc = main(["travel", "--units", str(helsinki_files / "units.gpkg"), "--schools",
               str(helsinki_files / "schools.csv"), "--network", str(bad), "--mode", "walk",
               "--out", str(tmp_path / "t.csv")])
    assert rc == 2
    assert "x.osm.pbf" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_bad_max_km_is_exit_2(helsinki_files, tmp_path, capsys):
    rc = main(["travel", "--units", str(helsinki_files / "units.gpkg"), "--schools",
               str(helsinki_files / "schools.csv"), "--network", str(HELSINKI), "--mode", "walk",
               "--out", str(tmp_path / "t.csv"), "--max-km", "0"])
    assert rc == 2 and "max-km" in capsys.readouterr().err
