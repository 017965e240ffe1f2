package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
)

// page is what every template gets: the layout reads Title, Session, CSRF
// and Nav; the page's own template reads Data.
type page struct {
	Title   string
	Session *api.Principal
	CSRF    string
	Nav     string
	Script  bool
	// Live loads the live pages' scripts (editor.js, live.js).
	Live bool
	Data any
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"hms": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"dur": func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return "—"
		}
		return b.Sub(a).Round(100 * time.Millisecond).String()
	},
	"pct": func(n, of int) int {
		if of <= 0 {
			return 0
		}
		return n * 100 / of
	},
	"clock":    clockText,
	"minutes":  func(d time.Duration) string { return fmt.Sprintf("%d min", int(d.Minutes())) },
	"markdown": renderMarkdown,
	"ok":       func(outcome string) bool { return outcome == grader.OutcomePassed },
	"add":      func(a, b int) int { return a + b },
}

// clockText is the time left from now to end as a countdown shows it:
// "4:05", "1:02:03", "0:00" once past.
func clockText(now, end time.Time) string {
	left := max(end.Sub(now), 0).Round(time.Second)
	h, m, s := int(left.Hours()), int(left.Minutes())%60, int(left.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// parseTemplates parses the layout (and the shared templates of _*.html)
// with each page into a set of its own, so that every page can define
// "content" and "title".
func parseTemplates() (map[string]*template.Template, error) {
	// Files named _*.html hold templates that several pages share.
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a page; the template runs into a buffer first so that a
// template error becomes a clean error page, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.Session == nil {
		p.Session = sessionOf(r)
	}
	if p.CSRF == "" && p.Session != nil {
		p.CSRF = p.Session.CSRF
	}
	t, ok := h.pages[name]
	if !ok {
		h.fail(w, r, grader.Errorf(grader.EINTERNAL, "no template %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.Error("web: render", "page", name, "err", err)
		if name != "error" {
			h.fail(w, r, grader.Errorf(grader.EINTERNAL, "render %s", name))
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// statusOf is the API's one table from error codes to HTTP statuses.
func statusOf(code string) int {
	if status, ok := api.StatusOf(code); ok {
		return status
	}
	return http.StatusInternalServerError
}

type errorData struct {
	Status  int
	Message string
}

// fail renders an error page. Internal errors show a generic message; the
// cause goes to the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := grader.ErrorCode(err)
	status := statusOf(code)
	msg := grader.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		h.log.Error("web: request failed", "path", r.URL.Path, "err", err)
		status, msg = http.StatusInternalServerError, "Something went wrong on the server. Try again; if it persists, tell the people running djgrade."
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", api.RetryAfter(err))
	}
	if liveJSON(r) {
		var body liveErrorJSON
		body.Error.Code, body.Error.Message = code, msg
		if status == http.StatusInternalServerError {
			body.Error.Code = grader.EINTERNAL
		}
		writeJSON(w, status, body)
		return
	}
	if isStream(r) {
		http.Error(w, msg, status)
		return
	}
	h.render(w, r, status, "error", &page{Title: http.StatusText(status), Session: h.current(r), Data: errorData{Status: status, Message: msg}})
}
