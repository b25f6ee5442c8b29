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
  var start = lat.value && lng.value ? [parseFloat(lat.value), parseFloat(lng.value)] : [30.92, 121.5];
  var map = L.map(box).setView(start, lat.value ? 15 : 11);
  L.tileLayer(tiles, { maxZoom: 18 }).addTo(map);
  var marker = lat.value ? L.marker(start).addTo(map) : null;
  map.on("click", function (event) {
    lat.value = event.latlng.lat.toFixed(6);
    lng.value = event.latlng.lng.toFixed(6);
    if (marker) marker.setLatLng(event.latlng); else marker = L.marker(event.latlng).addTo(map);
  });
});
