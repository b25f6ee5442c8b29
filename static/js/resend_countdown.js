// 重新获取验证码 stays disabled while the server would refuse it (60 s after a code was sent):
// the page renders it disabled with the seconds left; this counts down and enables it.
(function () {
  var button = document.getElementById("resend");
  if (!button || !button.disabled) return;
  var left = parseInt(button.getAttribute("data-wait"), 10) || 0;
  var note = document.getElementById("resend-wait");
  var timer = setInterval(function () {
    left -= 1;
    if (left > 0) {
      if (note) note.textContent = "（" + left + " 秒后可重新获取）";
      return;
    }
    clearInterval(timer);
    button.disabled = false;
    if (note) note.remove();
  }, 1000);
})();
