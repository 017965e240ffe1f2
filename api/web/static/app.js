// djgrade dashboard: live progress over server-sent events and filters that
// apply on change. Every page works without this file.
(function () {
  "use strict";

  // Filters: submit the form when a select or date changes.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select, input[type=date]").forEach(function (el) {
      el.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  });

  // Copy fields: select the whole value on focus.
  document.querySelectorAll("input[data-copy]").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });

  function setStatus(el, status) {
    if (!el) return;
    el.textContent = status;
    el.className = "status s-" + status;
  }
  function final(status) { return status === "done" || status === "error" || status === "cancelled"; }

  // Submissions table: update rows of queued and running submissions.
  var table = document.querySelector("[data-live-table]");
  if (table && table.querySelector("tr[data-status=queued], tr[data-status=running]")) {
    var all = new EventSource("/ui/events");
    all.addEventListener("status", function (ev) {
      var s = JSON.parse(ev.data);
      var row = table.querySelector('tr[data-id="' + CSS.escape(s.id) + '"]');
      if (!row) return;
      row.dataset.status = s.status;
      setStatus(row.querySelector("[data-cell=status] .status"), s.status);
      if (s.status === "done" && s.score !== undefined) {
        row.querySelector("[data-cell=score]").textContent = s.score + " / " + s.max_score;
        var v = document.createElement("span");
        v.className = "verdict v-" + s.verdict;
        v.textContent = s.verdict;
        var cell = row.querySelector("[data-cell=verdict]");
        cell.textContent = "";
        cell.appendChild(v);
      }
    });
  }

  // One submission (staff) or a candidate's result: follow it, reload at the end.
  function follow(url, box) {
    var es = new EventSource(url);
    es.addEventListener("status", function (ev) {
      var s = JSON.parse(ev.data);
      setStatus(box.querySelector("[data-cell=status]"), s.status);
      var step = box.querySelector("[data-step=running]");
      if (step && (s.status === "running" || final(s.status))) step.classList.add("on");
      if (final(s.status)) {
        es.close();
        var done = box.querySelector("[data-step=done]");
        if (done) done.classList.add("on");
        var note = box.querySelector("[data-live-note]");
        if (note) note.textContent = "Finished. Loading the result…";
        window.location.reload();
      }
    });
  }
  var sub = document.querySelector("[data-live-sub]");
  if (sub) follow("/ui/events?id=" + encodeURIComponent(sub.dataset.liveSub), sub);
  var res = document.querySelector("[data-live-result]");
  if (res) follow(res.dataset.liveResult, res);
})();
