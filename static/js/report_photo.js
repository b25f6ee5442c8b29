// 拍贤城: shrink the photo in the phone before it is sent (a 12-megapixel picture is 3-5 MB,
// a minute on a weak signal; 1600 px at JPEG 0.8 is a few hundred KB), then send the form with a
// progress bar and a button that cannot be tapped twice. A photo full of fine detail (foliage,
// gravel) stays large at 0.8, so the quality steps down, then the size, until it fits BUDGET:
// the upload stays under 500 KB whatever was photographed. Without this script the form still
// posts the original photo, which the server shrinks itself.
(function () {
  var form = document.getElementById("report-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = form.elements.photo;
  var note = document.getElementById("photo-note");
  var submit = document.getElementById("report-submit");
  var progress = document.getElementById("upload-progress");
  var uploadNote = document.getElementById("upload-note");
  var SIDES = [1600, 1280], QUALITIES = [0.8, 0.7, 0.6, 0.5], BUDGET = 450 * 1024;
  var shrunk = null;      // the resized photo, sent instead of the chosen file
  var shrinking = null;   // a promise while resizing

  function kb(bytes) { return Math.round(bytes / 1024) + " KB"; }

  function shrink(file) {
    if (!window.createImageBitmap || !file.type || file.type.indexOf("image/") !== 0) {
      return Promise.resolve(null);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var tries = [];
      SIDES.forEach(function (side) {
        QUALITIES.forEach(function (quality) { tries.push([side, quality]); });
      });
      function attempt() {
        var side = tries[0][0], quality = tries.shift()[1];
        return encode(bitmap, side, quality).then(function (blob) {
          if (!blob || blob.size <= BUDGET || !tries.length) return blob;
          return attempt();
        });
      }
      return attempt().then(function (blob) { return blob && blob.size < file.size ? blob : null; });
    }).catch(function () { return null; });
  }

  function encode(bitmap, longest, quality) {
    var scale = Math.min(1, longest / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  if (input) {
    input.addEventListener("change", function () {
      shrunk = null;
      var file = input.files && input.files[0];
      if (!file) return;
      note.textContent = "正在处理照片……";
      shrinking = shrink(file).then(function (blob) {
        shrunk = blob;
        note.textContent = "已选好照片（" + kb(blob ? blob.size : file.size) + "）。";
        shrinking = null;
      });
    });
  }

  function send() {
    var data = new FormData(form);
    if (shrunk) data.set("photo", shrunk, "photo.jpg");
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((event.loaded / event.total) * 100);
      progress.value = percent;
      uploadNote.textContent = "正在上传 " + percent + "%（" + kb(event.loaded) + " / " + kb(event.total) + "）";
    });
    request.addEventListener("load", function () {
      // Show the answer the request got: the page it was sent on to (我的, with its 已提交
      // message, which the server shows once) or the form again with what to correct (the
      // photo is kept on the server). Loading the address again would lose the message.
      if (request.responseURL) window.history.replaceState(null, "", request.responseURL);
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      submit.disabled = false;
      submit.textContent = "提交报告";
      progress.hidden = true;
      uploadNote.textContent = "网络不好，没有发送成功，请再点一次“提交报告”。";
    });
    request.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    submit.textContent = "正在提交……";
    progress.hidden = false;
    progress.value = 0;
    uploadNote.textContent = "正在上传……";
    (shrinking || Promise.resolve()).then(send);
  });
})();
