// djgrade's code editor, written for the live sessions: no library, no
// build step. A <textarea> (which keeps the browser's own caret, selection,
// undo, IME and accessibility) lies exactly over a <pre> that shows the same
// text highlighted as Python; both have the same font metrics and scroll
// together, and a gutter beside them numbers the lines.
//
// Keys: Tab inserts four spaces, or indents every selected line; Shift-Tab
// dedents the current or selected lines; Enter keeps the line's indentation
// (four more after a line ending in ':'); Backspace in leading spaces goes
// back to the previous multiple of four; Ctrl-Enter (Cmd-Enter) calls
// onRun. Since Tab indents, it cannot move the focus: Esc leaves the
// editor (to opts.escapeTo, or out of it), after which Tab moves on as
// anywhere else.
//
// The highlighted copy is built from text nodes and <span>s whose
// textContent is set: the candidate's text never goes through innerHTML.
(function () {
  "use strict";

  var KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except " +
    "finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "));
  var BUILTINS = new Set(("self cls print len range str int float bool list dict set tuple super isinstance issubclass " +
    "getattr setattr hasattr type object sorted enumerate zip map filter any all min max sum open repr " +
    "Exception ValueError KeyError TypeError AttributeError NotImplementedError").split(" "));
  var STRING_PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/;
  var NUMBER = /^(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/;
  var WORD = /^[A-Za-z_\u00c0-\uffff][A-Za-z0-9_\u00c0-\uffff]*/;
  var DECORATOR = /^@[A-Za-z_][A-Za-z0-9_.]*/;

  // tokenize splits Python source into [kind, text] pieces that cover it
  // exactly; kind is "" for plain text, else k (keyword), b (builtin),
  // s (string), c (comment), n (number), d (decorator), f (a name being
  // defined).
  function tokenize(src) {
    var out = [];
    var i = 0, n = src.length, plain = "", lineStart = true, defining = false;
    function flush() { if (plain) { out.push(["", plain]); plain = ""; } }
    function push(kind, text) { flush(); out.push([kind, text]); }
    // stringEnd returns the index after the string whose quote starts at q.
    function stringEnd(q) {
      var quote = src.substr(q, 3);
      if (quote !== '"""' && quote !== "'''") quote = src[q];
      var j = q + quote.length;
      while (j < n) {
        var ch = src[j];
        if (ch === "\\") { j += 2; continue; }
        if (quote.length === 1 && ch === "\n") return j; // unterminated: ends at the line
        if (src.substr(j, quote.length) === quote) return j + quote.length;
        j++;
      }
      return n;
    }
    while (i < n) {
      var c = src[i];
      if (c === "\n") { plain += c; i++; lineStart = true; continue; }
      if (c === " " || c === "\t" || c === "\r") { plain += c; i++; continue; }
      var rest = src.slice(i, i + 200);
      if (c === "#") {
        var e = src.indexOf("\n", i);
        if (e < 0) e = n;
        push("c", src.slice(i, e)); i = e; continue;
      }
      if (c === '"' || c === "'") {
        var s = stringEnd(i);
        push("s", src.slice(i, s)); i = s; lineStart = false; continue;
      }
      var m;
      if (c === "@" && lineStart && (m = DECORATOR.exec(rest))) {
        push("d", m[0]); i += m[0].length; lineStart = false; continue;
      }
      lineStart = false;
      if ((m = WORD.exec(rest))) {
        var w = m[0], next = src[i + w.length];
        if ((next === '"' || next === "'") && STRING_PREFIX.test(w)) {
          var s2 = stringEnd(i + w.length);
          push("s", src.slice(i, s2)); i = s2; continue;
        }
        if (defining) push("f", w);
        else if (KEYWORDS.has(w)) push("k", w);
        else if (BUILTINS.has(w)) push("b", w);
        else plain += w;
        defining = w === "def" || w === "class";
        i += w.length;
        continue;
      }
      if (c >= "0" && c <= "9" || c === "." && src[i + 1] >= "0" && src[i + 1] <= "9") {
        m = NUMBER.exec(rest);
        if (m && m[0]) { push("n", m[0]); i += m[0].length; continue; }
      }
      defining = false;
      plain += c;
      i++;
    }
    flush();
    return out;
  }

  // highlight fills el with text highlighted as Python, from DOM nodes.
  function highlight(el, text) {
    var frag = document.createDocumentFragment();
    tokenize(text).forEach(function (t) {
      if (!t[0]) { frag.appendChild(document.createTextNode(t[1])); return; }
      var span = document.createElement("span");
      span.className = "tok-" + t[0];
      span.textContent = t[1];
      frag.appendChild(span);
    });
    // A last empty line has no height in a <pre>; the textarea's does.
    if (text === "" || text[text.length - 1] === "\n") frag.appendChild(document.createTextNode(" "));
    el.textContent = "";
    el.appendChild(frag);
  }

  function lineStartOf(text, pos) { return text.lastIndexOf("\n", pos - 1) + 1; }
  function lineEndOf(text, pos) { var e = text.indexOf("\n", pos); return e < 0 ? text.length : e; }

  // create builds an editor in host. opts: label, describedBy, onChange(text),
  // onRun(), escapeTo (an element Esc moves the focus to), readOnly.
  function create(host, opts) {
    opts = opts || {};
    var wrap = document.createElement("div");
    wrap.className = "ed";
    var gutter = document.createElement("pre");
    gutter.className = "ed-gutter";
    gutter.setAttribute("aria-hidden", "true");
    var body = document.createElement("div");
    body.className = "ed-body";
    var hl = document.createElement("pre");
    hl.className = "ed-hl";
    hl.setAttribute("aria-hidden", "true");
    var ta = document.createElement("textarea");
    ta.className = "ed-input";
    ta.spellcheck = false;
    ta.setAttribute("wrap", "off");
    ta.setAttribute("autocomplete", "off");
    ta.setAttribute("autocapitalize", "off");
    ta.setAttribute("autocorrect", "off");
    ta.setAttribute("aria-label", opts.label || "Code");
    if (opts.describedBy) ta.setAttribute("aria-describedby", opts.describedBy);
    body.appendChild(hl);
    body.appendChild(ta);
    wrap.appendChild(gutter);
    wrap.appendChild(body);
    host.appendChild(wrap);
    if (opts.readOnly) { ta.readOnly = true; wrap.classList.add("readonly"); }

    var lines = 0, frame = 0;
    function render() {
      frame = 0;
      var text = ta.value;
      highlight(hl, text);
      var count = 1;
      for (var i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) count++;
      if (count !== lines) {
        lines = count;
        var nums = [];
        for (var k = 1; k <= count; k++) nums.push(k);
        gutter.textContent = nums.join("\n") + "\n ";
      }
      sync();
    }
    function schedule() { if (!frame) frame = requestAnimationFrame(render); }
    function sync() {
      hl.scrollTop = ta.scrollTop;
      hl.scrollLeft = ta.scrollLeft;
      gutter.scrollTop = ta.scrollTop;
    }

    // replace puts text in place of [start, end) as typing would (so that
    // undo keeps working where the browser supports it), then selects
    // [selStart, selEnd].
    function replace(start, end, text, selStart, selEnd) {
      ta.setSelectionRange(start, end);
      var done = false;
      try {
        done = text === "" ? (start === end || document.execCommand("delete")) : document.execCommand("insertText", false, text);
      } catch (e) { done = false; }
      if (!done) {
        ta.setRangeText(text, start, end, "end");
        ta.dispatchEvent(new Event("input", { bubbles: true }));
      }
      ta.setSelectionRange(selStart, selEnd);
    }

    // indentLines adds (or, with out, removes up to) four spaces at the
    // start of every line of the selection.
    function indentLines(out) {
      var text = ta.value, s = ta.selectionStart, e = ta.selectionEnd;
      var from = lineStartOf(text, s);
      var endPos = e > s && text[e - 1] === "\n" ? e - 1 : e;
      var to = lineEndOf(text, endPos);
      var block = text.slice(from, to).split("\n");
      var firstDelta = 0, total = 0;
      var changed = block.map(function (line, idx) {
        if (!out) {
          if (line === "") return line; // an empty line stays empty
          total += 4;
          if (idx === 0) firstDelta = 4;
          return "    " + line;
        }
        var m = /^( {1,4}|\t)/.exec(line);
        var cut = m ? m[0].length : 0;
        total -= cut;
        if (idx === 0) firstDelta = -Math.min(cut, s - from);
        return line.slice(cut);
      }).join("\n");
      if (changed === text.slice(from, to)) return;
      if (s === e) {
        var pos = Math.max(from, s + firstDelta);
        replace(from, to, changed, pos, pos);
      } else {
        replace(from, to, changed, Math.max(from, s + firstDelta), e + total);
      }
    }

    ta.addEventListener("keydown", function (ev) {
      var text = ta.value, s = ta.selectionStart, e = ta.selectionEnd;
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (opts.onRun) opts.onRun();
        return;
      }
      if (ev.key === "Escape") {
        ev.preventDefault();
        if (opts.escapeTo && !opts.escapeTo.disabled && opts.escapeTo.offsetParent !== null) opts.escapeTo.focus();
        else ta.blur();
        return;
      }
      if (ta.readOnly || ev.altKey || ev.ctrlKey || ev.metaKey || ev.isComposing) return;
      if (ev.key === "Tab") {
        ev.preventDefault();
        if (ev.shiftKey) indentLines(true);
        else if (text.slice(s, e).indexOf("\n") >= 0) indentLines(false);
        else replace(s, e, "    ", s + 4, s + 4);
        return;
      }
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        var ls = lineStartOf(text, s);
        var before = text.slice(ls, s);
        var indent = /^[ \t]*/.exec(before)[0];
        if (/:\s*$/.test(before.replace(/#.*$/, ""))) indent += "    ";
        var ins = "\n" + indent;
        replace(s, e, ins, s + ins.length, s + ins.length);
        return;
      }
      if (ev.key === "Backspace" && s === e && s > 0) {
        var start = lineStartOf(text, s);
        var lead = text.slice(start, s);
        if (lead.length > 0 && /^ +$/.test(lead)) {
          ev.preventDefault();
          var back = lead.length % 4 || 4;
          replace(s - back, s, "", s - back, s - back);
        }
      }
    });
    ta.addEventListener("input", function () {
      schedule();
      if (opts.onChange && !ta.readOnly) opts.onChange(ta.value);
    });
    ta.addEventListener("scroll", sync);

    return {
      textarea: ta,
      // setText shows text (a file switch or a load: no onChange).
      setText: function (text, readOnly) {
        ta.value = text;
        ta.readOnly = !!readOnly;
        wrap.classList.toggle("readonly", !!readOnly);
        ta.setSelectionRange(0, 0);
        ta.scrollTop = 0;
        ta.scrollLeft = 0;
        render();
      },
      getText: function () { return ta.value; },
      setReadOnly: function (ro) { ta.readOnly = !!ro; wrap.classList.toggle("readonly", !!ro); },
      focus: function () { ta.focus(); }
    };
  }

  window.DJEditor = { create: create, highlight: highlight, tokenize: tokenize };
})();
