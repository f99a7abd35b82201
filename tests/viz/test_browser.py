"""map.html and report.html in Debian's headless Chromium, opened from file:// with no network."""

from __future__ import annotations

import io

import pytest
from viz_plans import grid_district, make_plan

from zoneopt.viz import maps, report

pytestmark = pytest.mark.browser

XSS_NAMES = (
    "<img src=x onerror=alert(1)>",
    "</script><script>window.__zoneoptPwned = 1</script>",
    '"><svg onload=alert(3)>',
)


def script_errors(driver) -> list[dict]:
    """Console errors other than failed network requests (basemap tiles, blocked here)."""
    return [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and e.get("source") != "network"
    ]


def wait_for(driver, script: str, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def count(driver, selector: str) -> int:
    return driver.execute_script(f"return document.querySelectorAll({selector!r}).length")


def click_school(driver, index: int) -> str:
    """Click the index-th school marker as a user would; return the popup's text."""
    from selenium.webdriver.common.action_chains import ActionChains

    # Close any open popup and let its fade-out end, so the one read next is the new one.
    driver.execute_script("document.querySelectorAll('.leaflet-popup-close-button')"
                          ".forEach(function (b) { b.click(); });")  # fmt: skip
    wait_for(driver, "return document.querySelectorAll('.leaflet-popup').length === 0")
    marker = driver.find_elements("css selector", "path.zoneopt-school")[index]
    ActionChains(driver).move_to_element(marker).click().perform()
    wait_for(driver, "return document.querySelectorAll('.leaflet-popup-content').length === 1")
    # The popup fades in; selenium reads no text while it is transparent.
    wait_for(
        driver,
        "return getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'",
    )
    return driver.find_element("css selector", ".leaflet-popup-content").text


def assert_not_blank(png: bytes) -> None:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 120))
    colors = img.getcolors(maxcolors=160 * 120)
    assert colors is not None and len(colors) > 20, "screenshot has almost no colours"
    most = max(c for c, _ in colors)
    assert most < 0.8 * 160 * 120, "screenshot is mostly one colour"


def check_map_page(driver, plan) -> None:
    n_units = len(plan.district.units)
    n_schools = len(plan.district.schools)
    wait_for(driver, "return document.querySelectorAll('path.zoneopt-school').length > 0")
    # Proposed zones (one path per unit), zone outlines, moved units and school markers drawn.
    assert count(driver, ".leaflet-zoneoptProposed-pane path") == n_units
    assert count(driver, ".leaflet-zoneoptOutlines-pane path") == plan.assignment.nunique()
    moved = int((plan.assignment != plan.status_quo).sum())
    assert count(driver, ".leaflet-zoneoptChanged-pane path") == moved
    assert count(driver, "path.zoneopt-school") == n_schools
    # Legend and layer control render with names.
    legend = driver.find_element("css selector", ".zoneopt-legend").text
    if n_schools <= len(maps.ZONE_PALETTE):
        for name in plan.schools_table["name"]:
            assert name in legend
    else:  # colours repeat: the legend says so instead of listing names
        assert "Neighbouring zones have different colours" in legend
    # Zones carry their school's name where they are wide enough on screen.
    labels = [e.text for e in driver.find_elements("css selector", ".zoneopt-zone-label")]
    assert labels and set(labels) <= set(plan.schools_table["name"])
    assert (
        "Low-income share of students"
        in driver.find_element("css selector", ".leaflet-control-layers").text
    )


def test_map_opens_offline_and_draws_zones_schools_and_popups(browser, open_page, grid_plan):
    open_page(maps.map_html(grid_plan), "map.html")
    check_map_page(browser, grid_plan)
    table = grid_plan.schools_table
    for i, row in table.iterrows():
        text = click_school(browser, i)
        assert row["name"] in text
        assert f"Enrollment {row['enrollment_before']:,} {row['enrollment_after']:,}" in text
        assert f"Capacity: {row['capacity']:,} students" in text
    assert script_errors(browser) == []
    assert_not_blank(browser.get_screenshot_as_png())


def test_map_of_a_280_unit_district_opens_offline(browser, open_page, big_plan):
    open_page(maps.map_html(big_plan), "map.html")
    check_map_page(browser, big_plan)
    row = big_plan.schools_table.iloc[4]
    text = click_school(browser, 4)
    assert f"Enrollment {row['enrollment_before']:,} {row['enrollment_after']:,}" in text
    assert script_errors(browser) == []
    assert_not_blank(browser.get_screenshot_as_png())


def test_unit_tooltip_shows_geoid_students_share_and_schools(browser, open_page, grid_plan):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(maps.map_html(grid_plan), "map.html")
    wait_for(browser, "return document.querySelectorAll('path.zoneopt-school').length > 0")
    # Top-middle unit (row 2, column 1) moves from B to A; hover over its upper part.
    units = grid_plan.district.units
    unit = units.iloc[7]
    paths = browser.find_elements("css selector", ".leaflet-zoneoptProposed-pane path")
    target = paths[7]
    ActionChains(browser).move_to_element_with_offset(target, 0, -15).perform()
    wait_for(browser, "return document.querySelector('.zoneopt-tip') !== null")
    tip = browser.find_element("css selector", ".zoneopt-tip").text
    assert unit["unit_id"] in tip
    assert f"Students {unit['students']}" in tip
    assert f"{100 * unit['low_income'] / unit['students']:.1f}%" in tip
    assert "School today Birch Elementary" in tip
    assert "Proposed school Alder Elementary" in tip


def test_choropleth_layer_toggles_with_its_legend(browser, open_page, grid_plan):
    open_page(maps.map_html(grid_plan), "map.html")
    wait_for(browser, "return document.querySelectorAll('path.zoneopt-school').length > 0")
    assert count(browser, ".leaflet-zoneoptShare-pane path") == 0
    assert not browser.find_element("css selector", ".zoneopt-legend-classes").is_displayed()
    for label in browser.find_elements("css selector", ".leaflet-control-layers-overlays label"):
        if label.text.strip() == "Low-income share of students":
            label.click()
    assert count(browser, ".leaflet-zoneoptShare-pane path") == len(grid_plan.district.units)
    assert browser.find_element("css selector", ".zoneopt-legend-classes").is_displayed()


def test_report_shows_one_row_per_school_with_its_figures_and_the_chart(
    browser, open_page, big_plan
):
    from test_report import check_report_figures

    page = report.report_html(big_plan)
    open_page(page, "report.html")
    table = big_plan.schools_table
    rows = browser.find_elements("css selector", "#schools-table tbody tr.school-row")
    assert len(rows) == len(table)
    for row_el, (_, row) in zip(rows, table.iterrows(), strict=True):
        texts = [td.text for td in row_el.find_elements("css selector", "td")]
        assert row_el.find_element("css selector", "th").text == row["name"]
        assert texts[0] == f"{row['capacity']:,}"
        assert texts[1:3] == [f"{row['enrollment_before']:,}", f"{row['enrollment_after']:,}"]
        assert texts[7:9] == [  # after utilization and seats short, today and proposed
            f"{100 * row['low_income_share_before']:.1f}%",
            f"{100 * row['low_income_share_after']:.1f}%",
        ]
    check_report_figures(browser.page_source, table,
                         max_utilization=big_plan.summary["scenario"]["constraints"]["max_utilization"])
    chart = browser.find_element("css selector", "svg#share-chart")
    assert chart.size["height"] > 200 and chart.size["width"] > 500
    assert len(chart.find_elements("css selector", "g.school")) == len(table)
    # The embedded map draws too.
    browser.switch_to.frame(browser.find_element("css selector", "iframe#map"))
    try:
        check_map_page(browser, big_plan)
    finally:
        browser.switch_to.default_content()
    assert script_errors(browser) == []
    assert_not_blank(browser.get_screenshot_as_png())


def test_names_from_input_files_show_as_text_and_run_no_script(browser, open_page):
    from selenium.common.exceptions import NoAlertPresentException

    units, schools, sq, proposed = grid_district(names=XSS_NAMES)
    plan = make_plan(units, schools, proposed, sq, title=XSS_NAMES[2])

    def no_script_ran():
        try:
            alert = browser.switch_to.alert
        except NoAlertPresentException:
            alert = None
        if alert is not None:
            text = alert.text
            alert.dismiss()
            pytest.fail(f"a script from input data ran: alert({text})")
        assert browser.execute_script("return window.__zoneoptPwned === undefined")

    open_page(maps.map_html(plan), "map.html")
    wait_for(browser, "return document.querySelectorAll('path.zoneopt-school').length > 0")
    for i, name in enumerate(XSS_NAMES):
        text = click_school(browser, i)
        assert name in text  # shown literally
        no_script_ran()
    assert XSS_NAMES[0] in browser.find_element("css selector", ".zoneopt-legend").text
    assert browser.title == XSS_NAMES[2]
    assert count(browser, ".leaflet-container img:not(.leaflet-tile)") == 0
    no_script_ran()

    open_page(report.report_html(plan), "report.html")
    names = [
        el.text for el in browser.find_elements("css selector", "#schools-table tbody th.name")
    ]
    assert names == list(XSS_NAMES)
    assert browser.find_element("css selector", "h1").text == XSS_NAMES[2]
    assert count(browser, "body img") == 0 and count(browser, "body > svg") == 0
    browser.switch_to.frame(browser.find_element("css selector", "iframe#map"))
    try:
        wait_for(browser, "return document.querySelectorAll('path.zoneopt-school').length > 0")
        assert click_school(browser, 1).startswith(XSS_NAMES[1])
        no_script_ran()
    finally:
        browser.switch_to.default_content()
    no_script_ran()
