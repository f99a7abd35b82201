// The editor widget's front end (anywidget ESM). Leaflet is prepended by zoneopt.desk.widget as
// `const L = ...`, and zoneoptDecode (geometry.DECODE_JS) with it, so nothing is fetched.
// Every string from the input files goes into the page through textContent, never as HTML.

function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
}

function fmtPct(x, digits) {
    return (x === null || x === undefined || Number.isNaN(x)) ? "–" : (100 * x).toFixed(digits) + "%";
}

function fmtKm(x) {
    return (x === null || x === undefined || !Number.isFinite(x)) ? "–" : x.toFixed(2) + " km";
}

function render({ model, el: root }) {
    root.classList.add("zoneopt-editor");
    const mapDiv = el("div", "zoneopt-editor-map");
    const side = el("div", "zoneopt-editor-side");
    root.appendChild(mapDiv);
    root.appendChild(side);

    // ---- side panel
    const figs = el("table", "zoneopt-editor-figures");
    const selBox = el("div", "zoneopt-editor-selected");
    const selText = el("p", "zoneopt-editor-selected-text", "Click a unit to move it (click it again to let go).");
    const picker = el("select", "zoneopt-editor-picker");
    const moveBtn = el("button", "zoneopt-editor-move", "Move");
    const nearBtns = el("div", "zoneopt-editor-neighbours");
    selBox.append(selText, picker, moveBtn, nearBtns);
    const tools = el("div", "zoneopt-editor-tools");
    const undoBtn = el("button", "zoneopt-editor-undo", "Undo");
    const limit = el("input", "zoneopt-editor-limit");
    limit.type = "number"; limit.min = "1"; limit.value = "20"; limit.title = "seconds";
    const reoptBtn = el("button", "zoneopt-editor-reoptimize", "Lock my edits and re-optimise the rest");
    const status = el("p", "zoneopt-editor-status");
    tools.append(undoBtn, reoptBtn, el("span", "", " time limit (s): "), limit);
    const violTitle = el("h4", "", "Rules broken");
    const viol = el("ul", "zoneopt-editor-violations");
    const tableTitle = el("h4", "", "Schools");
    const table = el("table", "zoneopt-editor-schools");
    side.append(figs, selBox, tools, status, violTitle, viol, tableTitle, table);

    // ---- map
    const schools = model.get("schools");
    const neighbours = model.get("neighbours");
    const unitIds = model.get("unit_ids");
    const map = L.map(mapDiv, { zoomSnap: 0.25 });
    let assignment = model.get("assignment").slice();
    let edited = new Set(model.get("edited"));
    let selected = -1;
    const layers = [];
    function style(i) {
        const j = assignment[i];
        return {
            color: i === selected ? "#000000" : (edited.has(i) ? "#222222" : "#ffffff"),
            weight: i === selected ? 3 : (edited.has(i) ? 2 : 0.6),
            dashArray: edited.has(i) && i !== selected ? "3 3" : null,
            fillColor: j < 0 ? "#bbbbbb" : schools[j].color,
            fillOpacity: 0.6,
        };
    }
    const geo = zoneoptDecode(model.get("units"), model.get("scale"));
    const unitLayer = L.geoJSON(geo, {
        style: (f) => style(f.properties.i),
        onEachFeature: (f, layer) => {
            const i = f.properties.i;
            layers[i] = layer;
            layer.options.className = "zoneopt-editor-unit zoneopt-u" + i;
            layer.on("click", () => onUnitClick(i));
        },
    });
    // The view first: Leaflet clips paths to the map's pixel bounds, which need a centre.
    map.fitBounds(unitLayer.getBounds());
    unitLayer.addTo(map);
    schools.forEach((s, j) => {
        const m = L.circleMarker([s.lat, s.lon], {
            radius: 6, color: "#000", weight: 2, fillColor: s.color, fillOpacity: 1,
            className: "zoneopt-editor-school",
        }).addTo(map);
        m.bindTooltip(() => el("span", "", s.name));
    });

    function restyle(i) { if (layers[i]) layers[i].setStyle(style(i)); }

    function onUnitClick(i) {
        // With a unit selected, a click into a neighbouring zone moves it there.
        if (selected >= 0 && i !== selected && assignment[i] !== assignment[selected]
            && neighbours[selected].indexOf(i) >= 0) {
            send({ type: "move", unit: selected, school: assignment[i] });
            return;
        }
        if (i === selected) { selected = -1; restyle(i); showSelected(); return; }
        const old = selected;
        selected = i;
        if (old >= 0) restyle(old);
        restyle(i);
        showSelected();
    }

    function showSelected() {
        picker.replaceChildren();
        nearBtns.replaceChildren();
        if (selected < 0) { selText.textContent = "Click a unit to move it (click it again to let go)."; return; }
        const i = selected, j = assignment[i];
        selText.textContent = "Unit " + unitIds[i] + ": " + (j < 0 ? "none" : schools[j].name)
            + ". Click a neighbouring zone to move it there, or pick a school:";
        const near = [];
        neighbours[i].forEach((v) => {
            const k = assignment[v];
            if (k >= 0 && k !== j && near.indexOf(k) < 0) near.push(k);
        });
        near.forEach((k) => {
            const b = el("button", "zoneopt-editor-to", "→ " + schools[k].name);
            b.dataset.school = String(k);
            b.addEventListener("click", () => send({ type: "move", unit: i, school: k }));
            nearBtns.appendChild(b);
        });
        const order = near.concat(schools.map((_, k) => k).filter((k) => near.indexOf(k) < 0));
        order.forEach((k) => {
            const o = el("option", "", schools[k].name);
            o.value = String(k);
            if (k === j) o.selected = true;
            picker.appendChild(o);
        });
    }

    function send(msg) {
        status.textContent = msg.type === "reoptimize" ? "Re-optimising…" : "";
        model.send(msg);
    }

    moveBtn.addEventListener("click", () => {
        if (selected >= 0) send({ type: "move", unit: selected, school: Number(picker.value) });
    });
    undoBtn.addEventListener("click", () => send({ type: "undo" }));
    reoptBtn.addEventListener("click", () => send({ type: "reoptimize", time_limit: Number(limit.value) || 20 }));

    // ---- panel contents from the model
    function showFigures() {
        const f = model.get("figures");
        const rows = [
            ["Dissimilarity", fmtPct(f.dissimilarity_before, 1) + " → " + fmtPct(f.dissimilarity_after, 1)],
            ["Largest share gap", fmtPct(f.max_share_gap_before, 1) + " → " + fmtPct(f.max_share_gap_after, 1)],
            ["Mean distance", fmtKm(f.mean_distance_km_before) + " → " + fmtKm(f.mean_distance_km_after)],
            ["Students moved", String(f.students_moved) + " (" + fmtPct(f.moved_share, 1) + ")"],
            ["Fullest school", fmtPct(f.max_utilization_after, 0)],
            ["Every zone in one piece", f.contiguous ? "yes" : "no"],
        ];
        figs.replaceChildren();
        rows.forEach((r) => {
            const tr = figs.insertRow();
            tr.dataset.key = r[0];
            tr.appendChild(el("th", "", r[0]));
            tr.insertCell().textContent = r[1];
        });
    }
    function showViolations() {
        const v = model.get("violations");
        viol.replaceChildren();
        if (!v.length) viol.appendChild(el("li", "zoneopt-editor-ok", "none: every rule holds"));
        v.forEach((s) => viol.appendChild(el("li", "", s)));
    }
    function showTable() {
        const rows = model.get("table");
        table.replaceChildren();
        const head = table.createTHead().insertRow();
        ["School", "Enrolled", "Capacity", "Use", "Low-income", "Mean km"].forEach((h) => head.appendChild(el("th", "", h)));
        const body = table.createTBody();
        rows.forEach((r) => {
            const tr = body.insertRow();
            if (r.utilization > 1) tr.className = "zoneopt-editor-over";
            [r.name, String(r.enrollment), String(r.capacity), fmtPct(r.utilization, 0),
             fmtPct(r.low_income_share, 1), Number.isFinite(r.mean_distance_km) ? r.mean_distance_km.toFixed(2) : "–"].forEach((t) => { tr.insertCell().textContent = t; });
        });
    }
    function onAssignment() {
        const next = model.get("assignment");
        const nextEdited = new Set(model.get("edited"));
        const changed = [];
        for (let i = 0; i < next.length; i++) {
            if (next[i] !== assignment[i] || nextEdited.has(i) !== edited.has(i)) changed.push(i);
        }
        assignment = next.slice();
        edited = nextEdited;
        changed.forEach(restyle);
        showSelected();
    }
    model.on("change:assignment", onAssignment);
    model.on("change:edited", onAssignment);
    model.on("change:figures", showFigures);
    model.on("change:violations", showViolations);
    model.on("change:table", showTable);
    model.on("change:message", () => { status.textContent = model.get("message"); });
    showFigures();
    showViolations();
    showTable();
    return () => map.remove();
}

export default { render };
