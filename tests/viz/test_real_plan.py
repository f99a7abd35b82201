"""Maps and reports of real plans from zoneopt.optimize (not the fake plans of viz_plans)."""

from __future__ import annotations

import pytest
from test_browser import assert_not_blank, check_map_page, click_school, script_errors
from test_report import check_report_figures
from viz_plans import voronoi_district

import zoneopt
from zoneopt.viz import maps, report


@pytest.fixture(scope="module")
def real_plan():
    """A 60-unit, 4-school district optimized for real (3 seconds of search)."""
    units, schools, _, _ = voronoi_district(n_units=60, n_schools=4, seed=11)
    district = zoneopt.District.from_frames(units, schools)
    scenario = zoneopt.Scenario.from_dict(
        {
            "constraints": {"max_utilization": 1.2, "contiguity": True},
            "solver": {"time_limit_s": 3.0},  # any feasible plan will do here
            "report": {"title": "Real plan <test> & co"},
        }
    )
    plan = zoneopt.optimize(district, scenario)
    assert plan.ok, plan.summary
    return plan


def test_real_plan_report_figures_equal_its_schools_table(real_plan):
    page = report.report_html(real_plan)
    check_report_figures(page, real_plan.schools_table,
                         max_utilization=real_plan.summary["scenario"]["constraints"]["max_utilization"])
    s = real_plan.summary
    assert f"{s['dissimilarity_after']:.3f}" in page  # an index 0-1, not a percentage
    assert f"{s['students_moved']:,}" in page
    assert "<h1>Real plan &lt;test&gt; &amp; co</h1>" in page


def test_real_plan_map_carries_its_assignment(real_plan):
    import json

    page = maps.map_html(real_plan)
    assert page == maps.map_html(real_plan)
    start = page.index("var zoneoptUnits = zoneoptDecode(") + len(
        "var zoneoptUnits = zoneoptDecode("
    )
    features = json.loads(page[start : page.index(");\nvar zoneoptSchools")])
    school_ids = list(real_plan.schools_table["school_id"])
    got = {f["p"]["u"]: school_ids[f["p"]["n"]] for f in features}
    assert got == real_plan.assignment.to_dict()
    old = {f["p"]["u"]: school_ids[f["p"]["o"]] for f in features}
    assert old == real_plan.status_quo.to_dict()


def test_plan_object_hooks_use_the_viz_functions(real_plan):
    import folium

    assert isinstance(real_plan.map(), folium.Map)
    assert real_plan._repr_html_() == report.summary_html(real_plan)


def test_saved_plan_writes_map_and_report(real_plan, tmp_path):
    out = real_plan.save(tmp_path / "plan")
    assert (out / "map.html").read_text(encoding="utf-8") == maps.map_html(real_plan)
    assert (out / "report.html").read_text(encoding="utf-8") == report.report_html(real_plan)


@pytest.mark.browser
def test_real_plan_map_and_report_open_offline(browser, open_page, real_plan):
    open_page(maps.map_html(real_plan), "map.html")
    check_map_page(browser, real_plan)
    row = real_plan.schools_table.iloc[0]
    text = click_school(browser, 0)
    assert f"Enrollment {row['enrollment_before']:,} {row['enrollment_after']:,}" in text
    assert script_errors(browser) == []
    assert_not_blank(browser.get_screenshot_as_png())

    open_page(report.report_html(real_plan), "report.html")
    rows = browser.find_elements("css selector", "#schools-table tbody tr.school-row")
    assert len(rows) == len(real_plan.schools_table)
    check_report_figures(browser.page_source, real_plan.schools_table,
                         max_utilization=real_plan.summary["scenario"]["constraints"]["max_utilization"])
    assert browser.find_element("css selector", "svg#share-chart").size["height"] > 100
    assert script_errors(browser) == []
