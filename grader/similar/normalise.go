package similar

import (
	"strings"

	"github.com/djgrade/djgrade/grader/pyscan"
)

// Token classes of the normalised stream. They cannot collide with
// Python's own tokens, which never start with '$'.
const (
	className    = "$id"  // an identifier the submission binds
	classString  = "$str" // any string literal
	classNumber  = "$num" // any number literal
	classNewline = "$nl"  // the end of a logical line
)

// keywords are Python's reserved words, kept as themselves.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`False None True and as assert async await break class continue
		def del elif else except finally for from global if import in is lambda nonlocal not or
		pass raise return try while with yield`) {
		keywords[k] = true
	}
}

// norm is one token of the normalised stream and the lines it came from.
type norm struct {
	text        string
	line, until int
}

// region is a run of normalised tokens that k-grams never cross: a
// function or method with its decorators, a class header with the
// attributes before its first method, or one module-level statement.
type region struct {
	path string
	toks []norm
}

// logical is one logical line of a file: its tokens without the Newline.
type logical struct {
	toks []pyscan.Token
	// atLineStart reports whether the first token begins its physical line
	// (after indentation), and indent is that indentation's width.
	atLineStart bool
	indent      int
}

// lines tokenises a Python file and splits it into logical lines, dropping
// those made only of string literals: docstrings, and strings used as
// comments. Comments, blank lines and formatting never reach a token.
func lines(data []byte) []logical {
	var out []logical
	var cur []pyscan.Token
	flush := func() {
		if len(cur) == 0 {
			return
		}
		onlyStrings := true
		for _, t := range cur {
			onlyStrings = onlyStrings && t.Kind == pyscan.String
		}
		if !onlyStrings {
			l := logical{toks: cur}
			start := cur[0].Offset
			for start > 0 && (data[start-1] == ' ' || data[start-1] == '\t') {
				start--
			}
			l.atLineStart = start == 0 || data[start-1] == '\n'
			l.indent = cur[0].Offset - start
			out = append(out, l)
		}
		cur = nil
	}
	for _, t := range pyscan.Tokens(data) {
		if t.Kind == pyscan.Newline {
			flush()
			continue
		}
		cur = append(cur, t)
	}
	flush()
	return out
}

// kwarg reports whether the name at l[i] is followed by a single "=":
// inside brackets, a keyword argument's name. It is kept as written, bound
// or not: those are mostly the framework's (fields, options), which no
// rename changes; the price is that renaming a parameter of the
// submission's own function and its keyword arguments is seen.
func kwarg(l []pyscan.Token, i int) bool {
	return i+1 < len(l) && l[i+1].Text == "=" && (i+2 >= len(l) || l[i+2].Text != "=")
}

// isImport reports whether a logical line is an import statement.
func isImport(l []pyscan.Token) bool {
	return l[0].Kind == pyscan.Name && (l[0].Text == "import" || l[0].Text == "from")
}

// aliases adds to alias the local names an import statement binds with
// "as", each mapped to the name imported ("import a.b as c": c -> "a.b").
func aliases(l []pyscan.Token, alias map[string]string) {
	start := 1
	for i := 1; i < len(l); i++ {
		switch {
		case l[i].Text == "import" || l[i].Text == "," || l[i].Text == "(":
			start = i + 1
		case l[i].Text == "as" && i+1 < len(l) && l[i+1].Kind == pyscan.Name:
			var b strings.Builder
			for _, t := range l[start:i] {
				b.WriteString(t.Text)
			}
			alias[l[i+1].Text] = b.String()
		}
	}
}

// bound adds to names every identifier that the logical line binds: the
// name of a def or class, parameters, assignment and for targets, and
// names after "as" outside imports. A consistent rename can change exactly
// these (and import aliases, which normalise resolves instead).
func bound(l []pyscan.Token, names map[string]bool) {
	if isImport(l) {
		return
	}
	isName := func(i int) bool {
		return i >= 0 && i < len(l) && l[i].Kind == pyscan.Name && !keywords[l[i].Text]
	}
	text := func(i int) string {
		if i < 0 || i >= len(l) {
			return ""
		}
		return l[i].Text
	}
	first := 0
	if text(0) == "async" {
		first = 1
	}
	switch text(first) {
	case "class":
		if isName(first + 1) {
			names[l[first+1].Text] = true
		}
	case "def":
		if isName(first + 1) {
			names[l[first+1].Text] = true
		}
		// Parameters: names inside the def's parentheses, at their depth,
		// after "(", "," or "*" and before ",", ")", "=" or ":".
		depth := 0
		for i := first + 2; i < len(l); i++ {
			switch l[i].Text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			}
			if depth == 1 && isName(i) && strings.Contains("(,*", text(i-1)) && text(i-1) != "" &&
				strings.Contains(",)=:", text(i+1)) && text(i+1) != "" {
				names[l[i].Text] = true
			}
			if depth == 0 && text(i) == ")" {
				break
			}
		}
	}
	for i := range l {
		switch {
		case text(i) == "as" && isName(i+1):
			names[l[i+1].Text] = true
		case text(i) == "for" || text(i) == "lambda":
			// for a, (b, c) in ...; lambda x, *y: ...
			stop := "in"
			if text(i) == "lambda" {
				stop = ":"
			}
			for j := i + 1; j < len(l) && text(j) != stop; j++ {
				if isName(j) && text(j-1) != "." && text(j+1) != "." && text(j+1) != "[" && text(j+1) != "(" {
					names[l[j].Text] = true
				}
			}
		}
	}
	// Assignment targets: everything before the last "=" at depth 0 that
	// is an assignment (not ==, <=, >=, != and not a keyword argument).
	if text(first) == "def" || text(first) == "class" || text(0) == "@" {
		return
	}
	depth, last := 0, -1
	for i := range l {
		switch text(i) {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case "=":
			prev, next := text(i-1), text(i+1)
			if depth == 0 && next != "=" && prev != "=" && prev != "!" && prev != "<" && prev != ">" {
				last = i
			}
		}
	}
	for i := 0; i < last; i++ {
		if !isName(i) || text(i+1) == "." || text(i+1) == "(" {
			continue
		}
		if text(i-1) == "." {
			// self.total = ...: an attribute the submission's own code sets.
			if (text(i-2) == "self" || text(i-2) == "cls") && (text(i+1) == "=" || text(i+1) == ",") {
				names[l[i].Text] = true
			}
			continue
		}
		if text(i+1) != "[" {
			names[l[i].Text] = true
		}
	}
}

// normalise turns a submission's Python files into regions of normalised
// tokens. An identifier the submission binds anywhere (see bound) becomes
// one class, so that renaming is invisible; a name an import binds with
// "as" becomes the name imported, and "as alias" leaves the import, so that
// aliasing is invisible too; every other identifier is kept as written:
// keywords, builtins, and the names of the framework's API and of the
// starter's fixed files (select_for_update, objects, F, Book), which no
// rename that keeps the code working can change, and which tell two
// answers to one exercise apart. Strings and numbers become their classes,
// and a comma before a closing bracket is dropped. Files not ending in .py
// are skipped.
func normalise(files []Source) []region {
	type file struct {
		path  string
		lines []logical
	}
	var parsed []file
	names := map[string]bool{}
	alias := map[string]string{}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		ls := lines(f.Data)
		for _, l := range ls {
			bound(l.toks, names)
			if isImport(l.toks) {
				aliases(l.toks, alias)
			}
		}
		parsed = append(parsed, file{f.Path, ls})
	}
	var out []region
	for _, f := range parsed {
		var cur *region
		decorated := false
		for _, l := range f.lines {
			head := l.toks[0].Text
			if head == "async" && len(l.toks) > 1 {
				head = l.toks[1].Text
			}
			starts := head == "def" || head == "class" || head == "@" || (l.atLineStart && l.indent == 0)
			if decorated && (head == "def" || head == "class") {
				starts = false // the decorators' function
			}
			decorated = head == "@"
			if starts || cur == nil {
				out = append(out, region{path: f.path})
				cur = &out[len(out)-1]
			}
			imp := isImport(l.toks)
			def := head == "def" || head == "lambda"
			depth := 0
			for i := 0; i < len(l.toks); i++ {
				t := l.toks[i]
				switch t.Text {
				case "(", "[", "{":
					depth++
				case ")", "]", "}":
					depth--
				}
				if imp && t.Text == "as" {
					i++ // the alias: uses of it read as the name imported
					continue
				}
				if t.Text == "," && i+1 < len(l.toks) && strings.Contains(")]}", l.toks[i+1].Text) {
					continue // a trailing comma, as formatters add
				}
				n := norm{text: t.Text, line: t.Line, until: t.EndLine}
				switch t.Kind {
				case pyscan.String:
					n.text = classString
				case pyscan.Number:
					n.text = classNumber
				case pyscan.Name:
					if a, ok := alias[t.Text]; ok && !imp {
						n.text = a
					}
					if names[n.text] && !keywords[n.text] && !(depth > 0 && !def && kwarg(l.toks, i)) {
						n.text = className
					}
				}
				cur.toks = append(cur.toks, n)
			}
			end := l.toks[len(l.toks)-1]
			cur.toks = append(cur.toks, norm{text: classNewline, line: end.EndLine, until: end.EndLine})
		}
	}
	return out
}
