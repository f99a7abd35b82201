// public.html: which school is my house in, today and under the proposal?
// Data comes from the JSON block above (ZONEOPT_PUBLIC); every name and address is written into
// the page with textContent, never as HTML. Nothing is fetched or sent (see the page's CSP).
(function () {
    "use strict";
    var D = ZONEOPT_PUBLIC;
    var schools = D.schools;

    // ------------------------------------------------------------------ search keys
    var ABBR = D.abbreviations;
    function words(text) {
        var t = String(text).toUpperCase().split("#").join(" # ");
        t = t.replace(/[^\p{L}\p{N}\s#]/gu, " ").replace(/_/g, " ");
        return t.split(/\s+/).filter(function (w) { return w.length > 0; });
    }
    function normalize(text) {
        return words(text).map(function (w) { return Object.prototype.hasOwnProperty.call(ABBR, w) ? ABBR[w] : w; }).join(" ");
    }
    // As typed, without abbreviating: "12 ELM COU" is on its way to "12 Elm Court".
    function spelled(text) { return words(text).join(" "); }
    window.zoneoptNormalize = normalize;

    function unzigzag(str) {
        var out = [], index = 0, n = str.length;
        while (index < n) {
            var result = 0, shift = 0, b;
            do {
                b = str.charCodeAt(index++) - 63;
                result += (b & 0x1f) * Math.pow(2, shift);
                shift += 5;
            } while (b >= 0x20);
            out.push(result % 2 ? -(result + 1) / 2 : result / 2);
        }
        return out;
    }

    // ------------------------------------------------------------------ address index
    var addresses = [];   // {text, key, street, lon, lat, unit}
    if (D.addresses) {
        var A = D.addresses;
        var numbers = A.numbers.length ? A.numbers.split("|") : [];
        var deltas = unzigzag(A.coords), udel = unzigzag(A.units);
        var x = 0, y = 0, u = 0, k = 0;
        var streetKeys = A.streets.map(normalize);
        var streetSpelled = A.streets.map(spelled);
        for (var s = 0; s < A.streets.length; s++) {
            for (var c = 0; c < A.counts[s]; c++, k++) {
                x += deltas[2 * k];
                y += deltas[2 * k + 1];
                u += udel[k];
                var num = numbers[k];
                var text = num ? num + " " + A.streets[s] : A.streets[s];
                addresses.push({
                    text: text, key: num ? normalize(num) + " " + streetKeys[s] : streetKeys[s],
                    streetKey: streetKeys[s], spelled: num ? spelled(num) + " " + streetSpelled[s] : streetSpelled[s],
                    streetSpelled: streetSpelled[s], lon: x / A.scale, lat: y / A.scale, unit: u - 1,
                });
            }
        }
    }
    window.zoneoptAddressCount = addresses.length;

    // ------------------------------------------------------------------ map
    var units = zoneoptDecode(D.units, D.scale);
    var map = L.map("zoneopt-public-map", { zoomSnap: 0.25, preferCanvas: false });
    function fill(key) {
        return function (f) {
            var j = f.properties[key];
            return { stroke: false, fillColor: j < 0 ? "#bbbbbb" : schools[j].color, fillOpacity: 0.55 };
        };
    }
    var proposed = L.geoJSON(units, { style: fill("n"), interactive: false });
    var today = L.geoJSON(units, { style: fill("o"), interactive: false });
    var proposedLines = L.geoJSON(zoneoptDecode(D.proposed_zones, D.scale),
        { style: { color: "#111111", weight: 2.5, fill: false }, interactive: false });
    var todayLines = L.geoJSON(zoneoptDecode(D.today_zones, D.scale),
        { style: { color: "#111111", weight: 2, dashArray: "6 5", fill: false }, interactive: false });
    function zoneLayer(j) {
        var found = null;
        proposedLines.eachLayer(function (layer) { if (layer.feature.properties.n === j) found = layer; });
        return found;
    }
    var proposedGroup = L.layerGroup([proposed, proposedLines]).addTo(map);
    var todayGroup = L.layerGroup([today, todayLines]);
    var markers = L.layerGroup().addTo(map);
    schools.forEach(function (s) {
        var m = L.circleMarker([s.lat, s.lon], {
            radius: 6, color: "#000000", weight: 2, fillColor: s.color, fillOpacity: 1,
            className: "zoneopt-public-school",
        });
        m.bindPopup(function () {
            var box = document.createElement("div");
            var h = document.createElement("h4");
            h.textContent = s.name;
            box.appendChild(h);
            s.lines.forEach(function (line) {
                var p = document.createElement("p");
                p.textContent = line;
                box.appendChild(p);
            });
            return box;
        });
        m.bindTooltip(function () { var t = document.createElement("span"); t.textContent = s.name; return t; });
        markers.addLayer(m);
    });
    var layerNames = {};
    layerNames[D.labels.proposed] = proposedGroup;
    layerNames[D.labels.today] = todayGroup;
    var overlays = {};
    overlays[D.labels.schools] = markers;
    L.control.layers(layerNames, overlays, { collapsed: false }).addTo(map);
    map.fitBounds(proposed.getBounds());
    window.zoneoptPublicMap = map;  // for scripts and tests driving the page

    // ------------------------------------------------------------------ point in polygon
    function inRing(ring, px, py) {
        var inside = false;
        for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
            var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
            if ((yi > py) !== (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }
    var boxes = units.features.map(function (f) {
        var b = [Infinity, Infinity, -Infinity, -Infinity];
        f.geometry.coordinates.forEach(function (poly) {
            poly[0].forEach(function (p) {
                if (p[0] < b[0]) b[0] = p[0];
                if (p[1] < b[1]) b[1] = p[1];
                if (p[0] > b[2]) b[2] = p[0];
                if (p[1] > b[3]) b[3] = p[1];
            });
        });
        return b;
    });
    function unitAt(lon, lat) {
        for (var i = 0; i < units.features.length; i++) {
            var b = boxes[i];
            if (lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3]) continue;
            var polys = units.features[i].geometry.coordinates;
            for (var p = 0; p < polys.length; p++) {
                if (!inRing(polys[p][0], lon, lat)) continue;
                var hole = false;
                for (var r = 1; r < polys[p].length; r++) if (inRing(polys[p][r], lon, lat)) hole = true;
                if (!hole) return i;
            }
        }
        return -1;
    }
    window.zoneoptUnitAt = unitAt;

    // ------------------------------------------------------------------ answers
    var answer = document.getElementById("address-answer");
    var picked = document.getElementById("address-picked");
    var pin = null;
    function say(unit, lon, lat, label) {
        if (pin) map.removeLayer(pin);
        pin = L.circleMarker([lat, lon], { radius: 8, color: "#d00000", weight: 3, fillColor: "#ffffff",
            fillOpacity: 1, className: "zoneopt-public-pin" }).addTo(map);
        picked.textContent = label;
        if (unit < 0) {
            answer.textContent = D.labels.outside;
            answer.dataset.unit = "";
            return;
        }
        var p = units.features[unit].properties;
        var a = p.o < 0 ? D.labels.none : schools[p.o].name;
        var b = p.n < 0 ? D.labels.none : schools[p.n].name;
        answer.textContent = "today: " + a + "; proposed: " + b;
        answer.dataset.unit = String(unit);
        answer.dataset.changes = String(p.o !== p.n);
    }
    map.on("click", function (e) {
        var lon = e.latlng.lng, lat = e.latlng.lat;
        say(unitAt(lon, lat), lon, lat, D.labels.clicked);
    });

    var input = document.getElementById("address-search");
    var list = document.getElementById("address-suggestions");
    var current = [];
    var active = -1;
    function starts(text, q) { return text.lastIndexOf(q, 0) === 0; }
    function matches(typed) {
        var out = [], q = normalize(typed), r = spelled(typed);
        if (!q) return out;
        var byStreet = !/^\d/.test(q);
        for (var i = 0; i < addresses.length && out.length < 10; i++) {
            var a = addresses[i];
            if (starts(a.key, q) || starts(a.spelled, r) ||
                (byStreet && (starts(a.streetKey, q) || starts(a.streetSpelled, r)))) out.push(i);
        }
        return out;
    }
    function choose(i) {
        var a = addresses[i];
        input.value = a.text;
        list.replaceChildren();
        current = [];
        active = -1;
        say(a.unit, a.lon, a.lat, a.text);
        // Show the proposed zone around the pin (there is no basemap to give context closer in).
        var zone = a.unit >= 0 ? zoneLayer(units.features[a.unit].properties.n) : null;
        if (zone) map.fitBounds(zone.getBounds().extend([a.lat, a.lon]), { maxZoom: 15, padding: [20, 20] });
        else map.setView([a.lat, a.lon], Math.max(map.getZoom(), 13));
    }
    function showSuggestions() {
        current = matches(input.value);
        active = -1;
        list.replaceChildren();
        current.forEach(function (i, k) {
            var li = document.createElement("li");
            li.textContent = addresses[i].text;
            li.id = "address-suggestion-" + k;
            li.setAttribute("role", "option");
            li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
            list.appendChild(li);
        });
        input.setAttribute("aria-expanded", current.length ? "true" : "false");
    }
    function highlight(k) {
        active = k;
        Array.prototype.forEach.call(list.children, function (li, m) {
            li.className = m === k ? "active" : "";
        });
        if (k >= 0) input.setAttribute("aria-activedescendant", "address-suggestion-" + k);
    }
    if (input) {
        input.addEventListener("input", showSuggestions);
        input.addEventListener("keydown", function (ev) {
            if (ev.key === "ArrowDown" && current.length) { highlight(Math.min(active + 1, current.length - 1)); ev.preventDefault(); }
            else if (ev.key === "ArrowUp" && current.length) { highlight(Math.max(active - 1, 0)); ev.preventDefault(); }
            else if (ev.key === "Enter") {
                ev.preventDefault();
                if (active >= 0) { choose(current[active]); return; }
                var q = normalize(input.value);
                for (var i = 0; i < addresses.length; i++) if (addresses[i].key === q) { choose(i); return; }
                var m = matches(input.value);
                if (m.length === 1) { choose(m[0]); return; }
                list.replaceChildren();
                picked.textContent = input.value;
                answer.textContent = m.length ? D.labels.ambiguous : D.labels.not_found;
                answer.dataset.unit = "";
            }
        });
    }
    window.zoneoptReady = true;
})();
