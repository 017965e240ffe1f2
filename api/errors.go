package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// statusOf is THE table from grader error codes to HTTP statuses. Every code
// in grader/error.go has a row; a test fails when one is added without one.
var statusOf = map[string]int{
	grader.EINVALID:      http.StatusBadRequest,
	grader.ENOTFOUND:     http.StatusNotFound,
	grader.ECONFLICT:     http.StatusConflict,
	grader.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	grader.EUNAUTHORIZED: http.StatusUnauthorized,
	grader.EFORBIDDEN:    http.StatusForbidden,
	grader.ERATELIMIT:    http.StatusTooManyRequests,
	grader.EUNAVAILABLE:  http.StatusServiceUnavailable,
	grader.EINTERNAL:     http.StatusInternalServerError,
	grader.ENOTIMPL:      http.StatusNotImplemented,
	// As Stripe and the IETF Idempotency-Key draft answer a key reused
	// with another payload.
	grader.EKEYREUSED: http.StatusUnprocessableEntity,
}

// API-level codes for HTTP failures that no grader code describes; they
// come only from Echo's router and the request framing.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
)

// codeOfStatus maps a status Echo produced (its router's 404 and 405, a 413,
// a 503 from the context timeout) back to a code, so clients see the same
// codes whoever produced the error.
func codeOfStatus(status int) string {
	switch status {
	case http.StatusMethodNotAllowed:
		return codeMethodNotAllowed
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMediaType
	}
	for code, st := range statusOf {
		if st == status && code != grader.EINTERNAL {
			return code
		}
	}
	if status >= 500 {
		return grader.EINTERNAL
	}
	return grader.EINVALID
}

// genericMessage is what callers see for any internal error; the cause goes
// to the log under the request id that the response carries.
const genericMessage = "internal error; quote the request id when reporting it"

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// panicError marks a recovered panic so that it is always internal.
type panicError struct{ err error }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.err) }
func (p *panicError) Unwrap() error { return p.err }

// tooLarge is the error for a request body over limit bytes.
func tooLarge(limit int64) error {
	return grader.Errorf(grader.ETOOLARGE, "request body is over the limit of %d bytes", limit)
}

// classify turns any error a handler or middleware returned into a status,
// a code and a message safe to show.
// StatusOf returns the HTTP status for a grader error code, and false for a
// code the table lacks. Pages and webhooks answer through it too, so that
// the table stays the one place codes meet statuses.
func StatusOf(code string) (int, bool) {
	status, ok := statusOf[code]
	return status, ok
}

func classify(err error) (status int, code, message string) {
	var (
		gerr grader.CodedError
		herr *echo.HTTPError
		merr *http.MaxBytesError
		perr *panicError
	)
	switch {
	case errors.As(err, &perr):
		return http.StatusInternalServerError, grader.EINTERNAL, genericMessage
	case errors.As(err, &gerr):
		code := gerr.ErrorCode()
		status, ok := statusOf[code]
		if !ok || status >= 500 && code != grader.EUNAVAILABLE && code != grader.ENOTIMPL {
			return http.StatusInternalServerError, grader.EINTERNAL, genericMessage
		}
		return status, code, gerr.ErrorMessage()
	case errors.As(err, &merr):
		// A body that outgrew its cap while a handler was reading it.
		return http.StatusRequestEntityTooLarge, grader.ETOOLARGE,
			fmt.Sprintf("request body is over the limit of %d bytes", merr.Limit)
	case errors.As(err, &herr):
		status := herr.Code
		code := codeOfStatus(status)
		if status >= 500 && status != http.StatusServiceUnavailable {
			return http.StatusInternalServerError, grader.EINTERNAL, genericMessage
		}
		msg, ok := herr.Message.(string)
		if !ok || msg == "" {
			msg = http.StatusText(status)
		}
		switch status {
		case http.StatusNotFound:
			msg = "no such route"
		case http.StatusMethodNotAllowed:
			msg = "method not allowed on this route"
		case http.StatusServiceUnavailable:
			msg = "service unavailable; try again later"
		}
		return status, code, msg
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, grader.EUNAVAILABLE, "the request took too long; try again later"
	}
	return http.StatusInternalServerError, grader.EINTERNAL, genericMessage
}

// handleError is Echo's HTTPErrorHandler: the one place errors become
// responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, message := classify(err)
	rid := getRequestID(c)
	if status >= 500 {
		s.log.Error("request failed", "request_id", rid, "status", status, "code", code, "err", err)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		c.Response().Header().Set("Retry-After", RetryAfter(err))
	}
	if status == http.StatusRequestEntityTooLarge {
		// The unread rest of the body cannot be trusted to be drained
		// quickly; do not keep the connection for another request.
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	// A HEAD gets the same answer: net/http sends GET's headers (type and
	// length of the error document) and drops the body.
	if werr := c.JSON(status, errorBody{Error: errorJSON{Code: code, Message: message, RequestID: rid}}); werr != nil {
		s.log.Warn("write error response", "request_id", rid, "err", werr)
	}
}
