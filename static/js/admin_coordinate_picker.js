// Station admin: click on a small map to fill latitude and longitude (WGS-84).
// The map needs a reachable tile server; pasting "lat,lng" always works without it.
window.addEventListener("load", function () {
  var lat = document.getElementById("id_latitude");
  var lng = document.getElementById("id_longitude");
  var pasted = document.getElementById("id_coordinates");
  var tiles = pasted && pasted.dataset.tiles;
  if (!lat || !lng || !tiles || typeof L === "undefined") return;
  var box = document.createElement("div");
  box.style.cssText = "height:320px;max-width:640px;margin:8px 0;border:1px solid #ccc";
  lng.closest(".form-row").after(box);
  // 高德 tiles are drawn in GCJ-02: show stored WGS-84 shifted, and shift clicks back.
  var gcj = pasted.dataset.coordinates === "gcj02";
  function transform(x, y, lat) {
    var s = Math.sin, p = Math.PI;
    var common = (20 * s(6 * x * p) + 20 * s(2 * x * p)) * 2 / 3;
    return lat
      ? -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common +
        (20 * s(y * p) + 40 * s(y / 3 * p)) * 2 / 3 + (160 * s(y / 12 * p) + 320 * s(y * p / 30)) * 2 / 3
      : 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common +
        (20 * s(x * p) + 40 * s(x / 3 * p)) * 2 / 3 + (150 * s(x / 12 * p) + 300 * s(x / 30 * p)) * 2 / 3;
  }
  function toGcj(la, ln) {  // the formula of stations/geo.py wgs84_to_gcj02
    if (!gcj) return [la, ln];
    var a = 6378245.0, ee = 0.00669342162296594323, rad = la / 180 * Math.PI;
    var magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    var dLat = transform(ln - 105, la - 35, true) * 180 / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    var dLng = transform(ln - 105, la - 35, false) * 180 / (a / sq * Math.cos(rad) * Math.PI);
    return [la + dLat, ln + dLng];
  }
  function fromGcj(la, ln) {  // inverse by iteration: a few steps reach millimetres
    var w = [la, ln];
    for (var i = 0; i < 5; i++) {
      var g = toGcj(w[0], w[1]);
      w = [w[0] - (g[0] - la), w[1] - (g[1] - ln)];
    }
    return w;
  }
  var start = lat.value && lng.value ? toGcj(parseFloat(lat.value), parseFloat(lng.value)) : [30.92, 121.5];
  var map = L.map(box).setView(start, lat.value ? 15 : 11);
  L.tileLayer(tiles, { maxZoom: 18 }).addTo(map);
  var marker = lat.value ? L.marker(start).addTo(map) : null;
  map.on("click", function (event) {
    var stored = fromGcj(event.latlng.lat, event.latlng.lng);
    lat.value = stored[0].toFixed(6);
    lng.value = stored[1].toFixed(6);
    if (marker) marker.setLatLng(event.latlng); else marker = L.marker(event.latlng).addTo(map);
  });
});
