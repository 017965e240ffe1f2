// Package upload is the one reader of a multipart archive upload, used by
// the API's POST /api/v1/submissions and the candidate page's submit form.
// It streams the body part by part (nothing is spooled to disk), bounds the
// text fields, and returns one coded error (*Error) that each caller may
// word its own way (the API quotes bytes, the pages "10 MiB").
//
// The body cap stays http.MaxBytesReader, set by each group's edge
// middleware before the handler runs, rather than echo's
// middleware.BodyLimit: BodyLimit answers with its own
// echo.ErrStatusRequestEntityTooLarge, which carries no limit, so neither
// "over the limit of N bytes" nor "of 10 MiB" could be said, and the page
// form reads its CSRF field before the rest of the body and must see the
// overflow as an error of this reader, not a response already written.
package upload

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader"
)

// Kind says what was wrong with an upload, for the callers' own wording.
type Kind int

// The kinds of Error.
const (
	NotMultipart Kind = iota + 1 // the body is not multipart/form-data
	TooLarge                     // the body outgrew its cap (Limit)
	Malformed                    // the body was cut short or is not valid multipart
	Duplicate                    // a field appears twice (Field)
	FieldTooLong                 // a text field is over Spec.TextMax (Field)
	Unexpected                   // a field the Spec does not name (Field)
	NotAFile                     // the file field is not a file (Field)
	Missing                      // a required field is absent (Field)
	Empty                        // the file is empty (Field)
)

// Error is every failure of Read: code ETOOLARGE for TooLarge, EINVALID
// otherwise. Its message is the API's wording.
type Error struct {
	Kind  Kind
	Field string // the form field concerned, if any
	Limit int64  // the body cap, for TooLarge
	Err   error  // the reader's own error, for the log
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.ErrorMessage() + ": " + e.Err.Error()
	}
	return e.ErrorMessage()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns grader.ETOOLARGE or grader.EINVALID.
func (e *Error) ErrorCode() string {
	if e.Kind == TooLarge {
		return grader.ETOOLARGE
	}
	return grader.EINVALID
}

// ErrorMessage returns the API's message for the error.
func (e *Error) ErrorMessage() string {
	switch e.Kind {
	case NotMultipart:
		return "the body must be multipart/form-data"
	case TooLarge:
		return fmt.Sprintf("request body is over the limit of %d bytes", e.Limit)
	case Duplicate:
		return fmt.Sprintf("form field %q appears twice", e.Field)
	case FieldTooLong:
		return fmt.Sprintf("form field %q is too long", e.Field)
	case Unexpected:
		return fmt.Sprintf("unexpected form field %q", e.Field)
	case NotAFile:
		return fmt.Sprintf("form field %q must be a file", e.Field)
	case Missing:
		return fmt.Sprintf("missing form field %q", e.Field)
	case Empty:
		return "the archive is empty"
	}
	return "malformed multipart body"
}

// Spec names the fields of a form.
type Spec struct {
	Text          []string // the text fields
	File          string   // the one file field; it is required
	Required      []string // text fields that must be present
	TextMax       int      // the largest text field, in bytes
	IgnoreUnknown bool     // skip fields the Spec does not name, rather than refuse them
}

// Form is what Read kept of a form.
type Form struct {
	Text     map[string]string // the text fields present
	File     []byte
	FileName string
}

// Has reports whether the text field was present.
func (f *Form) Has(name string) bool { _, ok := f.Text[name]; return ok }

// Read reads r's multipart body by spec. It returns the form read so far
// even with an error, so that a page can check the form's CSRF field before
// showing an error. The file is bounded only by the body's cap, which the
// caller sets (http.MaxBytesReader).
func Read(r *http.Request, spec Spec) (*Form, error) {
	f := &Form{Text: map[string]string{}}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return f, &Error{Kind: NotMultipart}
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	hasFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, bodyError(err)
		}
		name := part.FormName()
		switch {
		case contains(spec.Text, name):
			if f.Has(name) {
				_ = part.Close()
				return f, &Error{Kind: Duplicate, Field: name}
			}
			b, err := io.ReadAll(io.LimitReader(part, int64(spec.TextMax)+1))
			_ = part.Close()
			if err != nil {
				return f, bodyError(err)
			}
			if len(b) > spec.TextMax {
				return f, &Error{Kind: FieldTooLong, Field: name}
			}
			f.Text[name] = string(b)
		case name == spec.File:
			if hasFile {
				_ = part.Close()
				return f, &Error{Kind: Duplicate, Field: name}
			}
			if part.FileName() == "" {
				_ = part.Close()
				return f, &Error{Kind: NotAFile, Field: name}
			}
			b, err := io.ReadAll(part)
			_ = part.Close()
			if err != nil {
				return f, bodyError(err)
			}
			f.File, f.FileName, hasFile = b, part.FileName(), true
		case spec.IgnoreUnknown:
			_ = part.Close()
		default:
			_ = part.Close()
			return f, &Error{Kind: Unexpected, Field: Truncate(name, 64)}
		}
	}
	for _, name := range spec.Required {
		if !f.Has(name) {
			return f, &Error{Kind: Missing, Field: name}
		}
	}
	if !hasFile {
		return f, &Error{Kind: Missing, Field: spec.File}
	}
	if len(f.File) == 0 {
		return f, &Error{Kind: Empty, Field: spec.File}
	}
	return f, nil
}

// bodyError is TooLarge for a body over its cap, Malformed otherwise.
func bodyError(err error) error {
	var merr *http.MaxBytesError
	if errors.As(err, &merr) {
		return &Error{Kind: TooLarge, Limit: merr.Limit, Err: err}
	}
	return &Error{Kind: Malformed, Err: err}
}

// KindOf returns the Kind of err's *Error, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Truncate cuts s to at most n bytes on a rune boundary, for quoting
// caller input in messages without echoing a large value back.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
