"""The demo's map.html and report.html, as `zoneopt demo` writes them, opened offline."""

from __future__ import annotations

import pandas as pd
import pytest
from test_browser import assert_not_blank, check_map_page, click_school, script_errors
from test_report import check_report_figures

import zoneopt
from zoneopt import demo


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """The demo district and scenario, with 2 s of search instead of 60 (any plan will do)."""
    plan = zoneopt.optimize(demo.demo_district(), demo.demo_scenario(), time_limit=2.0)
    assert plan.ok, plan.summary
    return plan, plan.save(tmp_path_factory.mktemp("demo") / "out")


def test_demo_files_are_small_and_self_contained(demo_folder):
    _, out = demo_folder
    for name in ("map.html", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "<script src" not in text and "<link" not in text
        # 45 tracts and 27 schools: about 0.3 MB each (Leaflet is 150 kB of it).
        assert len(text.encode()) < 1_000_000, (name, len(text))


@pytest.mark.browser
def test_demo_map_and_report_open_offline(browser, demo_folder):
    plan, out = demo_folder
    browser.get_log("browser")
    browser.get((out / "map.html").as_uri())
    check_map_page(browser, plan)
    schools = pd.read_csv(out / "schools.csv", dtype={"school_id": str})
    for i in (0, len(schools) - 1):
        row = schools.iloc[i]
        text = click_school(browser, i)
        assert text.startswith(row["name"])
        assert f"Enrollment {row['enrollment_before']:,} {row['enrollment_after']:,}" in text
    assert script_errors(browser) == []
    assert_not_blank(browser.get_screenshot_as_png())

    browser.get((out / "report.html").as_uri())
    rows = browser.find_elements("css selector", "#schools-table tbody tr.school-row")
    assert len(rows) == len(schools)
    check_report_figures(browser.page_source, schools, rel=1e-12,
                         max_utilization=plan.summary["scenario"]["constraints"]["max_utilization"])
    chart = browser.find_element("css selector", "svg#share-chart")
    assert len(chart.find_elements("css selector", "g.school")) == len(schools)
    browser.switch_to.frame(browser.find_element("css selector", "iframe#map"))
    try:
        check_map_page(browser, plan)
    finally:
        browser.switch_to.default_content()
    assert script_errors(browser) == []
