package grader_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// TestErrorCodeReadsArchiveErrors checks that an archive refusal keeps its
// code and message through grader's error functions, wrapped or not, and
// that an outer *grader.Error still decides.
func TestErrorCodeReadsArchiveErrors(t *testing.T) {
	if archive.Invalid != grader.EINVALID || archive.TooLarge != grader.ETOOLARGE {
		t.Fatalf("archive codes %q, %q drifted from grader's", archive.Invalid, archive.TooLarge)
	}
	aerr := archive.Wrap(errors.New("cause"), archive.TooLarge, "the archive is larger than %s", archive.FormatBytes(10<<20))
	for _, err := range []error{aerr, fmt.Errorf("upload: %w", aerr)} {
		if got := grader.ErrorCode(err); got != grader.ETOOLARGE {
			t.Errorf("ErrorCode(%v) = %q", err, got)
		}
		if got := grader.ErrorMessage(err); got != "the archive is larger than 10 MiB" {
			t.Errorf("ErrorMessage(%v) = %q", err, got)
		}
	}
	outer := grader.Wrap(aerr, grader.EINVALID, "bad upload")
	if grader.ErrorCode(outer) != grader.EINVALID || grader.ErrorMessage(outer) != "bad upload" {
		t.Errorf("outer error lost: %q %q", grader.ErrorCode(outer), grader.ErrorMessage(outer))
	}
	if grader.ErrorCode(errors.New("plain")) != grader.EINTERNAL || grader.ErrorMessage(errors.New("plain")) != "internal error" {
		t.Error("a plain error must be internal")
	}
}
