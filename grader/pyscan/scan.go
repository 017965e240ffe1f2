// Package pyscan reads Python source with a small tokenizer and reports what
// looks like an attempt on the grader (see Scan). Its one reason to change
// is what counts as such an attempt; it knows nothing of exercises or
// grading, and nothing it finds decides a point.
package pyscan

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding is one place in a candidate's Python file that looks like an
// attempt on the grader: an import of pytest's or djgrade's machinery, a use of
// sys.modules, gc.get_objects, os._exit or atexit, an assignment to a
// function's __code__ or a use of its __globals__, __closure__, defaults or
// cells, or an import by a computed name.
type Finding struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	// What names the thing found, e.g. "import _pytest" or "os._exit".
	What string `json:"what"`
}

// scanModules are modules an exercise's editable code never needs: the test
// runner's internals, its hook machinery, djgrade's in-container code and
// ctypes (which reaches any memory of the process). Plain pytest is not
// among them: candidates write tests of their own.
var scanModules = []string{"_pytest", "pluggy", "djgrade_judge", "djgrade_agent", "djgrade_common", "djgrade_public", "ctypes"}

// scanAttrs are module attributes that reach into the running grader: every
// loaded module (the plugin among them), every live object (the recorder),
// an exit that skips pytest's own reporting. Every attribute of atexit
// counts: code run after the session is over is code after the report.
var scanAttrs = map[string]map[string]bool{
	"sys":    {"modules": true},
	"gc":     {"get_objects": true, "get_referrers": true, "get_referents": true},
	"os":     {"_exit": true},
	"atexit": nil, // any use
}

// scanInternals are attributes of functions and closure cells that only code
// rewriting another function needs: with them a submission changes what a
// function of pytest or of the plugin does without replacing it (so an
// identity check cannot see it). Reading __code__ is common enough
// (introspection, co_name); assigning it is not.
var scanInternals = map[string]bool{
	"__globals__": true, "__closure__": true, "__defaults__": true, "__kwdefaults__": true, "cell_contents": true,
}

// scanImporters are the functions that import a module by a name computed
// at run time, which hides from this scan which module it is.
var scanImporters = map[string]bool{"import_module": true, "__import__": true}

// Scan reads the candidate's Python files (paths ending in .py) and returns
// what looks like an attack on the grader, ordered by path and line. It is
// a signal for the interviewer, never a grade: the defence is that the
// judge runs in a container candidate code cannot reach, so whatever a
// submission patches is its own process. A finding says that it tried.
//
// It reads real tokens, so comments and docstrings that mention pytest are
// not findings, and it follows "import os as o" and "from os import _exit".
func Scan(files []Source) []Finding {
	var out []Finding
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		for _, fd := range scanPython(f.Data) {
			fd.Path = f.Path
			out = append(out, fd)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// Source is one file to scan: its path (only paths ending in .py are read)
// and its content.
type Source struct {
	Path string
	Data []byte
}

type tokKind int

const (
	tokName tokKind = iota
	tokString
	tokOp
	tokNewline // the end of a logical line
	tokNumber  // a number literal, only when tokenize is asked for them
)

type token struct {
	kind tokKind
	text string // a name, an operator, a number, or a string's content
	line int
	// off and end are the token's byte range in the source (with a
	// string's prefix and quotes); a newline's range is empty.
	off, end int
}

// tokenize splits Python source into names, string contents, operators and
// logical line ends, and numbers if asked. Whitespace and comments are
// dropped; it never fails, since a file that does not parse is the
// interpreter's business.
func tokenize(src string, numbers bool) []token {
	var toks []token
	line, depth := 1, 0
	i := 0
	emitNewline := func() {
		if depth == 0 && len(toks) > 0 && toks[len(toks)-1].kind != tokNewline {
			toks = append(toks, token{kind: tokNewline, line: line, off: i, end: i})
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			emitNewline()
			line++
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			line++
			i += 2
		case c == ';':
			emitNewline()
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '"' || c == '\'':
			start := line
			s, n, lines := readString(src[i:])
			toks = append(toks, token{kind: tokString, text: s, line: start, off: i, end: i + n})
			line += lines
			i += n
		case isNameStart(src, i):
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			word := src[i:j]
			// A string prefix (r, b, f, u and their pairs) glued to a quote.
			if j < len(src) && (src[j] == '"' || src[j] == '\'') && len(word) <= 2 && strings.Trim(strings.ToLower(word), "rbfu") == "" {
				start := line
				s, n, lines := readString(src[j:])
				if strings.ContainsAny(strings.ToLower(word), "f") {
					s = "" // an f-string's text is not a constant name
				}
				toks = append(toks, token{kind: tokString, text: s, line: start, off: i, end: j + n})
				line += lines
				i = j + n
				continue
			}
			toks = append(toks, token{kind: tokName, text: word, line: line, off: i, end: j})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isAlnum(src[j]) || src[j] == '.') {
				j++
			}
			if numbers {
				toks = append(toks, token{kind: tokNumber, text: src[i:j], line: line, off: i, end: j})
			}
			i = j
		default:
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			toks = append(toks, token{kind: tokOp, text: string(c), line: line, off: i, end: i + 1})
			i++
		}
	}
	emitNewline()
	return toks
}

func isAlnum(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameStart(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return r == '_' || unicode.IsLetter(r)
}

// readString reads a string literal at the start of s (a quote), returning
// its content (escapes kept as written), its length in bytes and the number
// of newlines in it. An unterminated string runs to the end of the line (or
// of the file, if triple-quoted).
func readString(s string) (content string, n int, lines int) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		q = q + q + q
	}
	i := len(q)
	for i < len(s) {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			if s[i+1] == '\n' {
				lines++
			}
			i += 2
		case strings.HasPrefix(s[i:], q):
			return s[len(q):i], i + len(q), lines
		case s[i] == '\n':
			if len(q) == 1 {
				return s[1:i], i, lines
			}
			lines++
			i++
		default:
			i++
		}
	}
	return s[len(q):], len(s), lines
}

// scanPython returns the findings of one file's source, without paths.
func scanPython(data []byte) []Finding {
	toks := tokenize(string(data), false)
	var out []Finding
	add := func(line int, what string) {
		out = append(out, Finding{Line: line, What: what})
	}
	// alias maps a local name to the module it is bound to.
	alias := map[string]string{"sys": "sys", "gc": "gc", "os": "os", "atexit": "atexit"}
	watched := func(mod string) bool { _, ok := scanAttrs[mod]; return ok }
	attrFinding := func(mod, attr string) (string, bool) {
		attrs, ok := scanAttrs[mod]
		if !ok {
			return "", false
		}
		if attrs == nil {
			return mod + "." + attr, true
		}
		if attrs[attr] {
			return mod + "." + attr, true
		}
		return "", false
	}
	// importers are the local names of importlib.import_module and
	// __import__ (from importlib import import_module as im).
	importers := map[string]bool{"import_module": true, "__import__": true}
	stmtStart := true
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokNewline {
			stmtStart = true
			continue
		}
		first := stmtStart
		stmtStart = false
		// f.__code__ = ..., x.__closure__, anything.__globals__: at any
		// depth of a chain.
		if t.kind == tokOp && t.text == "." && i+1 < len(toks) && toks[i+1].kind == tokName {
			attr := toks[i+1].text
			if attr == "__code__" && i+2 < len(toks) && toks[i+2].text == "=" && (i+3 >= len(toks) || toks[i+3].text != "=") {
				add(t.line, "assignment to __code__")
			}
			if scanInternals[attr] {
				add(t.line, "access to "+attr)
			}
		}
		// import_module(name) / __import__(name) with anything but one
		// constant string as the name.
		if t.kind == tokName && importers[t.text] && (i == 0 || toks[i-1].text != "def") && i+1 < len(toks) && toks[i+1].text == "(" {
			constant := i+3 < len(toks) && toks[i+2].kind == tokString && toks[i+2].text != "" && (toks[i+3].text == ")" || toks[i+3].text == ",")
			if !constant {
				add(t.line, "import with a computed name")
			}
		}
		switch {
		case t.kind == tokName && t.text == "import" && first:
			// import a.b as c, d
			i++
			for i < len(toks) && toks[i].kind != tokNewline {
				mod, next := dotted(toks, i)
				i = next
				local := strings.Split(mod, ".")[0]
				if i+1 < len(toks) && toks[i].text == "as" && toks[i+1].kind == tokName {
					local = toks[i+1].text
					i += 2
				}
				if what, ok := moduleFinding(mod); ok {
					add(t.line, "import "+what)
				}
				if top := strings.Split(mod, ".")[0]; watched(top) {
					alias[local] = top
					if top == "atexit" {
						add(t.line, "import atexit")
					}
				}
				if i < len(toks) && toks[i].text == "," {
					i++
					continue
				}
				break
			}
			i--
			stmtStart = false
		case t.kind == tokName && t.text == "from" && first:
			// from a.b import c as d, (e, f)
			j := i + 1
			for j < len(toks) && toks[j].text == "." {
				j++ // relative: the candidate's own package
			}
			relative := j > i+1
			mod, next := dotted(toks, j)
			if relative {
				mod = ""
			}
			if what, ok := moduleFinding(mod); ok {
				add(t.line, "import "+what)
			}
			j = next
			if j < len(toks) && toks[j].text == "import" {
				j++
			}
			for j < len(toks) && toks[j].kind != tokNewline {
				// "*" is an operator token: from os import * binds _exit.
				if mod != "" && (toks[j].kind == tokName || toks[j].text == "*") {
					if w, ok := attrFinding(mod, toks[j].text); ok && toks[j].text != "*" {
						add(t.line, w)
					}
					if watched(mod) && toks[j].text == "*" {
						add(t.line, "from "+mod+" import *")
					}
				}
				if toks[j].text == "as" {
					if mod == "importlib" && j > 0 && scanImporters[toks[j-1].text] && j+1 < len(toks) && toks[j+1].kind == tokName {
						importers[toks[j+1].text] = true
					}
					j++ // skip the local name
				}
				j++
			}
			i = j - 1
		case t.kind == tokName && i+2 < len(toks) && toks[i+1].text == "." && toks[i+2].kind == tokName:
			// name.attr, through any alias of a watched module
			if i > 0 && toks[i-1].text == "." {
				break // the tail of a longer chain: x.os._exit is not os
			}
			if mod, ok := alias[t.text]; ok {
				if w, ok := attrFinding(mod, toks[i+2].text); ok {
					add(t.line, w)
				}
			}
		case t.kind == tokName && t.text == "getattr" && i+5 < len(toks) && toks[i+1].text == "(" && toks[i+2].kind == tokName && toks[i+3].text == "," && toks[i+4].kind == tokString:
			if mod, ok := alias[toks[i+2].text]; ok {
				if w, ok := attrFinding(mod, toks[i+4].text); ok {
					add(t.line, w)
				}
			}
		case t.kind == tokString:
			// __import__("pytest"), importlib.import_module("_pytest.runner"),
			// sys.modules.get("djgrade_pytest"): a name in a string.
			if what, ok := moduleFinding(strings.TrimSpace(t.text)); ok {
				add(t.line, "reference to "+what)
			}
			// setattr(f, "__code__", g), getattr(importlib, "import_module").
			if name := strings.TrimSpace(t.text); name == "__code__" || scanInternals[name] || scanImporters[name] {
				add(t.line, "reference to "+name)
			}
		}
	}
	return dedupe(out)
}

// dotted reads a dotted name at toks[i] and returns it and the index after it.
func dotted(toks []token, i int) (string, int) {
	var parts []string
	for i < len(toks) && toks[i].kind == tokName {
		parts = append(parts, toks[i].text)
		i++
		if i < len(toks) && toks[i].text == "." {
			i++
			continue
		}
		break
	}
	return strings.Join(parts, "."), i
}

// moduleFinding reports whether the dotted module name is, or is inside, a
// module of scanModules, and returns its name.
func moduleFinding(mod string) (string, bool) {
	if mod == "" {
		return "", false
	}
	top := strings.Split(mod, ".")[0]
	for _, m := range scanModules {
		if top == m {
			return mod, true
		}
	}
	return "", false
}

func dedupe(in []Finding) []Finding {
	seen := map[Finding]bool{}
	out := in[:0]
	for _, f := range in {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
