"""The output folder gains public.html, report.pdf and addresses.csv; map.html and report.html
suppress small counts."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from desk_helpers import checked

from zoneopt import Plan
from zoneopt.cli import main
from zoneopt.desk.addresses import synthetic_addresses
from zoneopt.viz.maps import map_html
from zoneopt.viz.report import report_html


def test_save_writes_public_page_pdf_and_the_registrars_addresses(grid_plan, tmp_path):
    addresses = synthetic_addresses(grid_plan.district, 200, seed=3)
    path = tmp_path / "addresses.csv"
    addresses.to_csv(path, index=False)
    scenario = grid_plan.scenario.with_values({"report.addresses": str(path)})
    plan = checked(Plan.from_assignment(grid_plan.district, scenario, grid_plan.positions))
    out = plan.save(tmp_path / "out")
    assert (out / "public.html").stat().st_size > 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    table = pd.read_csv(out / "addresses.csv", dtype=str)
    assert list(table.columns[:8]) == ["address", "lon", "lat", "unit_id", "school_id_today",
                                       "school_today", "school_id_proposed", "school_proposed"]
    assert len(table) == 200
    sq = grid_plan.status_quo
    for _, r in table.head(40).iterrows():
        assert r["school_id_today"] == sq[r["unit_id"]]
        assert r["school_id_proposed"] == grid_plan.assignment[r["unit_id"]]


def test_pdf_false_writes_no_pdf_and_no_addresses_writes_no_csv(grid_plan, tmp_path):
    scenario = grid_plan.scenario.with_values({"report.pdf": False})
    plan = checked(Plan.from_assignment(grid_plan.district, scenario, grid_plan.positions))
    out = plan.save(tmp_path / "out")
    assert (out / "public.html").exists()
    assert not (out / "report.pdf").exists() and not (out / "addresses.csv").exists()


def test_cli_rejects_a_bad_address_file_before_searching(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    bad = tmp_path / "addresses.csv"
    bad.write_text("address,lon,lat\n1 Main St,-121.5,north\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[report]\naddresses = "addresses.csv"\n', encoding="utf-8")
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--scenario",
                 str(scenario), "--out", str(tmp_path / "out"), "--time-limit", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "addresses.csv" in err and "line 2" in err and "lat" in err
    assert not (tmp_path / "out").exists()


def unit_data(page: str) -> list[dict]:
    m = re.search(r"zoneoptDecode\((\[.*?\])\);\nvar zoneoptSchools", page, flags=re.DOTALL)
    return [f["p"] for f in json.loads(m.group(1))]


@pytest.fixture(scope="module")
def suppressed(grid_plan):
    scenario = grid_plan.scenario.with_values({"report.suppress_below": 100})
    return checked(Plan.from_assignment(grid_plan.district, scenario, grid_plan.positions))


def test_map_embeds_no_unit_count_or_share_below_the_threshold(suppressed):
    page = map_html(suppressed)
    units = suppressed.district.units
    for p, (_, u) in zip(unit_data(page), units.iterrows(), strict=True):
        if u["students"] < 100:
            assert p["s"] == "<100" and p["p"] in ("hidden", None) and p["k"] == -1
        else:
            assert p["s"] == u["students"]
        if min(u["low_income"], u["students"] - u["low_income"]) < 100:
            assert p["p"] in ("hidden", None) and p["k"] == -1
    assert "fewer than 100 (hidden)" in page


def test_report_table_shows_less_than_n_and_hides_derived_shares(suppressed):
    page = report_html(suppressed)
    table = suppressed.schools_table
    for _, r in table.iterrows():
        row = re.search(rf'data-school-id="{r["school_id"]}">(.*?)</tr>', page, flags=re.DOTALL)
        found = re.findall(r'data-column="(\w+)" data-value="([^"]*)"[^>]*>([^<]*)<',
                           row.group(1))
        cells = {c: text for c, _, text in found}
        raw = {c: value for c, value, _ in found}
        for col in ("students_gained", "students_lost"):
            if r[col] < 100:
                assert cells[col] == "&lt;100" and raw[col] == ""  # not even in data-value
        if min(r["low_income_after"], r["enrollment_after"] - r["low_income_after"]) < 100:
            assert cells["low_income_share_after"] == "hidden"
    assert "counts below 100 are shown as" in page


def test_per_year_figures_and_years_csv_go_into_the_pdf(grid_plan, tmp_path):
    import shutil
    import subprocess

    from zoneopt.desk.outputs import write_desk_outputs

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is absent (apt-get install -y poppler-utils)")
    plan = checked(Plan.from_assignment(grid_plan.district, grid_plan.scenario,
                                        grid_plan.positions))
    plan.summary["years"] = {"2027": {"max_utilization": 0.97, "dissimilarity": 0.031},
                             "2028": {"max_utilization": 0.99, "dissimilarity": 0.034}}
    pd.DataFrame({"school_id": ["S0"], "year": [2027], "series": ["mid"], "enrollment": [900],
                  "capacity": [1057], "utilization": [0.851], "low_income_share": [0.4],
                  "plan": ["proposed"]}).to_csv(tmp_path / "years.csv", index=False)
    write_desk_outputs(plan, tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Enrollment and capacity use by year, proposed zones (series mid)" in text
    assert re.search(r"School 0\s+900\s+85%", text)
    assert "The district year by year" in text and re.search(r"2028\s+0\.990\s+0\.034", text)
