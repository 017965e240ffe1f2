// Package text holds the two string guards every part of the grader applies
// to text from outside (a candidate's file names, a report's messages)
// before it is stored or shown: a cap on length and a printable form.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cap cuts s to at most n bytes on a UTF-8 boundary, marking the cut.
func Cap(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "\n... [truncated]"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Printable makes a name from outside safe to show in a message: invalid
// UTF-8 and control characters become '?', and it is cut at 120 bytes.
func Printable(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
