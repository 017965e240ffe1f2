package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// The live routes run over the world's real Service (a real bbolt store as
// its Store, LiveStore and AuthStore) with publicSandbox answering every
// run at once, over real HTTP.

// liveDoc is the JSON of a session as the routes answer it.
type liveDoc struct {
	ID             string    `json:"id"`
	Exercise       string    `json:"exercise"`
	Candidate      string    `json:"candidate"`
	CandidateToken string    `json:"candidate_token"`
	Assignment     string    `json:"assignment"`
	Mode           string    `json:"mode"`
	StartedAt      time.Time `json:"started_at"`
	EndsAt         time.Time `json:"ends_at"`
	EndedBy        string    `json:"ended_by"`
	Submission     string    `json:"submission"`
	Snapshots      int       `json:"snapshots"`
	Runs           int       `json:"runs"`
	LimitS         int       `json:"limit_s"`
	State          string    `json:"state"`
	RemainingS     int       `json:"remaining_s"`
	RemainingSecs  int       `json:"remaining_seconds"`
	Link           string    `json:"link"`
	Token          string    `json:"token"`
}

// jsonDo sends body (a value to encode, or nil for none) as who and
// decodes a 2xx answer into out.
func (w *world) jsonDo(t *testing.T, who, method, path string, body, out any) (*http.Response, []byte) {
	t.Helper()
	var res *http.Response
	var data []byte
	if body == nil {
		res, data = w.do(t, who, method, path, "", nil, nil)
	} else {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		res, data = w.do(t, who, method, path, "application/json", bytes.NewReader(b), nil)
	}
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res, data
}

// startLive starts a session of n-plus-one for a new candidate token, kept
// in w.secrets under name.
func (w *world) startLive(t *testing.T, name string, req map[string]any) liveDoc {
	t.Helper()
	if req == nil {
		req = map[string]any{}
	}
	req["exercise"], req["candidate"] = "n-plus-one", "Cand "+name
	var l liveDoc
	res, body := w.jsonDo(t, "interviewer", http.MethodPost, "/api/v1/live", req, &l)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("start live: %d %s", res.StatusCode, body)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/live/"+l.ID {
		t.Errorf("Location %q for session %q", loc, l.ID)
	}
	if !strings.HasPrefix(l.Token, grader.TokenPrefix) {
		t.Fatalf("no new candidate token: %s", body)
	}
	w.secrets[name], w.ids[name] = l.Token, l.CandidateToken
	return l
}

func wantStatus(t *testing.T, what string, res *http.Response, body []byte, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %s", what, res.StatusCode, status, body)
	}
}

type filesBody struct {
	Files []fileInJSON `json:"files"`
}

func oneFile(path, content string) filesBody {
	return filesBody{Files: []fileInJSON{{Path: path, Content: content}}}
}

// TestLiveSessionFlow walks a session through its routes: staff starts it
// and gets a candidate token, the candidate opens it (the countdown
// starts), reads its files, saves, runs the public tests (a second run at
// once is rate limited), submits (once), and the session has ended.
func TestLiveSessionFlow(t *testing.T) {
	sb := &publicSandbox{}
	w := newWorld(t, sb, false, nil)
	l := w.startLive(t, "ada", map[string]any{"limit": "45m"})
	if l.Link != "/ui/l/"+l.ID || l.State != grader.LiveActive || l.LimitS != 45*60 || l.RemainingS != 45*60 || l.RemainingSecs != l.RemainingS ||
		!l.StartedAt.IsZero() || l.Mode != grader.ModePractice || l.Assignment == "" {
		t.Errorf("created: %+v", l)
	}
	path := "/api/v1/live/" + l.ID

	// Staff reading it opens nothing; nor does the candidate's HEAD.
	var got liveDoc
	w.jsonDo(t, "interviewer", http.MethodGet, path, nil, &got)
	if res, _ := w.do(t, "ada", http.MethodHead, path, "", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD as the candidate: %d", res.StatusCode)
	}
	w.jsonDo(t, "interviewer", http.MethodGet, path, nil, &got)
	if !got.StartedAt.IsZero() || got.Token != "" {
		t.Errorf("before the candidate's GET: %+v", got)
	}
	// The new token's secret is the candidate's: it lists its session.
	var list struct{ Sessions []liveDoc }
	if res, body := w.jsonDo(t, "ada", http.MethodGet, "/api/v1/live", nil, &list); res.StatusCode != 200 ||
		len(list.Sessions) != 1 || list.Sessions[0].ID != l.ID {
		t.Fatalf("candidate's list: %d %s", res.StatusCode, body)
	}
	before := time.Now()
	res, body := w.jsonDo(t, "ada", http.MethodGet, path, nil, &got)
	wantStatus(t, "candidate opens", res, body, 200)
	if got.StartedAt.IsZero() || !got.EndsAt.Equal(got.StartedAt.Add(45*time.Minute)) ||
		got.RemainingS > 45*60 || got.RemainingS < 45*60-int(time.Since(before)/time.Second)-1 {
		t.Errorf("after opening: %+v", got)
	}

	var files liveFilesJSON
	res, body = w.jsonDo(t, "ada", http.MethodGet, path+"/files", nil, &files)
	wantStatus(t, "files", res, body, 200)
	editable := map[string]bool{}
	for _, f := range files.Starter {
		editable[f.Path] = *f.Editable
	}
	if !editable["library/serializers.py"] || editable["library/models.py"] || editable["tests/test_books_api.py"] ||
		!strings.Contains(strings.Join(files.Editable, " "), "library/serializers.py") {
		t.Errorf("starter's editable marks %v, editable %v", editable, files.Editable)
	}
	if _, ok := editable["tests/test_books_api.py"]; !ok {
		t.Errorf("the starter lacks its public tests: %v", editable)
	}
	if len(files.Current) == 0 {
		t.Fatal("no current files")
	}
	for _, f := range files.Current {
		if !editable[f.Path] {
			t.Errorf("current file %s is not editable", f.Path)
		}
	}

	var snap grader.LiveSnapshot
	res, body = w.jsonDo(t, "ada", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# v1\n"), &snap)
	wantStatus(t, "save", res, body, 200)
	if snap.Seq != 1 || len(snap.Files) == 0 {
		t.Errorf("snapshot %+v", snap)
	}
	w.jsonDo(t, "ada", http.MethodGet, path+"/files", nil, &files)
	found := false
	for _, f := range files.Current {
		found = found || f.Path == "library/serializers.py" && f.Content == "# v1\n"
	}
	if !found {
		t.Errorf("the save is not the current files: %+v", files.Current)
	}

	var run grader.LiveRun
	res, body = w.jsonDo(t, "ada", http.MethodPost, path+"/run", oneFile("library/serializers.py", "# v2\n"), &run)
	wantStatus(t, "run", res, body, 200)
	if run.Result == nil || len(run.Result.Tests) != 2 || run.Result.Tests[1].Message != "11 queries, want 2" || run.Snapshot != 2 {
		t.Errorf("run: %s", body)
	}
	// Right after it: within LiveRunEvery of the last.
	res, body = w.jsonDo(t, "ada", http.MethodPost, path+"/run", nil, nil)
	wantError(t, res, body, http.StatusTooManyRequests, grader.ERATELIMIT)
	// The wait is the rest of LiveRunEvery (3 s), not the generic 5.
	if ra := res.Header.Get("Retry-After"); ra == "" || ra > "3" {
		t.Errorf("Retry-After %q, want at most 3", ra)
	}

	var runs struct{ Runs []grader.LiveRun }
	if res, body := w.jsonDo(t, "ada", http.MethodGet, path+"/runs", nil, &runs); res.StatusCode != 200 || len(runs.Runs) != 1 || runs.Runs[0].Result == nil {
		t.Errorf("runs: %d %s", res.StatusCode, body)
	}
	var snaps struct{ Snapshots []grader.LiveSnapshot }
	w.jsonDo(t, "ada", http.MethodGet, path+"/snapshots", nil, &snaps)
	if len(snaps.Snapshots) != 2 || snaps.Snapshots[0].Files != nil {
		t.Errorf("snapshots without files: %+v", snaps)
	}
	w.jsonDo(t, "interviewer", http.MethodGet, path+"/snapshots?files=true", nil, &snaps)
	if len(snaps.Snapshots) != 2 || len(snaps.Snapshots[1].Files) == 0 {
		t.Errorf("snapshots with files: %+v", snaps)
	}
	res, body = w.jsonDo(t, "ada", http.MethodGet, path+"/snapshots/2", nil, &snap)
	wantStatus(t, "snapshot 2", res, body, 200)
	if !strings.Contains(string(body), `"content":"# v2\n"`) {
		t.Errorf("snapshot 2: %s", body)
	}
	for _, seq := range []string{"3", "0", "x"} {
		res, body := w.do(t, "ada", http.MethodGet, path+"/snapshots/"+seq, "", nil, nil)
		wantStatus(t, "snapshot "+seq, res, body, 404)
	}

	var sub map[string]any
	res, body = w.jsonDo(t, "ada", http.MethodPost, path+"/submit", oneFile("library/serializers.py", "# final\n"), &sub)
	wantStatus(t, "submit", res, body, http.StatusAccepted)
	if sub["status"] != "queued" || sub["mode"] != grader.ModePractice || res.Header.Get("Location") != "/api/v1/submissions/"+sub["id"].(string) {
		t.Errorf("submitted: %s (Location %q)", body, res.Header.Get("Location"))
	}
	res, body = w.jsonDo(t, "ada", http.MethodPost, path+"/submit", nil, nil)
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
	w.jsonDo(t, "ada", http.MethodGet, path, nil, &got)
	if got.State != grader.LiveEnded || got.EndedBy != "submit" || got.Submission != sub["id"] || got.RemainingS != 0 {
		t.Errorf("after submit: %+v", got)
	}
	res, body = w.jsonDo(t, "ada", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# late\n"), nil)
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
	// The submission is the candidate's own, under its assignment.
	if res, body := w.do(t, "ada", http.MethodGet, "/api/v1/submissions/"+sub["id"].(string), "", nil, nil); res.StatusCode != 200 {
		t.Errorf("candidate's GET of its live submission: %d %s", res.StatusCode, body)
	}
}

// TestLiveEnd: staff ends a session (its candidate may not: 403), which
// refuses saves after; ending again answers it as it is.
func TestLiveEnd(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "bo", nil)
	path := "/api/v1/live/" + l.ID
	res, body := w.jsonDo(t, "bo", http.MethodPost, path+"/end", nil, nil)
	wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	var got liveDoc
	for range 2 {
		res, body = w.jsonDo(t, "interviewer", http.MethodPost, path+"/end", nil, &got)
		wantStatus(t, "end", res, body, 200)
		if got.State != grader.LiveEnded || got.EndedBy != w.ids["interviewer"] || got.RemainingS != 0 {
			t.Errorf("ended: %+v", got)
		}
	}
	res, body = w.jsonDo(t, "bo", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# after\n"), nil)
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
	res, body = w.jsonDo(t, "bo", http.MethodPost, path+"/run", nil, nil)
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
}

// liveRoutesOf are every route of session path, with a body where one is
// needed.
func liveRoutesOf(path string) []struct {
	method, path string
	body         any
} {
	save := oneFile("library/serializers.py", "# theirs\n")
	return []struct {
		method, path string
		body         any
	}{
		{"GET", path, nil}, {"HEAD", path, nil},
		{"POST", path + "/end", nil},
		{"GET", path + "/files", nil}, {"HEAD", path + "/files", nil},
		{"PUT", path + "/files", save},
		{"POST", path + "/run", save},
		{"POST", path + "/submit", save},
		{"GET", path + "/events", nil}, {"HEAD", path + "/events", nil},
		{"GET", path + "/snapshots", nil}, {"HEAD", path + "/snapshots", nil},
		{"GET", path + "/snapshots?files=true", nil},
		{"GET", path + "/snapshots/1", nil}, {"HEAD", path + "/snapshots/1", nil},
		{"GET", path + "/runs", nil}, {"HEAD", path + "/runs", nil},
		{"GET", path + "/notes", nil}, {"HEAD", path + "/notes", nil},
		{"POST", path + "/notes", map[string]string{"text": "mine"}},
	}
}

// TestLiveOtherCandidate: a candidate token that is not the session's gets
// the 404 of a session that does not exist on every route of the session,
// and nothing changed; its list does not hold it.
func TestLiveOtherCandidate(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	w.startLive(t, "eve", nil)
	path := "/api/v1/live/" + l.ID
	var snap grader.LiveSnapshot
	if res, body := w.jsonDo(t, "ada", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# ada\n"), &snap); res.StatusCode != 200 {
		t.Fatalf("ada's save: %d %s", res.StatusCode, body)
	}
	var missing []byte
	for _, who := range []string{"eve", grader.ModePractice} {
		for _, r := range liveRoutesOf(path) {
			if r.method == "GET" && strings.HasSuffix(r.path, "/events") {
				// A stream that opened would not end: only its status is read.
				req, _ := http.NewRequest(r.method, w.srv.URL+r.path, nil)
				req.Header.Set("Authorization", "Bearer "+w.secrets[who])
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s as %s: %d, want 404", r.path, who, res.StatusCode)
				}
				continue
			}
			res, body := w.jsonDo(t, who, r.method, r.path, r.body, nil)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as %s: %d, want 404: %s", r.method, r.path, who, res.StatusCode, body)
			}
			if r.method == "GET" && r.path == path {
				missing = body
			}
		}
	}
	// The same answer as for a session that does not exist.
	_, none := w.do(t, "eve", http.MethodGet, "/api/v1/live/live_nope", "", nil, nil)
	var a, b apiError
	json.Unmarshal(missing, &a)
	json.Unmarshal(none, &b)
	if a.Error.Code != grader.ENOTFOUND || a.Error.Message != b.Error.Message {
		t.Errorf("another's session %s; no session %s", missing, none)
	}
	var got liveDoc
	w.jsonDo(t, "interviewer", http.MethodGet, path, nil, &got)
	if got.Snapshots != 1 || got.Runs != 0 || got.State != grader.LiveActive || got.Submission != "" {
		t.Errorf("the other candidates changed the session: %+v", got)
	}
	var list struct{ Sessions []liveDoc }
	w.jsonDo(t, "eve", http.MethodGet, "/api/v1/live", nil, &list)
	if len(list.Sessions) != 1 || list.Sessions[0].ID == l.ID {
		t.Errorf("eve's list: %+v", list.Sessions)
	}
	w.jsonDo(t, "admin", http.MethodGet, "/api/v1/live", nil, &list)
	if len(list.Sessions) != 2 {
		t.Errorf("staff's list: %d sessions", len(list.Sessions))
	}
	// HEAD answers as GET does, for staff too.
	for _, r := range liveRoutesOf(path) {
		if r.method != "HEAD" || strings.HasSuffix(r.path, "/events") {
			continue
		}
		get, _ := w.do(t, "admin", http.MethodGet, r.path, "", nil, nil)
		head, hb := w.do(t, "admin", http.MethodHead, r.path, "", nil, nil)
		if head.StatusCode != get.StatusCode || len(hb) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q, GET %d %q", r.path, head.StatusCode, head.Header.Get("Content-Type"), get.StatusCode, get.Header.Get("Content-Type"))
		}
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// openEvents opens the session's event stream as who and returns its
// events as they come; the stream is closed at the test's end.
func (w *world) openEvents(t *testing.T, who, path string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+path+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+w.secrets[who])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events as %s: %d %q", who, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// nextEvents reads events until one named last, and returns their names.
func nextEvents(t *testing.T, ch <-chan sseEvent, last string) []sseEvent {
	t.Helper()
	var got []sseEvent
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended after %v, before %q", got, last)
			}
			got = append(got, ev)
			if ev.name == last {
				return got
			}
		case <-timeout:
			t.Fatalf("no %q event after %v", last, got)
		}
	}
}

// TestLiveNotesHidden: the interviewers' notes are theirs: the session's
// candidate gets 404 on the notes' routes, and its event stream carries
// no note where staff's does.
func TestLiveNotesHidden(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	path := "/api/v1/live/" + l.ID
	const secret = "NOTE-LEAK-MARKER: weak on querysets"
	staffEvents := w.openEvents(t, "interviewer", path)
	candEvents := w.openEvents(t, "ada", path)

	var note grader.LiveNote
	res, body := w.jsonDo(t, "interviewer", http.MethodPost, path+"/notes", map[string]string{"text": secret}, &note)
	wantStatus(t, "add note", res, body, http.StatusCreated)
	if note.Text != secret || note.By != w.ids["interviewer"] {
		t.Errorf("note %+v", note)
	}
	res, body = w.jsonDo(t, "ada", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# after the note\n"), nil)
	wantStatus(t, "save", res, body, 200)

	for _, ev := range nextEvents(t, candEvents, grader.LiveEventSave) {
		if ev.name == grader.LiveEventNote || strings.Contains(ev.data, "NOTE-LEAK-MARKER") {
			t.Errorf("the candidate's stream carried %s: %s", ev.name, ev.data)
		}
	}
	evs := nextEvents(t, staffEvents, grader.LiveEventSave)
	sawNote := false
	for _, ev := range evs {
		sawNote = sawNote || ev.name == grader.LiveEventNote && strings.Contains(ev.data, "NOTE-LEAK-MARKER")
	}
	if !sawNote {
		t.Errorf("staff's stream carried no note: %v", evs)
	}

	var notes struct{ Notes []grader.LiveNote }
	if res, body := w.jsonDo(t, "admin", http.MethodGet, path+"/notes", nil, &notes); res.StatusCode != 200 || len(notes.Notes) != 1 {
		t.Errorf("staff's notes: %d %s", res.StatusCode, body)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		res, body := w.do(t, "ada", m, path+"/notes", "", nil, nil)
		wantStatus(t, m+" notes as the candidate", res, body, 404)
		if strings.Contains(string(body), "NOTE-LEAK-MARKER") {
			t.Errorf("the candidate read the note: %s", body)
		}
	}
	res, body = w.jsonDo(t, "ada", http.MethodPost, path+"/notes", map[string]string{"text": "self-review"}, nil)
	wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
	w.jsonDo(t, "admin", http.MethodGet, path+"/notes", nil, &notes)
	if len(notes.Notes) != 1 {
		t.Errorf("the candidate added a note: %+v", notes)
	}
	for _, tc := range []struct {
		text string
		want int
	}{{"", 400}, {strings.Repeat("n", grader.LiveMaxNoteBytes+1), 413}} {
		res, body := w.jsonDo(t, "interviewer", http.MethodPost, path+"/notes", map[string]string{"text": tc.text}, nil)
		wantStatus(t, fmt.Sprintf("a note of %d bytes", len(tc.text)), res, body, tc.want)
	}
}

// TestLiveBadInput: every input is checked before it is used, with the
// code of what is wrong.
func TestLiveBadInput(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	path := "/api/v1/live/" + l.ID
	big := strings.Repeat("x", maxLiveBody)
	overSnapshot := filesBody{Files: []fileInJSON{
		{Path: "library/serializers.py", Content: strings.Repeat("a", grader.LiveMaxSnapshotBytes/2+1)},
		{Path: "library/views.py", Content: strings.Repeat("b", grader.LiveMaxSnapshotBytes/2+1)}}}
	for _, tc := range []struct {
		name, method, path string
		body               any
		raw                string
		status             int
		code               string
	}{
		{"body over the cap", "PUT", path + "/files", oneFile("library/serializers.py", big), "", 413, grader.ETOOLARGE},
		{"run body over the cap", "POST", path + "/run", oneFile("library/serializers.py", big), "", 413, grader.ETOOLARGE},
		{"files over the snapshot cap", "PUT", path + "/files", overSnapshot, "", 413, grader.ETOOLARGE},
		{"a file that is not editable", "PUT", path + "/files", oneFile("library/models.py", "# mine now\n"), "", 400, grader.EINVALID},
		{"a public test", "PUT", path + "/files", oneFile("tests/test_books_api.py", "def test_ok(): pass\n"), "", 400, grader.EINVALID},
		{"a path out of the project", "PUT", path + "/files", oneFile("../library/serializers.py", "#\n"), "", 400, grader.EINVALID},
		{"no files", "PUT", path + "/files", filesBody{}, "", 400, grader.EINVALID},
		{"an unknown field", "PUT", path + "/files", nil, `{"files":[{"path":"library/serializers.py","content":"#","editable":true}]}`, 400, grader.EINVALID},
		{"two JSON values", "PUT", path + "/files", nil, `{"files":[]} {}`, 400, grader.EINVALID},
		{"an unknown exercise", "POST", "/api/v1/live", map[string]any{"exercise": "nope", "candidate": "X"}, "", 400, grader.EINVALID},
		{"a limit that is no duration", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X", "limit": "45"}, "", 400, grader.EINVALID},
		{"a limit over the maximum", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X", "limit": "5h"}, "", 400, grader.EINVALID},
		{"a bad mode", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X", "mode": "exam"}, "", 400, grader.EINVALID},
		{"a token that is not a candidate's", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X", "token_id": "ADMIN"}, "", 400, grader.EINVALID},
		{"an unknown field at create", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X", "minutes": 5}, "", 400, grader.EINVALID},
		{"a candidate starts one", "POST", "/api/v1/live", map[string]any{"exercise": "n-plus-one", "candidate": "X"}, "", 403, grader.EFORBIDDEN},
	} {
		who := "interviewer"
		if tc.name == "a candidate starts one" {
			who = "ada"
		}
		if m, ok := tc.body.(map[string]any); ok && m["token_id"] == "ADMIN" {
			m["token_id"] = w.ids["admin"]
		}
		var res *http.Response
		var body []byte
		if tc.raw != "" {
			res, body = w.do(t, who, tc.method, tc.path, "application/json", strings.NewReader(tc.raw), nil)
		} else {
			res, body = w.jsonDo(t, who, tc.method, tc.path, tc.body, nil)
		}
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %.300s", tc.name, res.StatusCode, tc.status, body)
			continue
		}
		var e apiError
		if json.Unmarshal(body, &e); e.Error.Code != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, e.Error.Code, tc.code)
		}
	}
	res, body := w.do(t, "ada", http.MethodPut, path+"/files", "text/plain", strings.NewReader(`{"files":[]}`), nil)
	wantStatus(t, "a body that is not JSON", res, body, http.StatusUnsupportedMediaType)
	// Nothing of that was stored.
	var got liveDoc
	w.jsonDo(t, "interviewer", http.MethodGet, path, nil, &got)
	if got.Snapshots != 0 {
		t.Errorf("refused saves stored %d snapshots", got.Snapshots)
	}
	// An existing candidate token may be given; no new secret then.
	var l2 liveDoc
	res, body = w.jsonDo(t, "interviewer", http.MethodPost, "/api/v1/live",
		map[string]any{"exercise": "n-plus-one", "candidate": "Ada again", "token_id": w.ids["ada"], "mode": grader.ModeAssessment}, &l2)
	wantStatus(t, "with ada's token", res, body, http.StatusCreated)
	if l2.Token != "" || l2.CandidateToken != w.ids["ada"] || l2.Mode != grader.ModeAssessment {
		t.Errorf("with an existing token: %s", body)
	}
}

// TestLiveUnavailable: a server without Config.Live answers every live
// route 503 unavailable.
func TestLiveUnavailable(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, func(c *Config) { c.Live = nil })
	for _, r := range append(liveRoutesOf("/api/v1/live/live_x"),
		struct {
			method, path string
			body         any
		}{"GET", "/api/v1/live", nil},
		struct {
			method, path string
			body         any
		}{"POST", "/api/v1/live", map[string]string{"exercise": "n-plus-one", "candidate": "X"}}) {
		res, body := w.jsonDo(t, "interviewer", r.method, r.path, r.body, nil)
		if r.method == "HEAD" {
			wantStatus(t, r.method+" "+r.path, res, body, 503)
			continue
		}
		wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
		if !strings.Contains(string(body), "does not run live sessions") {
			t.Errorf("%s %s: %s", r.method, r.path, body)
		}
	}
}

// TestLiveOneRunAtATime: while a run of the session waits for the sandbox
// (held at a gate), a second run is refused with 409; the first answers
// when the sandbox does.
func TestLiveOneRunAtATime(t *testing.T) {
	sb := &gateSandbox{release: make(chan struct{}), started: make(chan string, 1)}
	w := newWorld(t, sb, false, nil)
	l := w.startLive(t, "ada", nil)
	path := "/api/v1/live/" + l.ID
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+path+"/run", nil)
		req.Header.Set("Authorization", "Bearer "+w.secrets["ada"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	select {
	case <-sb.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first run did not reach the sandbox")
	}
	res, body := w.jsonDo(t, "interviewer", http.MethodPost, path+"/run", nil, nil)
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
	close(sb.release)
	if st := <-first; st != http.StatusOK {
		t.Errorf("the first run: %d", st)
	}
}
