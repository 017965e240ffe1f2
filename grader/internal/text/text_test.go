package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCap(t *testing.T) {
	if got := Cap("short", 10); got != "short" {
		t.Fatalf("Cap kept %q", got)
	}
	long := strings.Repeat("é", 100) // two bytes each
	got := Cap(long, 51)
	if len(got) > 51 || !utf8.ValidString(got) || !strings.HasSuffix(got, "[truncated]") {
		t.Fatalf("Cap(%d bytes, 51) = %q (%d bytes)", len(long), got, len(got))
	}
}

func TestPrintable(t *testing.T) {
	if got := Printable("a\x01b\xffc\n"); got != "a?b?c?" {
		t.Fatalf("Printable = %q", got)
	}
	if got := Printable(strings.Repeat("x", 200)); len(got) != 123 || !strings.HasSuffix(got, "...") {
		t.Fatalf("Printable of 200 bytes = %d bytes", len(got))
	}
}
