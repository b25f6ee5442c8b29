// 拍贤城: optionally attach the phone's position to a report.
(function () {
  var button = document.getElementById("use-location");
  var form = document.getElementById("report-form");
  var note = document.getElementById("location-note");
  if (!button || !form || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    note.textContent = "正在定位……";
    navigator.geolocation.getCurrentPosition(function (p) {
      form.elements.latitude.value = p.coords.latitude.toFixed(6);
      form.elements.longitude.value = p.coords.longitude.toFixed(6);
      note.textContent = "已附上位置。";
    }, function () { note.textContent = "无法获取位置，请在“地点”里写清楚。"; },
    { enableHighAccuracy: true, timeout: 10000 });
  });
})();
