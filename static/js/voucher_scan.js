// The counter's camera scan: where the browser has BarcodeDetector, read the voucher's QR code
// from the camera and look it up; elsewhere (or without permission) the typed-code form works.
(function () {
  var box = document.getElementById("scanner");
  var start = document.getElementById("scan-start");
  var video = document.getElementById("scan-video");
  var note = document.getElementById("scan-note");
  var form = document.getElementById("code-form");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  box.hidden = false;

  function codeFrom(text) {
    try {
      var url = new URL(text, window.location.href);
      return url.searchParams.get("code") || text;
    } catch (e) {
      return text;
    }
  }

  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    note.textContent = "正在打开摄像头……";
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        note.textContent = "请将兑换券二维码对准摄像头";
        return video.play().then(function () {
          var scan = function () {
            detector.detect(video).then(function (found) {
              if (found.length) {
                stream.getTracks().forEach(function (t) { t.stop(); });
                form.elements.code.value = codeFrom(found[0].rawValue);
                form.submit();
              } else {
                window.requestAnimationFrame(scan);
              }
            }, function () { window.requestAnimationFrame(scan); });
          };
          scan();
        });
      })
      .catch(function () {
        note.textContent = "无法使用摄像头，请手动输入券码。";
      });
  });
})();
