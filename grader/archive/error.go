package archive

import "fmt"

// Codes of an Error. They are the values of grader's EINVALID and ETOOLARGE,
// so that grader.ErrorCode reads an *Error as it reads its own.
const (
	Invalid  = "invalid"   // the archive is malformed, empty or unsafe
	TooLarge = "too_large" // the archive is over a limit
)

// Error is an archive (or folder) refused. Message is for people and safe
// to show to whoever sent the archive.
type Error struct {
	// Code is Invalid or TooLarge.
	Code    string
	Message string
	// Err is the underlying cause, kept for logs; never shown to callers.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("archive: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("archive: %s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns Code (grader.ErrorCode reads it through this method).
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns Message (grader.ErrorMessage reads it through this method).
func (e *Error) ErrorMessage() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the code and message that keeps err as its cause.
func Wrap(err error, code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}
