package similar_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/djgrade/djgrade/grader/pyscan"
	"github.com/djgrade/djgrade/grader/similar"
)

// A disguiser does to an answer what someone hiding a copy would, short of
// rewriting it: each kind below is one transformation, and "all" is every
// one of them. It works on the token ranges of pyscan.Tokens, so it never
// touches the inside of a string, but it is otherwise independent of the
// normalisation it tests: it decides what to rename with its own rules.

// disguiseKinds are the transformations measured, one row each.
var disguiseKinds = []string{"rename", "reorder", "comments", "format", "insert", "all"}

func disguise(files []similar.Source, kind string, seed uint64) []similar.Source {
	r := rand.New(rand.NewPCG(seed, 16))
	out := make([]similar.Source, len(files))
	copy(out, files)
	do := func(k string) bool { return kind == k || kind == "all" }
	if do("rename") {
		out = renameAll(out, r)
	}
	for i, f := range out {
		if !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		src := string(f.Data)
		if do("reorder") {
			src = reorder(src, r)
		}
		if do("comments") {
			src = recomment(src, r)
		}
		if do("insert") {
			src = insertStatements(src, r)
		}
		if do("format") {
			src = reformat(src, r)
		}
		out[i].Data = []byte(src)
	}
	return out
}

// defRe and friends find the names a plagiarist renames: functions,
// classes, parameters, module and class attributes, locals, loop targets.
var (
	defRe    = regexp.MustCompile(`^\s*(?:async\s+)?def\s+(\w+)\s*\(([^)]*)`)
	classRe  = regexp.MustCompile(`^\s*class\s+(\w+)`)
	assignRe = regexp.MustCompile(`^\s*((?:self\.)?\w+(?:\s*,\s*\w+)*)\s*(?::[^=]*)?[-+*/|&]?=[^=]`)
	forRe    = regexp.MustCompile(`\bfor\s+([\w\s,()]+?)\s+in\b`)
	asRe     = regexp.MustCompile(`\bas\s+(\w+)`)
	wordRe   = regexp.MustCompile(`[A-Za-z_]\w*`)
)

// renameAll renames, consistently across the files, every name the files
// define (not dunders, self or cls) to a fresh one, and gives about half
// of the imported names an alias ("from m import x as fresh"). Keyword
// arguments keep their names (they are mostly the framework's: fields,
// options), and an imported name is renamed only where it is not an
// attribute.
func renameAll(files []similar.Source, r *rand.Rand) []similar.Source {
	defined := map[string]bool{}
	imported := map[string]bool{}
	add := func(s string) {
		for _, w := range wordRe.FindAllString(s, -1) {
			defined[w] = true
		}
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		s := splitLines(string(f.Data))
		for i, line := range s.lines {
			if s.inString[i] {
				continue
			}
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "from ") || strings.HasPrefix(t, "import ") {
				continue // imports: below, from their tokens
			}
			for _, m := range forRe.FindAllStringSubmatch(line, -1) {
				add(m[1])
			}
			for _, m := range asRe.FindAllStringSubmatch(line, -1) {
				add(m[1])
			}
			if !s.startsLogical[i] {
				continue
			}
			if m := defRe.FindStringSubmatch(line); m != nil {
				defined[m[1]] = true
				for _, p := range strings.Split(m[2], ",") {
					p = strings.TrimLeft(strings.TrimSpace(p), "*")
					if name := wordRe.FindString(p); name != "" && strings.HasPrefix(p, name) {
						defined[name] = true
					}
				}
			}
			if m := classRe.FindStringSubmatch(line); m != nil {
				defined[m[1]] = true
			}
			if m := assignRe.FindStringSubmatch(line); m != nil {
				add(strings.TrimPrefix(m[1], "self."))
			}
		}
		for _, st := range statements(f.Data) {
			for _, k := range importedNames(st) {
				if r.IntN(2) == 0 {
					imported[st[k].Text] = true
				}
			}
		}
	}
	for _, k := range []string{"self", "cls", "in", "for", "not", "and", "or", "if", "True", "False", "None"} {
		delete(defined, k)
	}
	names := make([]string, 0, len(defined)+len(imported))
	for n := range defined {
		if !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	for n := range imported {
		if !defined[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	to := map[string]string{}
	words := []string{"alpha", "thing", "item", "val", "helper", "data", "obj", "res", "tmp", "node"}
	for i, n := range names {
		to[n] = fmt.Sprintf("%s_%d%s", words[r.IntN(len(words))], i, strings.Repeat("x", r.IntN(3)))
	}
	out := make([]similar.Source, len(files))
	for i, f := range files {
		out[i] = f
		if !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		var b strings.Builder
		src := string(f.Data)
		at := 0
		replace := func(t pyscan.Token, with string) {
			b.WriteString(src[at:t.Offset])
			b.WriteString(with)
			at = t.End
		}
		for _, st := range statements(f.Data) {
			imp := map[int]bool{}
			for _, k := range importedNames(st) {
				imp[k] = true
			}
			depth := 0
			for k, t := range st {
				switch t.Text {
				case "(", "[", "{":
					depth++
				case ")", "]", "}":
					depth--
				}
				if t.Kind != pyscan.Name || to[t.Text] == "" {
					continue
				}
				next := func(d int) string {
					if k+d < len(st) {
						return st[k+d].Text
					}
					return ""
				}
				after := k > 0 && st[k-1].Text == "."
				kwarg := depth > 0 && next(1) == "=" && next(2) != "=" && st[0].Text != "def"
				switch {
				case imp[k] && defined[t.Text]:
					replace(t, to[t.Text]) // one of the submission's own names
				case imp[k]:
					replace(t, t.Text+" as "+to[t.Text])
				case kwarg:
				case defined[t.Text]:
					replace(t, to[t.Text])
				case imported[t.Text] && !after:
					replace(t, to[t.Text])
				}
			}
		}
		b.WriteString(src[at:])
		out[i].Data = []byte(b.String())
	}
	return out
}

// statements splits a file's tokens into logical lines.
func statements(data []byte) [][]pyscan.Token {
	var out [][]pyscan.Token
	var cur []pyscan.Token
	for _, t := range pyscan.Tokens(data) {
		if t.Kind == pyscan.Newline {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// importedNames returns the positions, in an import statement, of the
// names it binds without an alias: "from m import a, b" gives a and b,
// "import os" gives os; "import a.b" and "x as y" give nothing.
func importedNames(st []pyscan.Token) []int {
	if len(st) == 0 || (st[0].Text != "from" && st[0].Text != "import") {
		return nil
	}
	var out []int
	k := 0
	if st[0].Text == "from" {
		for k < len(st) && st[k].Text != "import" {
			k++
		}
	}
	for k++; k < len(st); k++ {
		t := st[k]
		if t.Kind != pyscan.Name || t.Text == "as" {
			continue
		}
		prev, next := st[k-1].Text, ""
		if k+1 < len(st) {
			next = st[k+1].Text
		}
		if prev == "as" || prev == "." || next == "." || next == "as" {
			continue
		}
		out = append(out, k)
	}
	return out
}

// srcLines is a file's lines with what the tokens say of each.
type srcLines struct {
	lines []string
	// inString marks lines that begin inside a multi-line string.
	inString []bool
	// startsLogical marks lines whose first token begins a logical line.
	startsLogical []bool
}

func splitLines(src string) srcLines {
	s := srcLines{lines: strings.Split(src, "\n")}
	s.inString = make([]bool, len(s.lines)+2)
	s.startsLogical = make([]bool, len(s.lines)+2)
	first := true
	for _, t := range pyscan.Tokens([]byte(src)) {
		for l := t.Line + 1; l <= t.EndLine; l++ {
			s.inString[l-1] = true
		}
		if t.Kind == pyscan.Newline {
			first = true
			continue
		}
		if first {
			s.startsLogical[t.Line-1] = true
			first = false
		}
	}
	return s
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " \t")) }

// reorder shuffles the top-level functions and classes of a file, and the
// methods of every class, each block moving with its decorators, comments
// above it and the lines below it up to the next block.
func reorder(src string, r *rand.Rand) string {
	s := splitLines(src)
	return strings.Join(shuffleBlocks(s, 0, len(s.lines), 0, r), "\n")
}

// shuffleBlocks reorders the blocks at indentation ind in lines [lo, hi):
// the lines before the first block stay first.
func shuffleBlocks(s srcLines, lo, hi, ind int, r *rand.Rand) []string {
	isStart := func(i int) bool {
		if s.inString[i] || !s.startsLogical[i] || indentOf(s.lines[i]) != ind {
			return false
		}
		t := strings.TrimSpace(s.lines[i])
		if !(strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "class ") || strings.HasPrefix(t, "async def ") || strings.HasPrefix(t, "@")) {
			return false
		}
		// A def under a decorator belongs to the decorator's block.
		for j := i - 1; j >= lo; j-- {
			p := strings.TrimSpace(s.lines[j])
			if p == "" || strings.HasPrefix(p, "#") {
				continue
			}
			return !(strings.HasPrefix(p, "@") && indentOf(s.lines[j]) == ind)
		}
		return true
	}
	var starts []int
	for i := lo; i < hi; i++ {
		if isStart(i) {
			// Comments right above the block go with it.
			j := i
			for j > lo && strings.HasPrefix(strings.TrimSpace(s.lines[j-1]), "#") && !s.inString[j-1] {
				j--
			}
			starts = append(starts, j)
		}
	}
	if len(starts) == 0 {
		return slices.Clone(s.lines[lo:hi])
	}
	out := slices.Clone(s.lines[lo:starts[0]])
	var blocks [][]string
	for k, st := range starts {
		end := hi
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		// Trailing blank lines stay at the block's end; make sure one
		// separates it from the next whatever the new order.
		var b []string
		head := st
		for head < end && !strings.HasPrefix(strings.TrimSpace(s.lines[head]), "class ") && strings.TrimSpace(s.lines[head]) != "" && !isStart(head) {
			head++ // comments above
		}
		if head < end && strings.HasPrefix(strings.TrimSpace(s.lines[head]), "class ") {
			// Methods of a class, at the indentation of its body.
			body := ind
			for j := head + 1; j < end; j++ {
				if t := strings.TrimSpace(s.lines[j]); t != "" && !s.inString[j] && !strings.HasPrefix(t, "#") {
					body = indentOf(s.lines[j])
					break
				}
			}
			b = append(slices.Clone(s.lines[st:head+1]), shuffleBlocks(s, head+1, end, body, r)...)
		} else {
			b = slices.Clone(s.lines[st:end])
		}
		for len(b) > 0 && strings.TrimSpace(b[len(b)-1]) == "" {
			b = b[:len(b)-1]
		}
		blocks = append(blocks, append(b, ""))
	}
	r.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	for _, b := range blocks {
		out = append(out, b...)
	}
	return out
}

// insertStatements edits the code itself, the one disguise that changes
// tokens: before about one statement in four inside a function or class
// it inserts a statement that does nothing ("unused_3 = None", "pass"), so
// that copied runs are cut into shorter ones.
func insertStatements(src string, r *rand.Rand) string {
	s := splitLines(src)
	fillers := []string{"unused_%d = None", "pass", "_ = %d", "assert True"}
	var out []string
	for i, line := range s.lines {
		t := strings.TrimSpace(line)
		if !s.inString[i] && s.startsLogical[i] && indentOf(line) > 0 && !strings.HasPrefix(t, "#") {
			first := strings.Fields(strings.NewReplacer(":", " ", "(", " ").Replace(t))
			continuation := len(first) > 0 && slices.Contains([]string{"elif", "else", "except", "finally", "case"}, first[0])
			if !continuation && !strings.HasPrefix(t, "@") && !isDecorated(s, i) && r.IntN(4) == 0 {
				f := fillers[r.IntN(len(fillers))]
				if strings.Contains(f, "%d") {
					f = fmt.Sprintf(f, i)
				}
				out = append(out, line[:indentOf(line)]+f)
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// isDecorated reports whether line i is a def or class under a decorator.
func isDecorated(s srcLines, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if p := strings.TrimSpace(s.lines[j]); p != "" && !strings.HasPrefix(p, "#") {
			return strings.HasPrefix(p, "@")
		}
	}
	return false
}

// recomment drops every comment and every one-line docstring, and adds
// comments of its own and a docstring to every function.
func recomment(src string, r *rand.Rand) string {
	words := strings.Fields("this handles the request and returns the result we need to make sure it works fast enough for now")
	phrase := func() string {
		n := 3 + r.IntN(6)
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	// Drop trailing comments: text after a line's last token that starts with #.
	lastEnd := map[int]int{} // line -> end offset of its last token
	for _, t := range pyscan.Tokens([]byte(src)) {
		if t.Kind != pyscan.Newline {
			lastEnd[t.EndLine] = t.End
		}
	}
	var kept []string
	off := 0
	for i, line := range strings.Split(src, "\n") {
		if end, ok := lastEnd[i+1]; ok && end >= off && end <= off+len(line) {
			if rest := line[end-off:]; strings.HasPrefix(strings.TrimSpace(rest), "#") {
				kept = append(kept, line[:end-off])
				off += len(line) + 1
				continue
			}
		}
		kept = append(kept, line)
		off += len(line) + 1
	}
	s := splitLines(strings.Join(kept, "\n"))
	var out []string
	for i, line := range s.lines {
		t := strings.TrimSpace(line)
		if !s.inString[i] && strings.HasPrefix(t, "#") {
			continue // a comment line
		}
		if !s.inString[i] && s.startsLogical[i] && isOneLineDocstring(t) {
			continue
		}
		if !s.inString[i] && s.startsLogical[i] && t != "" && r.IntN(3) == 0 {
			out = append(out, line[:indentOf(line)]+"# "+phrase())
		}
		out = append(out, line)
		if !s.inString[i] && s.startsLogical[i] && (strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async def ")) && strings.HasSuffix(t, ":") {
			body := indentOf(line) + 4
			for j := i + 1; j < len(s.lines); j++ {
				if u := strings.TrimSpace(s.lines[j]); u != "" && !strings.HasPrefix(u, "#") {
					body = indentOf(s.lines[j])
					break
				}
			}
			out = append(out, strings.Repeat(" ", body)+`"""`+phrase()+`."""`)
		}
	}
	return strings.Join(out, "\n")
}

func isOneLineDocstring(t string) bool {
	for _, q := range []string{`"""`, `'''`} {
		if len(t) >= 6 && strings.HasPrefix(t, q) && strings.HasSuffix(t, q) && !strings.Contains(t[3:len(t)-3], q) {
			return true
		}
	}
	return false
}

// reformat halves the indentation, joins every bracketed expression that
// spans lines onto one line, swaps the quotes of simple strings and
// changes the blank lines.
func reformat(src string, r *rand.Rand) string {
	data := []byte(src)
	toks := pyscan.Tokens(data)
	var b strings.Builder
	at := 0
	// Join logical lines broken inside brackets (not inside a string): the
	// gap between two tokens on different lines becomes one space.
	for i := 0; i+1 < len(toks); i++ {
		t, n := toks[i], toks[i+1]
		if t.Kind == pyscan.String {
			b.WriteString(src[at:t.Offset])
			b.WriteString(swapQuotes(src[t.Offset:t.End]))
			at = t.End
		}
		if t.Kind != pyscan.Newline && n.Kind != pyscan.Newline && n.Line > t.EndLine {
			if strings.Contains(src[t.End:n.Offset], "\\") {
				continue // a backslash continuation: leave it
			}
			b.WriteString(src[at:t.End])
			b.WriteString(" ")
			at = n.Offset
		}
	}
	if k := len(toks) - 1; k >= 0 && toks[k].Kind == pyscan.String {
		b.WriteString(src[at:toks[k].Offset])
		b.WriteString(swapQuotes(src[toks[k].Offset:toks[k].End]))
		at = toks[k].End
	}
	b.WriteString(src[at:])
	s := splitLines(b.String())
	var out []string
	for i, line := range s.lines {
		if strings.TrimSpace(line) == "" && !s.inString[i] {
			if r.IntN(2) == 0 {
				continue // drop a blank line
			}
			out = append(out, "", "")
			continue
		}
		if !s.inString[i] {
			ind := indentOf(line)
			line = strings.Repeat(" ", ind/2) + line[ind:]
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

// swapQuotes turns "x" into 'x' and back when the string is a plain
// one-line literal with no quotes or backslashes inside.
func swapQuotes(lit string) string {
	if len(lit) < 2 || strings.ContainsAny(lit[1:len(lit)-1], `"'\`) || strings.HasPrefix(lit, `"""`) || strings.HasPrefix(lit, `'''`) {
		return lit
	}
	switch lit[0] {
	case '"':
		return "'" + lit[1:len(lit)-1] + "'"
	case '\'':
		return `"` + lit[1:len(lit)-1] + `"`
	}
	return lit
}
