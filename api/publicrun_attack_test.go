package api

import (
	"net/http"
	"strings"
	"testing"
)

// A live session's candidate cannot run the public tests off the
// session's record through the public-run route: the interviewer would
// not see those runs, and they would escape the session's one run every
// LiveRunEvery. Its "Run tests" is the session's run route.
func TestPublicRunNotAroundLiveSession(t *testing.T) {
	sb := &publicSandbox{}
	w := newWorld(t, sb, false, nil)
	l := w.startLive(t, "ada", nil)
	body, ctype := multipartBody(t, part{name: "archive", filename: "a.tar.gz", data: tarGzArchive(t, map[string]string{"library/serializers.py": "# x\n"})})
	res, data := w.do(t, "ada", http.MethodPost, "/api/v1/exercises/n-plus-one/public-run", ctype, body, nil)
	wantStatus(t, "public run by a live session's candidate", res, data, http.StatusForbidden)
	if !strings.Contains(string(data), l.ID) {
		t.Errorf("the refusal does not name the session: %s", data)
	}
	if len(sb.jobs) != 0 {
		t.Errorf("%d runs went to the sandbox off the session's record", len(sb.jobs))
	}
	// Its runs through the session are recorded.
	res, data = w.jsonDo(t, "ada", http.MethodPost, "/api/v1/live/"+l.ID+"/run", oneFile("library/serializers.py", "# y\n"), nil)
	wantStatus(t, "the session's run", res, data, http.StatusOK)
}
