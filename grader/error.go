package grader

import (
	"errors"
	"fmt"
	"time"
)

// Application error codes. They are stable: the API returns them to clients
// and maps each to one HTTP status in a single table (see api/errors.go).
const (
	EINVALID      = "invalid"      // the caller's input is wrong
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // the thing is in a state that forbids the action
	ETOOLARGE     = "too_large"    // an input is over a limit
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials lack the right
	ERATELIMIT    = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // a dependency (Docker, the queue) cannot take work now
	EINTERNAL     = "internal"     // a bug or an infrastructure failure
	ENOTIMPL      = "not_implemented"
	// EKEYREUSED: an idempotency key came back with a different request
	// than the one it was first used for.
	EKEYREUSED = "idempotency_key_reused"
)

// Error is djgrade's one application error. Code is machine-readable and
// stable; Message is for people and safe to show to the caller.
type Error struct {
	Code    string
	Message string
	// Err is the underlying cause, kept for logs; never shown to callers.
	Err error
	// RetryAfter, when known, is how long the caller should wait before
	// trying again (ERATELIMIT, EUNAVAILABLE): the API's Retry-After.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("djgrade error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("djgrade error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the code and message that keeps err as its cause.
func Wrap(err error, code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns Code (see CodedError).
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns Message (see CodedError).
func (e *Error) ErrorMessage() string { return e.Message }

// CodedError is an error that carries one of the codes above and a message
// safe to show to the caller: an *Error, or the error of a toolbox package
// below grader that cannot import it (grader/archive's *archive.Error).
type CodedError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// ErrorCode returns the code of the first CodedError in err's chain,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e CodedError
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.ErrorCode()
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first CodedError in err's chain,
// or a generic message for any other error so that internals never leak.
func ErrorMessage(err error) string {
	var e CodedError
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.ErrorMessage()
	}
	return "internal error"
}
