package upload_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/api/upload"
	"github.com/djgrade/djgrade/grader"
)

type part struct{ name, file, value string }

// request builds a multipart POST of the parts, its body capped at limit
// bytes as the groups' edges cap it (0: no cap).
func request(t *testing.T, parts []part, limit int64) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w interface{ Write([]byte) (int, error) }
		var err error
		if p.file != "" {
			w, err = mw.CreateFormFile(p.name, p.file)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(p.value))
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if limit > 0 {
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	}
	return r
}

func TestRead(t *testing.T) {
	spec := upload.Spec{Text: []string{"exercise", "candidate"}, File: "archive", Required: []string{"exercise"}, TextMax: 8}
	lenient := spec
	lenient.IgnoreUnknown = true
	archive := part{"archive", "a.zip", "PK-data"}
	for _, tc := range []struct {
		name  string
		spec  upload.Spec
		parts []part
		limit int64
		kind  upload.Kind
		field string
		code  string
	}{
		{"ok", spec, []part{{"exercise", "", "ex"}, archive}, 0, 0, "", ""},
		{"ok with candidate", spec, []part{{"exercise", "", "ex"}, {"candidate", "", "Ann"}, archive}, 0, 0, "", ""},
		{"missing exercise", spec, []part{archive}, 0, upload.Missing, "exercise", grader.EINVALID},
		{"missing archive", spec, []part{{"exercise", "", "ex"}}, 0, upload.Missing, "archive", grader.EINVALID},
		{"empty archive", spec, []part{{"exercise", "", "ex"}, {"archive", "a.zip", ""}}, 0, upload.Empty, "archive", grader.EINVALID},
		{"archive not a file", spec, []part{{"exercise", "", "ex"}, {"archive", "", "x"}}, 0, upload.NotAFile, "archive", grader.EINVALID},
		{"field twice", spec, []part{{"exercise", "", "a"}, {"exercise", "", "b"}, archive}, 0, upload.Duplicate, "exercise", grader.EINVALID},
		{"archive twice", spec, []part{{"exercise", "", "ex"}, archive, archive}, 0, upload.Duplicate, "archive", grader.EINVALID},
		{"field too long", spec, []part{{"exercise", "", "123456789"}, archive}, 0, upload.FieldTooLong, "exercise", grader.EINVALID},
		{"unexpected field", spec, []part{{"exercise", "", "ex"}, {"other", "", "x"}, archive}, 0, upload.Unexpected, "other", grader.EINVALID},
		{"unexpected field ignored", lenient, []part{{"exercise", "", "ex"}, {"other", "", "x"}, archive}, 0, 0, "", ""},
		{"over the cap", spec, []part{{"exercise", "", "ex"}, {"archive", "a.zip", strings.Repeat("x", 4096)}}, 1000, upload.TooLarge, "", grader.ETOOLARGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := upload.Read(request(t, tc.parts, tc.limit), tc.spec)
			if f == nil {
				t.Fatal("nil form")
			}
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if f.Text["exercise"] != "ex" || string(f.File) != "PK-data" || f.FileName != "a.zip" {
					t.Errorf("form %+v", f)
				}
				return
			}
			var uerr *upload.Error
			if !errors.As(err, &uerr) {
				t.Fatalf("err %v, want *upload.Error", err)
			}
			if uerr.Kind != tc.kind || uerr.Field != tc.field || grader.ErrorCode(err) != tc.code {
				t.Errorf("kind %d field %q code %q, want %d %q %q", uerr.Kind, uerr.Field, grader.ErrorCode(err), tc.kind, tc.field, tc.code)
			}
			if tc.kind == upload.TooLarge && (uerr.Limit != tc.limit || !strings.Contains(uerr.ErrorMessage(), "over the limit of 1000 bytes")) {
				t.Errorf("limit %d, message %q", uerr.Limit, uerr.ErrorMessage())
			}
		})
	}
}

// TestReadKeepsTheFormOnError: a page checks the CSRF field of a form that
// failed later, so the fields read before the failure come back.
func TestReadKeepsTheFormOnError(t *testing.T) {
	spec := upload.Spec{Text: []string{"csrf"}, File: "archive", TextMax: 64}
	f, err := upload.Read(request(t, []part{{"csrf", "", "tok"}, {"archive", "a.zip", strings.Repeat("x", 4096)}}, 1000), spec)
	if upload.KindOf(err) != upload.TooLarge || f.Text["csrf"] != "tok" {
		t.Errorf("kind %d, csrf %q", upload.KindOf(err), f.Text["csrf"])
	}
}

func TestReadNotMultipart(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("a=b"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := upload.Read(r, upload.Spec{File: "archive"})
	if upload.KindOf(err) != upload.NotMultipart || grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("err %v", err)
	}
}
