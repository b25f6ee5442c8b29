// The station map: markers as compact JSON from the page's data-markers URL; tiles from the
// configured server. If Leaflet or the tiles cannot load, the list below the map still works.
(function () {
  var element = document.getElementById("station-map");
  if (!element || typeof L === "undefined") return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(element).setView([30.92, 121.50], 11);
  L.tileLayer(config.tiles, { maxZoom: 18, attribution: config.attribution }).addTo(map);

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

  fetch(element.getAttribute("data-markers"), { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      var bounds = [];
      data.rows.forEach(function (row) {
        var m = {
          lat: row[1], lng: row[2], open: row[3] === 1, name: row[4],
          status: data.statuses[row[5]], url: data.url.replace("/0/", "/" + row[0] + "/")
        };
        L.circleMarker([m.lat, m.lng], {
          radius: 9, weight: 2, color: "#fff",
          fillColor: m.open ? "#1b873f" : "#8a8a8a", fillOpacity: 0.95
        }).bindPopup(popup(m)).addTo(map);
        bounds.push([m.lat, m.lng]);
      });
      if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    });
})();
