// djgrade live sessions: the candidate's editor page (saves as they type,
// runs and submits), the interviewer's watch page (one event stream) and
// the playback (a slider over the snapshots). Everything the candidate
// typed is put on the page with textContent, never as HTML.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function hms(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toISOString().slice(11, 19);
  }
  function dur(ms) {
    if (!(ms >= 0)) return "";
    if (ms < 60000) return (Math.round(ms / 100) / 10) + "s";
    var s = Math.round(ms / 1000), m = Math.floor(s / 60);
    return m + "m" + (s % 60) + "s";
  }
  function left(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var mm = h > 0 && m < 10 ? "0" + m : "" + m;
    return (h > 0 ? h + ":" : "") + mm + ":" + (r < 10 ? "0" : "") + r;
  }
  function kib(n) { return n < 1024 ? n + " B" : (Math.round(n / 102.4) / 10) + " KiB"; }

  // request sends a JSON or form body and returns the decoded answer; an
  // error carries the API's code and message.
  function request(url, opts) {
    return fetch(url, opts).then(function (res) {
      return res.text().then(function (body) {
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var err = new Error(data && data.error ? data.error.message : "the server answered " + res.status);
          err.status = res.status;
          err.code = data && data.error ? data.error.code : "";
          throw err;
        }
        return data;
      });
    });
  }

  // The countdown: data-ends (RFC 3339) and data-now (the server's clock
  // when the page was made, against the browser's skew).
  function clock(box, onZero) {
    if (!box) return null;
    var timer = 0, skew = 0;
    function set(state, ends, now) {
      clearInterval(timer);
      box.dataset.state = state;
      box.textContent = "";
      if (now) skew = Date.parse(now) - Date.now();
      if (state === "ended") { box.appendChild(el("span", "clock-label", "Ended")); box.classList.remove("low"); return; }
      if (!ends) {
        box.appendChild(el("span", "clock-label", "Not started"));
        if (box.dataset.limit) box.appendChild(el("span", "muted", " " + box.dataset.limit + " once the candidate opens the link"));
        return;
      }
      box.appendChild(el("span", "clock-label", "Time left"));
      box.appendChild(document.createTextNode(" "));
      var out = el("span", "clock-time");
      box.appendChild(out);
      var end = Date.parse(ends);
      function tick() {
        var ms = end - (Date.now() + skew);
        out.textContent = left(ms);
        box.classList.toggle("low", ms < 5 * 60000);
        if (ms <= 0) { clearInterval(timer); if (onZero) onZero(); }
      }
      timer = setInterval(tick, 1000);
      tick();
    }
    set(box.dataset.state, box.dataset.ends, box.dataset.now);
    return { set: set };
  }

  // renderRun builds a run's block as the template live-run does.
  function renderRun(run) {
    var box = el("details", "run");
    box.open = true;
    box.dataset.run = run.seq;
    var head = el("summary", "run-head");
    head.appendChild(el("strong", "", "Run #" + run.seq));
    head.appendChild(document.createTextNode(" "));
    var meta = "of snapshot #" + run.snapshot + " · " + hms(run.at) + " UTC";
    if (run.done) meta += " · took " + dur(Date.parse(run.done) - Date.parse(run.at));
    head.appendChild(el("span", "muted", meta));
    head.appendChild(document.createTextNode(" "));
    if (run.error) head.appendChild(el("span", "verdict", "could not run"));
    else if (run.result) head.appendChild(el("span", "verdict v-" + run.result.verdict, run.result.verdict));
    else head.appendChild(el("span", "status s-running", "running"));
    box.appendChild(head);
    if (run.error) box.appendChild(el("p", "alert", run.error));
    var r = run.result;
    if (r) {
      if (r.reason) box.appendChild(el("p", "reason", r.reason));
      if (r.tests && r.tests.length) {
        var wrap = el("div", "table-wrap"), table = el("table", "data tests");
        var thead = el("thead"), tr = el("tr");
        [["Test", ""], ["Outcome", ""], ["Queries", "num"]].forEach(function (h) {
          var th = el("th", h[1], h[0]);
          th.scope = "col";
          tr.appendChild(th);
        });
        thead.appendChild(tr);
        table.appendChild(thead);
        var tbody = el("tbody");
        r.tests.forEach(function (t) {
          var row = el("tr"), name = el("th", "", t.name);
          name.scope = "row";
          if (t.message) name.appendChild(el("pre", "msg", t.message));
          row.appendChild(name);
          var oc = el("td");
          oc.appendChild(el("span", "outcome " + (t.outcome === "passed" ? "pass" : "fail"), t.outcome));
          row.appendChild(oc);
          var q = el("td", "num", String(t.queries || 0));
          q.setAttribute("data-queries", "");
          row.appendChild(q);
          tbody.appendChild(row);
        });
        table.appendChild(tbody);
        wrap.appendChild(table);
        box.appendChild(wrap);
      }
    }
    return box;
  }

  // putRun shows run first in list, replacing an earlier block of it;
  // only: the list holds this run alone; else the older runs fold.
  function putRun(list, run, only) {
    var old = list.querySelector('.run[data-run="' + run.seq + '"]');
    var box = renderRun(run);
    if (old) { box.open = old.open; list.replaceChild(box, old); return; }
    var empty = list.querySelector("[data-runs-empty], [data-results-empty]");
    if (empty) empty.remove();
    if (only) list.textContent = "";
    list.querySelectorAll(".run").forEach(function (r) { r.open = false; });
    list.insertBefore(box, list.firstChild);
  }

  function runSummary(run) {
    var s = "Run #" + run.seq + " of snapshot #" + run.snapshot;
    if (run.error) return s + ": could not run (" + run.error + ")";
    if (!run.result) return s + ": running…";
    var tests = run.result.tests || [], passed = tests.filter(function (t) { return t.outcome === "passed"; }).length;
    return s + ": " + run.result.verdict + ", " + passed + " of " + tests.length + " tests passed";
  }

  function highlightAll(root) {
    if (!window.DJEditor) return;
    root.querySelectorAll("pre.code").forEach(function (pre) { window.DJEditor.highlight(pre, pre.textContent); });
  }

  // ---- The candidate's editor.
  function editorPage(root) {
    var base = root.dataset.liveEditor, csrf = root.dataset.csrf;
    // Staff's preview: the page read-only, no saves, no stream.
    var preview = root.dataset.preview === "true";
    var ended = root.dataset.state === "ended" || preview;
    var files = {}, order = [], current = null;
    var state = $("[data-save-state]", root), errBox = $("[data-error]", root);
    var runBtn = $("[data-run]", root), submitBtn = $("[data-submit]", root), confirmBox = $("[data-confirm]", root);
    var results = $("[data-results]", root), pathLabel = $("[data-current-path]", root);
    var timer = 0, inflight = null, again = false, retry = 0, running = false;

    var ed = window.DJEditor.create($("[data-editor]", root), {
      label: "Code of the open file", describedBy: "editor-help", escapeTo: runBtn, readOnly: ended,
      onChange: changed, onRun: function () { if (runBtn) run(); }
    });

    function setState(kind, msg) {
      state.dataset.kind = kind;
      state.textContent = msg;
    }
    function showError(msg) {
      errBox.textContent = msg;
      errBox.hidden = !msg;
    }
    function post(path, body) {
      return request(base + path, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: JSON.stringify(body)
      });
    }
    function dirty() {
      return order.filter(function (p) { return files[p].editable && files[p].data !== files[p].saved; })
        .map(function (p) { return { path: p, content: files[p].data }; });
    }
    function markSaved(batch) { batch.forEach(function (f) { files[f.path].saved = f.content; }); }

    function changed(value) {
      if (!current || ended || !files[current].editable) return;
      files[current].data = value;
      setState("dirty", "Unsaved changes…");
      clearTimeout(timer);
      timer = setTimeout(save, 700);
    }
    function save() {
      clearTimeout(timer);
      timer = 0;
      if (inflight) { again = true; return inflight; }
      var batch = dirty();
      if (!batch.length || ended) return Promise.resolve();
      setState("saving", "Saving…");
      inflight = post("/save", { files: batch }).then(function (snap) {
        markSaved(batch);
        retry = 0;
        showError("");
        if (dirty().length) setState("dirty", "Unsaved changes…");
        else setState("saved", "Saved " + hms(snap.at) + " UTC (snapshot #" + snap.snapshot + ")");
      }, function (err) {
        setState("error", "Not saved: " + err.message);
        if (err.code === "conflict") { lock("The session has ended; your last saved work is kept."); return; }
        // A dropped connection or a busy server: try again, more slowly.
        if (!err.status || err.status >= 500 || err.status === 429) {
          retry = Math.min(retry ? retry * 2 : 2000, 30000);
          clearTimeout(timer);
          timer = setTimeout(save, retry);
        }
      }).then(function () {
        inflight = null;
        if (again) { again = false; return save(); }
      });
      return inflight;
    }
    // flush waits until nothing is being saved; the rest goes with the
    // run or the submit itself.
    function flush() {
      clearTimeout(timer);
      timer = 0;
      return inflight ? inflight.then(flush) : Promise.resolve();
    }

    function open(path) {
      if (!files[path]) return;
      current = path;
      ed.setText(files[path].data, ended || !files[path].editable);
      pathLabel.textContent = path + (files[path].editable && !ended ? "" : " (read-only)");
      root.querySelectorAll(".tree-file").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.path === path ? "true" : "false"); });
      try { sessionStorage.setItem(base + ":file", path); } catch (e) { /* private mode */ }
    }
    root.querySelectorAll(".tree-file").forEach(function (b) {
      b.addEventListener("click", function () { open(b.dataset.path); ed.focus(); });
    });

    function lock(msg) {
      ended = true;
      ed.setReadOnly(true);
      if (runBtn) runBtn.disabled = true;
      if (submitBtn) submitBtn.disabled = true;
      if (msg) showError(msg);
    }

    function run() {
      if (running || ended) return;
      running = true;
      runBtn.disabled = true;
      runBtn.textContent = "Running…";
      showError("");
      var status = el("p", "muted running-note", "Running the public tests…");
      status.setAttribute("data-running", "");
      results.insertBefore(status, results.firstChild);
      flush().then(function () {
        var batch = dirty();
        return post("/run", { files: batch }).then(function (r) {
          markSaved(batch);
          if (!dirty().length) setState("saved", "Saved (snapshot #" + r.snapshot + ")");
          putRun(results, r, true);
        });
      }).catch(function (err) {
        showError("The tests did not run: " + err.message);
        if (err.code === "conflict" && /ended/.test(err.message)) lock();
      }).then(function () {
        status.remove();
        running = false;
        runBtn.textContent = "Run tests";
        runBtn.disabled = ended;
      });
    }

    function submit() {
      confirmBox.hidden = true;
      lock();
      setState("saving", "Submitting…");
      flush().then(function () {
        var batch = dirty();
        return post("/submit", { files: batch }).then(function () {
          markSaved(batch);
          setState("saved", "Submitted");
          window.location.reload();
        });
      }).catch(function (err) {
        showError("The submission failed: " + err.message);
        if (err.code !== "conflict") {
          ended = false;
          ed.setReadOnly(!files[current] || !files[current].editable);
          runBtn.disabled = false;
          submitBtn.disabled = false;
        }
        setState("error", "Not submitted");
      });
    }
    if (runBtn) runBtn.addEventListener("click", run);
    if (submitBtn) submitBtn.addEventListener("click", function () {
      confirmBox.hidden = false;
      $("[data-confirm-yes]", confirmBox).focus();
    });
    if (confirmBox) {
      $("[data-confirm-yes]", confirmBox).addEventListener("click", submit);
      $("[data-confirm-no]", confirmBox).addEventListener("click", function () { confirmBox.hidden = true; submitBtn.focus(); });
    }

    // Nothing is lost when the page goes: a last save, kept alive past
    // the page where the body allows it (keepalive bodies are capped).
    window.addEventListener("pagehide", function () {
      var batch = dirty();
      if (!batch.length || ended) return;
      var body = JSON.stringify({ files: batch });
      fetch(base + "/save", {
        method: "POST", credentials: "same-origin", keepalive: body.length < 60000,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: body
      }).catch(function () { /* the page is going */ });
    });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") save(); });

    request(base + "/files", { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (d) {
      d.files.forEach(function (f) {
        if (f.binary) return;
        order.push(f.path);
        files[f.path] = { data: f.content, saved: f.content, editable: f.editable };
      });
      if (d.state === "ended") lock();
      var want = "";
      try { want = sessionStorage.getItem(base + ":file") || ""; } catch (e) { want = ""; }
      open(files[want] ? want : files[root.dataset.first] ? root.dataset.first : order[0]);
      if (preview) setState("saved", "Preview: read-only");
      else if (!ended) setState("saved", d.snapshots ? "All changes saved" : "Nothing changed yet");
      root.dataset.ready = "true";
    }, function (err) {
      showError("Your files could not be loaded: " + err.message + ". Reload the page to try again.");
    });

    if (preview) {
      clock($("[data-clock]", root));
      return;
    }
    clock($("[data-clock]", root), function () {
      if (ended) return;
      lock("Time is up. Your work up to now is kept.");
      setTimeout(function () { window.location.reload(); }, 2000);
    });

    var es = new EventSource(base + "/events");
    es.addEventListener("run", function (ev) {
      var e = JSON.parse(ev.data);
      // Our own run is shown from its answer; this is one from another tab.
      if (e.run && e.run.result && !running) putRun(results, e.run, true);
    });
    es.addEventListener("ended", function () {
      if (!ended) { lock("The session has ended."); setTimeout(function () { window.location.reload(); }, 1000); }
    });
    es.addEventListener("graded", function () { es.close(); window.location.reload(); });
    // Once ended, the submission's own stream (app.js, data-live-result)
    // follows the grading: it tells the state first, so nothing is missed.
    if (root.dataset.state === "ended") es.close();
  }

  // ---- The interviewer's watch page.
  function watchPage(root) {
    var base = root.dataset.liveWatch;
    var feed = $("[data-feed]", root), runs = $("[data-runs]", root), notes = $("[data-notes]", root);
    var grade = $("[data-grade]", root), status = $("[data-live-status]", root), endForm = $("[data-end]", root);
    var clk = clock($("[data-clock]", root));
    var diffTimer = 0;
    highlightAll(root);
    // The latest run stays open; the earlier ones fold to their line.
    runs.querySelectorAll(".run").forEach(function (r, i) { if (i > 0) r.open = false; });

    function addFeed(kind, at, msg) {
      var empty = feed.querySelector("[data-feed-empty]");
      if (empty) empty.remove();
      var li = el("li", "feed-" + kind);
      var t = el("time", "", hms(at));
      t.dateTime = at;
      li.appendChild(t);
      li.appendChild(document.createTextNode(" " + msg));
      feed.insertBefore(li, feed.firstChild);
    }

    function diffTable(d) {
      var det = el("details", "file");
      if (d.status === "changed" || d.status === "added") det.open = true;
      var sum = el("summary");
      sum.appendChild(el("code", "", d.path));
      sum.appendChild(document.createTextNode(" "));
      sum.appendChild(el("span", "tag", d.status));
      if (d.added || d.deleted) {
        sum.appendChild(document.createTextNode(" "));
        sum.appendChild(el("span", "add", "+" + d.added));
        sum.appendChild(document.createTextNode(" "));
        sum.appendChild(el("span", "del", "−" + d.deleted));
      }
      det.appendChild(sum);
      if (d.hunks.length) {
        var wrap = el("div", "diff-wrap"), table = el("table", "diff");
        d.hunks.forEach(function (h) {
          var tb = el("tbody"), hr = el("tr", "hunk"), hd = el("td", "", h.header);
          hd.colSpan = 3;
          hr.appendChild(hd);
          tb.appendChild(hr);
          h.lines.forEach(function (l) {
            var tr = el("tr", l.kind === "+" ? "ins" : l.kind === "-" ? "rem" : "ctx");
            tr.appendChild(el("td", "ln", l.old ? String(l.old) : ""));
            tr.appendChild(el("td", "ln", l.new ? String(l.new) : ""));
            var code = el("td", "code");
            code.appendChild(el("span", "mark", l.kind === "+" ? "+" : l.kind === "-" ? "−" : " "));
            code.appendChild(document.createTextNode(l.text));
            tr.appendChild(code);
            tb.appendChild(tr);
          });
          table.appendChild(tb);
        });
        wrap.appendChild(table);
        det.appendChild(wrap);
      }
      return det;
    }
    function refreshDiff() {
      request(base + "/diff", { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (list) {
        var box = $("[data-diffs]", root), cur = $("[data-current]", root);
        box.textContent = "";
        cur.textContent = "";
        var changed = 0;
        list.forEach(function (d) {
          if (d.status !== "unchanged") { box.appendChild(diffTable(d)); changed++; }
          var h = el("h3", "path");
          h.appendChild(el("code", "", d.path));
          cur.appendChild(h);
          var pre = el("pre", "code");
          pre.dataset.path = d.path;
          window.DJEditor.highlight(pre, d.text);
          cur.appendChild(pre);
        });
        $("[data-diffs-empty]", root).hidden = changed > 0;
      }).catch(function () { /* the next save redraws */ });
    }

    var es = new EventSource(base + "/events"), lost = false;
    // After a dropped stream the browser reconnects; what happened in
    // between is in the store, so the page is read again (or, while a
    // note is being typed, only the files).
    es.addEventListener("error", function () { lost = true; });
    es.addEventListener("open", function () {
      if (!lost) return;
      lost = false;
      var note = $("#note-text");
      if (note && note.value.trim()) refreshDiff();
      else window.location.reload();
    });
    es.addEventListener("save", function (ev) {
      var e = JSON.parse(ev.data), s = e.snapshot;
      addFeed("save", s.at, "Saved snapshot #" + s.seq + " (" + kib(s.bytes) + ")");
      clearTimeout(diffTimer);
      diffTimer = setTimeout(refreshDiff, 200);
    });
    es.addEventListener("run_start", function (ev) {
      var e = JSON.parse(ev.data);
      addFeed("run", e.run.at, runSummary(e.run));
      putRun(runs, e.run);
    });
    es.addEventListener("run", function (ev) {
      var e = JSON.parse(ev.data);
      addFeed("run", e.run.done || e.at, runSummary(e.run));
      putRun(runs, e.run);
      // Runs are numbered 1, 2, …: the latest's is the count. The page
      // keeps the latest maxRuns in full, as the server renders it.
      $("[data-run-count]", root).textContent = e.run.seq;
      var shown = runs.querySelectorAll(".run"), maxRuns = Number(runs.dataset.max || 20);
      for (var i = maxRuns; i < shown.length; i++) shown[i].remove();
    });
    es.addEventListener("submitted", function (ev) {
      var e = JSON.parse(ev.data);
      addFeed("submitted", e.at, "Submitted: " + e.submission + ", grading…");
      grade.textContent = "";
      grade.appendChild(el("h2", "", "Submission"));
      var p = el("p"), a = el("a", "", e.submission);
      a.href = "/ui/submissions/" + encodeURIComponent(e.submission);
      p.appendChild(a);
      p.appendChild(document.createTextNode(" "));
      p.appendChild(el("span", "status s-queued", "queued"));
      grade.appendChild(p);
      grade.appendChild(el("p", "muted", "Grading by the hidden judge…"));
    });
    es.addEventListener("graded", function (ev) {
      var e = JSON.parse(ev.data);
      addFeed("graded", e.at, "Graded: " + e.submission);
      var note = $("#note-text");
      // The grade is drawn by the server; keep a note being typed.
      if (note && note.value.trim()) {
        var p = el("p", "alert info");
        var a = el("a", "", "The submission is graded: reload to see the grade.");
        a.href = window.location.pathname;
        p.appendChild(a);
        grade.appendChild(p);
        return;
      }
      es.close();
      window.location.reload();
    });
    es.addEventListener("note", function (ev) { addNote(JSON.parse(ev.data).note); });
    es.addEventListener("started", function (ev) {
      var e = JSON.parse(ev.data);
      addFeed("started", e.at, "The candidate opened the session");
      status.textContent = "Live: saves and runs appear here as they happen.";
      if (clk && e.session) clk.set("active", e.session.ends_at, e.at);
    });
    es.addEventListener("ended", function (ev) {
      var e = JSON.parse(ev.data);
      var by = e.session && e.session.ended_by;
      addFeed("ended", e.at, by === "submit" ? "The candidate submitted; the session ended" : by === "time" ? "The time limit ran out; the session ended" : "The session ended");
      status.textContent = "The session has ended.";
      if (endForm) endForm.hidden = true;
      if (clk) clk.set("ended");
    });

    function addNote(n) {
      if (!n || notes.querySelector('[data-at="' + CSS.escape(n.at) + '"]')) return;
      var li = el("li");
      li.dataset.at = n.at;
      var t = el("time", "", hms(n.at));
      t.dateTime = n.at;
      li.appendChild(t);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "note-text", n.text));
      notes.appendChild(li);
    }
    var form = $("[data-note-form]", root);
    if (form) form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var err = $("[data-note-error]", form);
      request(form.action, {
        method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form))
      }).then(function (n) {
        err.hidden = true;
        $("#note-text").value = "";
        addNote(n);
      }, function (e) {
        err.textContent = "The note was not added: " + e.message;
        err.hidden = false;
      });
    });
  }

  // ---- The playback.
  function playbackPage(root) {
    var base = root.dataset.livePlayback;
    var slider = $("[data-scrub]", root);
    highlightAll(root);
    if (!slider) return;
    var snaps = Array.prototype.map.call(root.querySelectorAll("[data-snaps] li"), function (li) {
      return { seq: li.dataset.seq, at: li.dataset.at, bytes: +li.dataset.bytes, x: li.dataset.x };
    });
    var marks = Array.prototype.map.call(root.querySelectorAll("[data-marks] li"), function (li) {
      return { index: +li.dataset.index, run: li.dataset.run, verdict: li.dataset.verdict };
    });
    var out = $("[data-scrub-out]", root), label = $("[data-snap-label]", root), box = $("[data-snap-files]", root);
    var ring = root.querySelector("circle[data-at]"), cmpAt = $("[data-compare-at]", root);
    var cache = {}, want = 0, timer = 0;
    var started = root.dataset.started || (snaps.length ? snaps[0].at : "");
    function show(i, snap) {
      if (i !== want) return;
      var s = snaps[i - 1];
      var parts = ["Snapshot " + i, hms(s.at) + " UTC", s.bytes + " bytes"];
      if (started) parts.splice(2, 0, dur(Date.parse(s.at) - Date.parse(started)) + " after the start");
      var ran = marks.filter(function (m) { return m.index === i; });
      if (ran.length) parts.push("run #" + ran[0].run + ": " + ran[0].verdict + (ran.length > 1 ? " and " + (ran.length - 1) + " more runs of it" : ""));
      label.textContent = parts.join(" · ");
      box.textContent = "";
      (snap.files || []).forEach(function (f) {
        var h = el("h3", "path");
        h.appendChild(el("code", "", f.path));
        box.appendChild(h);
        var pre = el("pre", "code");
        pre.dataset.path = f.path;
        window.DJEditor.highlight(pre, f.content);
        box.appendChild(pre);
      });
      root.dataset.shown = String(i);
    }
    function go(i) {
      want = i;
      out.textContent = i;
      if (ring) ring.setAttribute("cx", snaps[i - 1].x);
      if (cmpAt) cmpAt.value = i;
      // "Compare" starts from what is shown: the starter against it.
      var to = $("#cmp-b");
      if (to) to.value = String(i);
      var u = new URL(window.location.href);
      u.searchParams.set("at", i);
      history.replaceState(null, "", u);
      var seq = snaps[i - 1].seq;
      if (cache[seq]) { show(i, cache[seq]); return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        request(base + "/snapshots/" + seq, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (snap) {
          cache[seq] = snap;
          show(i, snap);
        }, function (err) { label.textContent = "Snapshot " + i + " could not be loaded: " + err.message; });
      }, 60);
    }
    slider.addEventListener("input", function () { go(+slider.value); });
    root.dataset.ready = "true";
  }

  var r = $("[data-live-editor]");
  if (r && window.DJEditor) editorPage(r);
  r = $("[data-live-watch]");
  if (r) watchPage(r);
  r = $("[data-live-playback]");
  if (r) playbackPage(r);
})();
