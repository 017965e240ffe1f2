package archive_test

import (
	"testing"

	"github.com/djgrade/djgrade/grader/archive"
)

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{300, "300 B"},
		{1023, "1023 B"},
		{1 << 10, "1 KiB"},
		{1536, "1.5 KiB"},
		{512 << 10, "512 KiB"},
		{1 << 20, "1 MiB"},
		{10 << 20, "10 MiB"},
		{768 << 20, "768 MiB"},
		{1 << 30, "1 GiB"},
		{3 << 40, "3 TiB"},
		{1 << 62, "4 EiB"},
	} {
		if got := archive.FormatBytes(tc.n); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
