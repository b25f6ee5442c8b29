// The station map: markers as compact JSON from the page's data-markers URL, already in the
// tiles' coordinate system; tiles from the configured server (天地图, 高德 …). Nearby markers
// are grouped into a numbered circle per ~56 px cell (tap to zoom in), so 50 stations in a
// town do not pile up. If Leaflet, the tiles or the markers cannot load, the page says so
// and the list below the map still works.
(function () {
  var element = document.getElementById("station-map");
  var failed = document.getElementById("map-failed");
  function fail() { if (failed) failed.hidden = false; }
  if (!element) return;
  if (typeof L === "undefined") { fail(); return; }
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(element).setView([30.92, 121.50], 11);
  map.attributionControl.setPrefix(false);  // no "Leaflet" and its flag: only the map's owner

  var loaded = 0;
  var base = L.tileLayer(config.tiles, { maxZoom: 18, attribution: config.attribution });
  base.on("tileload", function () { loaded += 1; if (failed) failed.hidden = true; });
  base.on("tileerror", function () { if (!loaded) fail(); });
  base.addTo(map);
  if (config.labels) L.tileLayer(config.labels, { maxZoom: 18 }).addTo(map);
  // A server that never answers raises no error: no tile after 10 s counts as a failure.
  window.setTimeout(function () { if (!loaded) fail(); }, 10000);

  if (config.position) {
    L.circleMarker(config.position, {
      radius: 8, weight: 3, color: "#fff", fillColor: "#1a5fb4", fillOpacity: 1
    }).bindPopup("你的位置").addTo(map);
  }

  function popup(m) {
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;
    var box = document.createElement("div");
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(m.status));
    return box;
  }

  var stations = [];
  var layer = L.layerGroup().addTo(map);
  var CELL = 56;

  function draw() {
    layer.clearLayers();
    var zoom = map.getZoom();
    var cells = {};
    stations.forEach(function (m) {
      var point = map.project([m.lat, m.lng], zoom);
      var key = zoom >= 17 ? m.url : Math.floor(point.x / CELL) + ":" + Math.floor(point.y / CELL);
      (cells[key] = cells[key] || []).push(m);
    });
    Object.keys(cells).forEach(function (key) {
      var group = cells[key];
      if (group.length === 1) {
        var m = group[0];
        L.circleMarker([m.lat, m.lng], {
          radius: 9, weight: 2, color: "#fff",
          fillColor: m.open ? "#1b873f" : "#6b6b6b", fillOpacity: 0.95
        }).bindPopup(popup(m)).addTo(layer);
        return;
      }
      var bounds = L.latLngBounds(group.map(function (m) { return [m.lat, m.lng]; }));
      var open = group.filter(function (m) { return m.open; }).length;
      var cluster = L.marker(bounds.getCenter(), {
        icon: L.divIcon({
          className: "map-cluster" + (open ? " has-open" : ""),
          html: String(group.length),
          iconSize: [40, 40]
        }),
        title: group.length + " 个站点，点击放大",
        keyboard: true
      });
      cluster.on("click", function () { map.fitBounds(bounds, { padding: [32, 32] }); });
      cluster.addTo(layer);
    });
  }

  fetch(element.getAttribute("data-markers"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    })
    .then(function (data) {
      stations = data.rows.map(function (row) {
        return {
          lat: row[1], lng: row[2], open: row[3] === 1, name: row[4],
          status: data.statuses[row[5]], url: data.url.replace("/0/", "/" + row[0] + "/")
        };
      });
      if (config.position) {
        map.setView(config.position, 14);
      } else if (stations.length) {
        map.fitBounds(stations.map(function (m) { return [m.lat, m.lng]; }),
                      { padding: [24, 24], maxZoom: 15 });
      }
      draw();
      map.on("zoomend", draw);
      element.setAttribute("data-ready", "");
    })
    .catch(fail);
})();
