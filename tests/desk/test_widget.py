"""The editor widget: its Python side headless, and its JavaScript in headless Chromium with a
stand-in for the notebook's widget model (the same interface anywidget gives: get, on, send)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from desk_helpers import checked

from zoneopt import Editor, check_plan
from zoneopt.desk.geometry import js_json
from zoneopt.desk.widget import EditorWidget, editor_css, editor_esm

STATE_KEYS = ("units", "scale", "unit_ids", "neighbours", "schools", "assignment", "edited",
              "figures", "violations", "table", "message")


def state(widget: EditorWidget, keys=STATE_KEYS) -> dict:
    return {k: getattr(widget, k) for k in keys}


def harness(widget: EditorWidget) -> str:
    """A page that renders the widget's ES module with a fake model, like anywidget does."""
    esm = editor_esm().replace("</script", "<\\/script")
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>{editor_css()}</style></head>
<body><div id="root" style="width:1200px"></div>
<script type="application/json" id="state">{js_json(state(widget))}</script>
<script type="text/plain" id="esm">{esm}</script>
<script>
var st = JSON.parse(document.getElementById("state").textContent);
var handlers = {{}};
window.sent = [];
var model = {{
  get: function (k) {{ return st[k]; }},
  set: function (k, v) {{ st[k] = v; }},
  save_changes: function () {{}},
  on: function (ev, cb) {{ (handlers[ev] = handlers[ev] || []).push(cb); }},
  off: function () {{}},
  send: function (msg) {{ window.sent.push(msg); }},
}};
window.pushState = function (updates) {{
  Object.keys(updates).forEach(function (k) {{ st[k] = updates[k]; }});
  Object.keys(updates).forEach(function (k) {{
    (handlers["change:" + k] || []).forEach(function (cb) {{ cb(); }}); }});
}};
var url = URL.createObjectURL(new Blob([document.getElementById("esm").textContent],
                                       {{type: "text/javascript"}}));
import(url).then(function (m) {{ m.default.render({{model: model, el: document.getElementById("root")}});
  window.ready = true; }}).catch(function (e) {{ window.failed = String(e) + " " + e.stack; }});
</script></body></html>"""


def test_widget_messages_drive_the_editor(grid_plan):
    ed = Editor(grid_plan)
    w = ed.widget
    assert "application/vnd.jupyter.widget-view+json" in ed._repr_mimebundle_()[0]
    d = ed.district
    i = next(u for u in range(d.n_units) if u not in set(d.home_unit.tolist())
             and any(ed.positions[v] != ed.positions[u] for v in d.neighbors[u]))
    j = next(int(ed.positions[v]) for v in d.neighbors[i] if ed.positions[v] != ed.positions[i])
    w._on_msg(w, {"type": "move", "unit": i, "school": j}, None)
    assert w.assignment[i] == j and w.edited == [i]
    assert w.figures["students_moved"] == ed.figures["students_moved"]
    assert w.violations == check_plan(d, ed.scenario, ed.positions).violations
    assert [r["enrollment"] for r in w.table] == ed.schools["enrollment"].tolist()
    w._on_msg(w, {"type": "undo"}, None)
    assert w.assignment == grid_plan.positions.tolist() and w.edited == []
    w._on_msg(w, {"type": "undo"}, None)
    assert w.message == "Nothing to undo."
    w._on_msg(w, {"type": "move", "unit": 10**6, "school": 0}, None)
    assert w.message.startswith("IndexError")  # shown in the panel, the widget keeps working
    json.dumps(state(w))  # every trait is plain JSON


@pytest.mark.browser
def test_clicking_a_unit_and_a_neighbouring_zone_moves_it_and_the_panel_follows(
    browser, open_page, grid_plan
):
    from selenium.webdriver.support.ui import WebDriverWait

    ed = Editor(grid_plan)
    w = ed.widget
    d = ed.district
    open_page(harness(w), "editor.html")
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return window.ready === true || window.failed"))
    assert browser.execute_script("return window.failed === undefined"), browser.execute_script(
        "return window.failed")
    assert browser.execute_script(
        "return document.querySelectorAll('path.zoneopt-editor-unit').length") == d.n_units
    pos = ed.positions
    i = next(u for u in range(d.n_units) if u not in set(d.home_unit.tolist())
             and any(pos[v] != pos[u] for v in d.neighbors[u]))
    browser.find_element("css selector", f"path.zoneopt-u{i}").click()
    assert d.unit_ids[i] in browser.find_element("css selector", ".zoneopt-editor-selected-text").text
    buttons = browser.find_elements("css selector", ".zoneopt-editor-to")
    targets = sorted({int(pos[v]) for v in d.neighbors[i]} - {int(pos[i])})
    assert sorted(int(b.get_attribute("data-school")) for b in buttons) == targets
    buttons[0].click()
    msg = browser.execute_script("return window.sent[window.sent.length - 1]")
    assert msg == {"type": "move", "unit": i, "school": int(buttons[0].get_attribute("data-school"))}
    # The kernel side: the editor applies the message; its new state goes back to the page.
    w._on_msg(w, msg, None)
    browser.execute_script("window.pushState(arguments[0])", state(
        w, ("assignment", "edited", "figures", "violations", "table")))
    fill = browser.execute_script(
        f"return document.querySelector('path.zoneopt-u{i}').getAttribute('fill')")
    assert fill.lower() == w.schools[msg["school"]]["color"].lower()
    figures = browser.find_element("css selector", ".zoneopt-editor-figures").text
    assert f"Students moved {ed.figures['students_moved']}" in figures
    violations = browser.find_element("css selector", ".zoneopt-editor-violations").text
    assert violations == ("\n".join(ed.violations) or "none: every rule holds")
    enrolled = browser.find_elements("css selector", ".zoneopt-editor-schools tbody td:nth-child(2)")
    assert [c.text for c in enrolled] == [str(n) for n in ed.schools["enrollment"]]
    # With the unit selected, a click into a neighbouring zone moves it there.
    k = next(int(v) for v in d.neighbors[i] if ed.positions[v] != ed.positions[i])
    browser.find_element("css selector", f"path.zoneopt-u{k}").click()
    assert browser.execute_script("return window.sent[window.sent.length - 1]") == {
        "type": "move", "unit": i, "school": int(ed.positions[k])}
    browser.find_element("css selector", ".zoneopt-editor-undo").click()
    assert browser.execute_script("return window.sent[window.sent.length - 1]") == {"type": "undo"}
    browser.find_element("css selector", ".zoneopt-editor-reoptimize").click()
    assert browser.execute_script("return window.sent[window.sent.length - 1]") == {
        "type": "reoptimize", "time_limit": 20}
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    assert np.array_equal(ed.positions[[i]], [msg["school"]])


@pytest.mark.browser
def test_hostile_school_names_in_the_editor_run_no_script(browser, open_page, grid):
    from zoneopt import District, Plan, Scenario

    schools = grid.schools.copy()
    schools["name"] = ["<img src=x onerror=\"window.__zoneoptPwned=1\">",
                       "</script><script>window.__zoneoptPwned=2</script>", "B", "C"]
    district = District(grid.units, schools, grid.dist_km, grid.adjacency, grid.home_unit,
                        grid.home_owner)
    ed = Editor(checked(Plan.from_assignment(district, Scenario(), district.status_quo)))
    open_page(harness(ed.widget), "editor.html")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return window.ready === true"))
    browser.find_element("css selector", "path.zoneopt-u1").click()
    text = browser.find_element("css selector", ".zoneopt-editor-schools").text
    assert schools["name"].iat[0] in text
    assert browser.execute_script("return window.__zoneoptPwned === undefined")
