// The station map: markers from the page's JSON; tiles from the configured server.
// If Leaflet or the tiles cannot load, the list below the map still works.
(function () {
  var element = document.getElementById("station-map");
  if (!element || typeof L === "undefined") return;
  var markers = JSON.parse(document.getElementById("station-markers").textContent);
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map(element).setView([30.92, 121.50], 11);
  L.tileLayer(config.tiles, { maxZoom: 18, attribution: config.attribution }).addTo(map);
  var bounds = [];
  markers.forEach(function (m) {
    var marker = L.circleMarker([m.lat, m.lng], {
      radius: 9, weight: 2, color: "#fff",
      fillColor: m.open ? "#1b873f" : "#8a8a8a", fillOpacity: 0.95
    }).addTo(map);
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;
    var popup = document.createElement("div");
    popup.appendChild(link);
    popup.appendChild(document.createElement("br"));
    popup.appendChild(document.createTextNode(m.status));
    marker.bindPopup(popup);
    bounds.push([m.lat, m.lng]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
})();
