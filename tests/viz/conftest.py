"""Fixtures of the viz tests: small fake plans and a headless Chromium with no network."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from viz_plans import grid_district, make_plan, voronoi_district

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def grid_plan():
    units, schools, sq, proposed = grid_district()
    return make_plan(units, schools, proposed, sq, title="Grid test district")


@pytest.fixture(scope="session")
def big_plan():
    units, schools, sq, proposed = voronoi_district()
    return make_plan(units, schools, proposed, sq, title="Bayview unified, 2027 proposal")


# --------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through its chromedriver, with every network request failing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (Debian package 'chromium'); `make browser` installs it")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="zoneopt-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        # No network: names do not resolve and any proxied request goes to a closed port.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
        "--proxy-server=127.0.0.1:9",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def open_page(browser, tmp_path):
    """Write HTML to a file and open it from file://; returns the path."""

    def _open(text: str, name: str = "page.html") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        browser.get_log("browser")  # drop messages of earlier pages
        browser.get(path.as_uri())
        return path

    return _open
