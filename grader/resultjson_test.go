package grader_test

import (
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

func TestFormatBudget(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", 45 * time.Minute: "45m", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 90 * time.Second: "1m30s",
	} {
		if got := grader.FormatBudget(d); got != want {
			t.Errorf("FormatBudget(%v) = %q, want %q", d, got, want)
		}
	}
}
