package exercises_test

import (
	"strings"
	"testing"

	"github.com/djgrade/djgrade/exercises"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1000", 1000},
		{"1000B", 1000},
		{"64KiB", 64 << 10},
		{"512MiB", 512 << 20},
		{" 512 MiB ", 512 << 20},
		{"1GiB", 1 << 30},
		{"1.5GiB", 3 << 29},
		{"2TiB", 2 << 40},
	} {
		got, err := exercises.ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "must be a size"},
		{"MiB", "must be a size"},
		{"512MB", "must be a size"}, // decimal or binary? refused, not guessed
		{"512m", "must be a size"},
		{"512 kB", "must be a size"},
		{"512XiB", "must be a size"},
		{"twelve", "must be a size"},
		{"-1MiB", "must be a size"},
		{"0", "must be between 1 B and 4 EiB"},
		{"0.2B", "must be between 1 B and 4 EiB"},
		{"5000PiB", "must be between 1 B and 4 EiB"},
	} {
		if got, err := exercises.ParseBytes(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBytes(%q) = %d, %v; want an error %q", tc.in, got, err, tc.want)
		}
	}
}
