"""report.pdf: letter pages with title and page numbers, the summary, a row per school, extra
tables, suppression; read back with poppler's pdftotext and rendered with pdftoppm."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest
from desk_helpers import checked

from zoneopt import Plan, Scenario
from zoneopt.desk.pdf import ROWS_PER_PAGE, report_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils is absent (apt-get install -y poppler-utils; `make browser` does it)",
)


def pdf_text(path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:-1]  # one string per page


def pdf_info(path) -> dict:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


@pytest.fixture(scope="module")
def printed(grid_plan, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    years = pd.DataFrame({
        "school_id": ["S0", "S1"], "year": [2028, 2028], "series": ["mid", "mid"],
        "enrollment": [812, 640], "capacity": [1000, 1000], "utilization": [0.812, 0.64],
        "low_income_share": [0.41, 0.5], "plan": ["proposed", "proposed"],
    })
    path.write_bytes(report_pdf(grid_plan, extra_tables=[("Enrollment by year", years)],
                                title="Grid district: 2027 proposal"))
    return path


def test_pages_are_letter_with_title_and_page_numbers(printed):
    info = pdf_info(printed)
    assert "612 x 792 pts (letter)" in info["Page size"]
    pages = pdf_text(printed)
    assert int(info["Pages"]) == len(pages) == 3  # summary + map, schools, extra table
    for k, page in enumerate(pages, start=1):
        assert "Grid district: 2027 proposal" in page
        assert f"Page {k} of {len(pages)}" in page


def test_summary_and_one_row_per_school_with_its_figures(printed, grid_plan):
    pages = pdf_text(printed)
    s = grid_plan.summary
    assert "Dissimilarity index" in pages[0]
    assert f"{100 * s['dissimilarity_before']:.1f}%" in pages[0]
    assert f"{100 * s['dissimilarity_after']:.1f}%" in pages[0]
    assert "Proposed attendance zones" in pages[0]
    table = grid_plan.schools_table
    for _, r in table.iterrows():
        line = next(ln for ln in pages[1].splitlines() if ln.strip().startswith(r["name"]))
        cells = line.split()
        assert f"{r['enrollment_before']:,}" in cells and f"{r['enrollment_after']:,}" in cells
        assert f"{100 * r['low_income_share_after']:.1f}%" in cells


def test_extra_table_is_printed_on_its_own_page(printed):
    page = pdf_text(printed)[2]
    assert "Enrollment by year" in page
    assert re.search(r"S0\s+2028\s+mid\s+812", page)


def test_pages_render_to_images_that_are_not_blank(printed, tmp_path):
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(printed), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == 3
    for image in images:
        colors = Image.open(image).convert("RGB").getcolors(maxcolors=1 << 16)
        assert colors is None or len(colors) > 10
    first = Image.open(images[0]).convert("RGB")
    assert len(first.getcolors(maxcolors=1 << 16) or range(1000)) > 50  # the coloured map


def test_counts_below_the_threshold_are_suppressed_in_print(grid, tmp_path):
    plan = checked(Plan.from_assignment(
        grid, Scenario.from_dict({"report": {"suppress_below": 1000}}), grid.status_quo))
    path = tmp_path / "r.pdf"
    path.write_bytes(report_pdf(plan))
    text = "\n".join(pdf_text(path))
    assert "<1000" in text and 'counts below 1000 are shown as "<1000"' in text
    for _, r in plan.schools_table.iterrows():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(r["name"]))
        rest = line.strip()[len(r["name"]):]
        numbers = [int(x.replace(",", "")) for x in re.findall(r"(?<![<\d.])\d[\d,]*(?![\d.%])", rest)]
        # capacity is seats, not students; every other count shown is at least the threshold
        assert all(n >= 1000 or n == int(r["capacity"]) for n in numbers), line


def test_long_school_lists_continue_over_pages(tmp_path):
    from zoneopt import District
    from zoneopt.synthetic import synthetic_district

    district = District.from_frames(*synthetic_district(150, 45, seed=3))
    plan = checked(Plan.from_assignment(district, Scenario(), district.status_quo))
    path = tmp_path / "long.pdf"
    path.write_bytes(report_pdf(plan))
    pages = pdf_text(path)
    assert len(pages) == 1 + -(-district.n_schools // ROWS_PER_PAGE) == 3
    text = "\n".join(pages)
    for name in plan.schools_table["name"]:
        assert name[:30] in text
    assert "(continued)" in pages[2]
