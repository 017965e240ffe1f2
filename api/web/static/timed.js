// djgrade timed assignments: the countdown of an assignment and the copy
// buttons of its link and message. The page shows both without this file:
// the time left as the server rendered it, and fields to select and copy.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clockText(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  // Countdown: data-ends against the server's clock (data-now), so that a
  // candidate's wrong system clock does not move it.
  document.querySelectorAll("[data-countdown]").forEach(function (box) {
    var ends = Date.parse(box.dataset.ends), now = Date.parse(box.dataset.now);
    if (isNaN(ends) || isNaN(now)) return;
    var skew = now - Date.now();
    var time = box.querySelector("[data-countdown-time]");
    var label = box.querySelector("[data-countdown-label]");
    var timer = null;
    function tick() {
      var left = ends - (Date.now() + skew);
      if (time) time.textContent = clockText(left);
      box.classList.toggle("low", left > 0 && left < 5 * 60 * 1000);
      if (left <= 0) {
        if (timer) clearInterval(timer);
        box.dataset.state = "expired";
        if (label) label.textContent = "Time is up";
        // After the time the upload is refused or marked late: say which,
        // and take the form away when it would be refused.
        var card = document.querySelector("[data-submit-card]");
        var notice = document.querySelector("[data-timed-notice]");
        if (box.dataset.after === "refuse") {
          if (card) card.hidden = true;
          if (notice) { notice.textContent = "Your time is up; submissions are no longer accepted."; notice.className = "alert"; }
        } else if (notice) {
          notice.textContent = "Your time is up. You can still submit; the submission will be marked late.";
          notice.className = "alert";
        }
      }
    }
    tick();
    if (ends - (Date.now() + skew) > 0) timer = setInterval(tick, 1000);
  });

  // Copy buttons: each names the field it copies (data-copy-from).
  document.querySelectorAll("button[data-copy-from]").forEach(function (btn) {
    var field = document.getElementById(btn.dataset.copyFrom);
    var note = document.querySelector('[data-copied-for="' + btn.dataset.copyFrom + '"]');
    if (!field) return;
    btn.hidden = false;
    function done(text) {
      if (!note) return;
      note.textContent = text;
      setTimeout(function () { note.textContent = ""; }, 2500);
    }
    btn.addEventListener("click", function () {
      var value = field.value;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(function () { done("Copied"); }, function () {
          field.select();
          done("Selected: press Ctrl+C (⌘C) to copy");
        });
      } else {
        field.select();
        try { done(document.execCommand("copy") ? "Copied" : "Selected: press Ctrl+C (⌘C) to copy"); }
        catch (e) { done("Selected: press Ctrl+C (⌘C) to copy"); }
      }
    });
  });
})();
