package pyscan

import "testing"

func TestTokensKeepNumbersAndRanges(t *testing.T) {
	src := "x = 10  # ten\ns = '''a\nb'''\n"
	toks := Tokens([]byte(src))
	want := []struct {
		kind       TokenKind
		raw        string
		line, last int
	}{
		{Name, "x", 1, 1}, {Op, "=", 1, 1}, {Number, "10", 1, 1}, {Newline, "", 1, 1},
		{Name, "s", 2, 2}, {Op, "=", 2, 2}, {String, "'''a\nb'''", 2, 3}, {Newline, "", 3, 3},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d: %+v", len(toks), len(want), toks)
	}
	for i, w := range want {
		tk := toks[i]
		if tk.Kind != w.kind || src[tk.Offset:tk.End] != w.raw || tk.Line != w.line || tk.EndLine != w.last {
			t.Errorf("token %d = %+v (%q), want kind %d %q lines %d-%d", i, tk, src[tk.Offset:tk.End], w.kind, w.raw, w.line, w.last)
		}
	}
}
