package api

import (
	"context"
	"errors"
	"strings"

	"github.com/djgrade/djgrade/grader"
)

// Check is one readiness check: Name is what /readyz reports when Fn fails
// (a fixed word, never the error: causes stay in the log).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// ReadyChecks returns a Config.ReadyCheck that runs every check, in order,
// and fails with an EUNAVAILABLE error whose message names each failed
// check, e.g. "not ready: docker, sandbox_image". Every check runs even after
// one fails, so that the answer names all that are wrong at once.
func ReadyChecks(checks ...Check) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var failed []string
		var causes []error
		for _, ck := range checks {
			if err := ck.Fn(ctx); err != nil {
				failed = append(failed, ck.Name)
				causes = append(causes, errors.New(ck.Name+": "+err.Error()))
			}
		}
		if len(failed) == 0 {
			return nil
		}
		return &notReadyError{failed: failed, cause: errors.Join(causes...)}
	}
}

// notReadyError is what ReadyChecks returns: the failed checks' names,
// which are safe to show, and their causes, which are not.
type notReadyError struct {
	failed []string
	cause  error
}

func (e *notReadyError) Error() string { return e.cause.Error() }
func (e *notReadyError) Unwrap() error { return e.cause }

// notReady is the 503 of /readyz for err: the names of the failed checks
// when ReadyChecks made err, only "not ready" otherwise.
func notReady(err error) error {
	var nr *notReadyError
	if errors.As(err, &nr) {
		return grader.Wrap(err, grader.EUNAVAILABLE, "not ready: %s", strings.Join(nr.failed, ", "))
	}
	return grader.Wrap(err, grader.EUNAVAILABLE, "not ready")
}

// EngineState is one Docker engine as /readyz and /metrics report it.
// Like the checks' names, it holds no error text: the causes of an
// engine's trouble stay in the log.
type EngineState struct {
	Name        string `json:"name"`
	Healthy     bool   `json:"healthy"`
	Capacity    int    `json:"capacity"`
	Running     int    `json:"running"`
	PoolWaiting int    `json:"pool_waiting"`
}

// readyBody is the answer of a ready /readyz: the status and, when the
// server has them, its engines.
func (s *Server) readyBody() any {
	if s.cfg.Engines == nil {
		return map[string]string{"status": "ready"}
	}
	return struct {
		Status  string        `json:"status"`
		Engines []EngineState `json:"engines"`
	}{"ready", s.cfg.Engines()}
}
