"""Paths of the shipped sample census files (data/samples) for the census tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture
def samples() -> dict[str, Path]:
    return {
        "bg_zip": SAMPLES / "tl_2020_06_bg_sample.zip",
        "c17002_csv": SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv",
        "b01001_json": SAMPLES / "acs2022_B01001_api_sample.json",
        "b19013_csv": SAMPLES / "ACSDT5Y2022.B19013-Data_sample.csv",
        "boundary": SAMPLES / "district_boundary_sample.geojson",
        "nces": SAMPLES / "EDGE_GEOCODE_PUBLICSCH_2223_sample.csv",
        "capacity": SAMPLES / "school_capacity_sample.csv",
        "students": SAMPLES / "students_points_sample.csv",
    }


def csv_to_api_json(csv_path: Path, out: Path) -> Path:
    """Rewrite a data.census.gov CSV as the Census API would answer the same query."""
    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False, skiprows=[1])
    raw = raw.loc[:, [not c.startswith("Unnamed") for c in raw.columns]]
    geoid = raw["GEO_ID"].str.split("US").str[1]
    values = [c for c in raw.columns if c not in ("GEO_ID", "NAME")]
    header = ["NAME", *values, "state", "county", "tract", "block group"]
    rows = [header]
    for i in range(len(raw)):
        cells = []
        for c in values:
            v = raw[c].iloc[i]
            # The API's codes for what data.census.gov shows as annotations, and its top code.
            codes = {"-": "-666666666", "**": "-999999999", "***": "-333333333", "*****": "-555555555"}
            if v.endswith("+"):
                v = str(int(v[:-1].replace(",", "")) + 1)
            cells.append(codes.get(v, v))
        g = geoid.iloc[i]
        rows.append([raw["NAME"].iloc[i], *cells, g[:2], g[2:5], g[5:11], g[11:]])
    out.write_text(json.dumps(rows), encoding="utf-8")
    return out


@pytest.fixture
def to_api_json():
    return csv_to_api_json
