package api

import (
	"net/http"
	"strings"
	"testing"
)

// Revoking a live session's assignment cuts the candidate off the session:
// no more saves or sandbox runs, as no more submissions (the revocation
// refuses everything, not only the submit).
func TestLiveRevokedAssignmentStopsTheSession(t *testing.T) {
	sb := &publicSandbox{}
	w := newWorld(t, sb, false, nil)
	l := w.startLive(t, "cy", nil)
	path := "/api/v1/live/" + l.ID
	if res, body := w.jsonDo(t, "cy", http.MethodGet, path, nil, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	res, body := w.jsonDo(t, "interviewer", http.MethodPost, "/api/v1/assignments/"+l.Assignment+"/revoke", nil, nil)
	wantStatus(t, "revoke", res, body, http.StatusOK)
	runs := sb.count()
	for _, c := range []struct {
		method, suffix string
		body           any
	}{
		{http.MethodPut, "/files", oneFile("library/serializers.py", "# after\n")},
		{http.MethodPost, "/run", oneFile("library/serializers.py", "# after\n")},
		{http.MethodPost, "/submit", oneFile("library/serializers.py", "# after\n")},
	} {
		res, body := w.jsonDo(t, "cy", c.method, path+c.suffix, c.body, nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "revoked") {
			t.Errorf("%s %s after the revocation: %d %s", c.method, c.suffix, res.StatusCode, body)
		}
	}
	if n := sb.count(); n != runs {
		t.Errorf("the sandbox ran %d times after the revocation", n-runs)
	}
	var snaps struct {
		Snapshots []any `json:"snapshots"`
	}
	w.jsonDo(t, "interviewer", http.MethodGet, path+"/snapshots", nil, &snaps)
	if len(snaps.Snapshots) != 0 {
		t.Errorf("%d snapshots saved after the revocation", len(snaps.Snapshots))
	}
}

func (p *publicSandbox) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.jobs)
}
