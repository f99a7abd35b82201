"""public.html: self-contained, answers addresses and clicks like an independent point-in-polygon,
shows no count below suppress_below, sends nothing anywhere, and runs no script from the data."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from desk_helpers import checked

from zoneopt import District, Plan, Scenario
from zoneopt.desk.addresses import normalize_address, synthetic_addresses
from zoneopt.desk.public import public_html

HOSTILE = (
    "</script><script>window.__zoneoptPwned = 1</script>",
    "<img src=x onerror=\"window.__zoneoptPwned = 2\">",
)


@pytest.fixture(scope="module")
def unseen():
    """A district and address file no other test uses: 300 units, 12 schools, 3,000 addresses."""
    from zoneopt.synthetic import synthetic_district

    units, schools = synthetic_district(300, 12, seed=7)
    district = District.from_frames(units, schools)
    # A proposal: every third unit on a zone boundary takes its neighbour's school.
    pos = district.status_quo.copy()
    for i in range(0, district.n_units, 3):
        other = [pos[v] for v in district.neighbors[i] if pos[v] != pos[i]]
        if other and i not in set(district.home_unit.tolist()):
            pos[i] = other[0]
    plan = checked(Plan.from_assignment(district, Scenario(), pos))
    return plan, synthetic_addresses(district, 3000, seed=11)


def embedded_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="zoneopt-public-data">(.*?)</script>',
                  page, flags=re.DOTALL)
    return json.loads(m.group(1))


def independent_answer(plan, lon: float, lat: float) -> str:
    """"today: X; proposed: Y" from shapely on the raw units, with no zoneopt code."""
    d = plan.district
    units = d.units.to_crs(4326)
    hits = np.flatnonzero(units.geometry.contains(shapely.Point(lon, lat)).to_numpy())
    assert len(hits) == 1
    u = int(hits[0])
    names = d.schools["name"].to_numpy()
    return f"today: {names[d.status_quo[u]]}; proposed: {names[plan.positions[u]]}"


# ------------------------------------------------------------------------------ without a browser


def test_page_is_self_contained_and_forbids_every_request(unseen):
    plan, addresses = unseen
    page = public_html(plan, addresses)
    assert "connect-src 'none'" in page and "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", page, flags=re.I)
    assert 'id="address-search"' in page and 'id="address-answer"' in page
    data = embedded_data(page)
    assert sum(data["addresses"]["counts"]) == len(addresses)
    assert len(data["units"]) == plan.district.n_units


def test_without_addresses_there_is_no_search_box_but_the_map_answers(unseen):
    plan, _ = unseen
    page = public_html(plan)
    assert 'id="address-search"' not in page and 'id="address-answer"' in page
    assert embedded_data(page)["addresses"] is None


def test_school_counts_below_the_threshold_are_suppressed(grid_plan):
    below = 1500
    page = public_html(grid_plan, suppress_below=below)
    table = grid_plan.schools_table
    data = embedded_data(page)
    for j, school in enumerate(data["schools"]):
        text = " ".join(school["lines"])
        for col in ("enrollment_before", "enrollment_after"):
            n = int(table[col].iat[j])
            assert (f"<{below}" in text) if n < below else (f"{n:,}" in text)
    for m in re.finditer(r"Students [^\"]*?: ([<\d,]+)", page):
        value = m.group(1)
        assert value.startswith("<") or int(value.replace(",", "")) >= below
    assert f'counts below {below} are shown as' in page


def test_page_for_100000_addresses_is_under_5_mb(grid_plan):
    addresses = synthetic_addresses(grid_plan.district, 100_000, seed=4)
    size = len(public_html(grid_plan, addresses).encode("utf-8"))
    without = len(public_html(grid_plan).encode("utf-8"))
    assert size < 5_000_000
    assert (size - without) / 100_000 < 20  # bytes per address


# ------------------------------------------------------------------------------ in Chromium

def wait_for(driver, script: str, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def type_and_enter(driver, text: str) -> str:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", "address-search")
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    return driver.find_element("id", "address-answer").text


def no_requests(driver) -> list[str]:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('data:'))")


@pytest.mark.browser
def test_20_sampled_addresses_get_the_school_an_independent_point_in_polygon_gives(
    browser, open_page, unseen
):
    plan, addresses = unseen
    open_page(public_html(plan, addresses), "public.html")
    wait_for(browser, "return window.zoneoptReady === true")
    rng = np.random.default_rng(20)
    for k in rng.choice(len(addresses), size=20, replace=False):
        a = addresses.iloc[int(k)]
        # Typed the way people type: lower case, long suffixes, stray punctuation.
        typed = re.sub(r"\bave\b", "avenue.", re.sub(r"\bst\b", "street", a["address"].lower()))
        assert normalize_address(typed) == normalize_address(a["address"])
        got = type_and_enter(browser, typed)
        assert got == independent_answer(plan, a["lon"], a["lat"]), a["address"]
        assert browser.find_element("id", "address-picked").text == a["address"]
    assert browser.execute_script("return document.querySelectorAll('.zoneopt-public-pin').length") == 1
    assert no_requests(browser) == []


@pytest.mark.browser
def test_suggestions_pick_and_unknown_addresses(browser, open_page, unseen):
    plan, addresses = unseen
    open_page(public_html(plan, addresses), "public.html")
    wait_for(browser, "return window.zoneoptReady === true")
    a = addresses.iloc[5]
    box = browser.find_element("id", "address-search")
    box.send_keys(a["address"][:-2].upper())
    items = browser.find_elements("css selector", "#address-suggestions li")
    texts = [li.text for li in items]
    assert a["address"] in texts
    items[texts.index(a["address"])].click()
    assert browser.find_element("id", "address-answer").text == independent_answer(
        plan, a["lon"], a["lat"])
    assert "not found" in type_and_enter(browser, "99999 Nowhere Boulevard")


@pytest.mark.browser
def test_javascript_normalisation_matches_python(browser, open_page, unseen):
    plan, addresses = unseen
    open_page(public_html(plan, addresses.head(50)), "public.html")
    wait_for(browser, "return window.zoneoptReady === true")
    samples = ["12 North Main Street, Apt. 4", "12 n. main st #4", "400 Martin-Luther King Jr Blvd",
               "  7  Élan  Court ", "3 O'Brien Way Unit 2", "5 Straße_Nord"]
    got = browser.execute_script("return arguments[0].map(window.zoneoptNormalize)", samples)
    assert got == [normalize_address(s) for s in samples]


@pytest.mark.browser
def test_a_click_on_the_map_names_the_schools_of_the_clicked_point(browser, open_page, unseen):
    from selenium.webdriver.common.action_chains import ActionChains

    plan, _ = unseen
    open_page(public_html(plan), "public.html")
    wait_for(browser, "return window.zoneoptReady === true")
    d = plan.district
    units = d.units.to_crs(4326)
    moved = np.flatnonzero(plan.positions != d.status_quo)
    for u in [int(moved[0]), int(moved[-1]), 0]:
        # A point well inside the unit, so the 10 m outline simplification cannot matter.
        pt = units.geometry.iat[u].buffer(-0.0005).representative_point()
        xy = browser.execute_script(
            "var p = window.zoneoptPublicMap.latLngToContainerPoint([arguments[1], arguments[0]]);"
            "var r = document.getElementById('zoneopt-public-map').getBoundingClientRect();"
            "return [p.x - r.width / 2, p.y - r.height / 2];", pt.x, pt.y)
        mapdiv = browser.find_element("id", "zoneopt-public-map")
        ActionChains(browser).move_to_element_with_offset(mapdiv, int(xy[0]), int(xy[1])).click().perform()
        wait_for(browser, "return document.getElementById('address-answer').textContent !== ''")
        got = browser.find_element("id", "address-answer").text
        lonlat = browser.execute_script(
            "var m = window.zoneoptPublicMap; var r = document.getElementById("
            "'zoneopt-public-map').getBoundingClientRect();"
            "var ll = m.containerPointToLatLng([arguments[0] + r.width / 2, arguments[1] + r.height / 2]);"
            "return [ll.lng, ll.lat];", int(xy[0]), int(xy[1]))
        assert got == independent_answer(plan, *lonlat)
    assert no_requests(browser) == []


@pytest.mark.browser
def test_hostile_school_names_and_addresses_run_no_script(browser, open_page, grid):
    schools = grid.schools.copy()
    schools["name"] = [HOSTILE[0], HOSTILE[1], "Birch & <b>Co</b>", "Plain School"]
    district = District(grid.units, schools, grid.dist_km, grid.adjacency, grid.home_unit,
                        grid.home_owner)
    plan = checked(Plan.from_assignment(district, Scenario(), district.status_quo))
    u = district.units.to_crs(4326).geometry.iat[int(district.home_unit[0])].centroid
    addresses = pd.DataFrame({
        "address": [f"1 {HOSTILE[0]} St", f"2 {HOSTILE[1]} Ave", "3 Main St"],
        "lon": [u.x, u.x, u.x], "lat": [u.y, u.y, u.y],
    })
    open_page(public_html(plan, addresses), "public.html")
    wait_for(browser, "return window.zoneoptReady === true")
    got = type_and_enter(browser, addresses["address"].iat[0])
    assert got == f"today: {HOSTILE[0]}; proposed: {HOSTILE[0]}"
    box = browser.find_element("id", "address-search")
    box.clear()
    box.send_keys("2 ")
    assert browser.find_element("css selector", "#address-suggestions li").text == addresses[
        "address"].iat[1]
    assert browser.execute_script("return window.__zoneoptPwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert no_requests(browser) == []
