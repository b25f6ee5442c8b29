// "离我最近": ask the browser for the position and reload the list sorted by distance.
// Without JavaScript or permission the page stays a filterable list.
(function () {
  var button = document.getElementById("near-me");
  var form = document.getElementById("finder-form");
  var note = document.getElementById("near-me-note");
  if (!button || !form || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    note.textContent = "正在定位……";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lng.value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      function () {
        note.textContent = "无法获取位置（可能未允许定位），可以按街镇查找。";
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
