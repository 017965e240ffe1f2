package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// blockingSandbox holds every run until release is closed, telling
// started of each one.
type blockingSandbox struct {
	publicSandbox
	started chan struct{}
	release chan struct{}
}

func (b *blockingSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	b.started <- struct{}{}
	<-b.release
	return b.publicSandbox.Run(ctx, job)
}

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

// One token has one public run at a time: a second while the first runs
// is refused at once (409), rather than taking another of the slots every
// candidate's runs share.
func TestPublicRunOneAtATimePerToken(t *testing.T) {
	sb := &blockingSandbox{started: make(chan struct{}, 4), release: make(chan struct{})}
	w := newWorld(t, sb, false, func(c *Config) {})
	archive := tarGzArchive(t, map[string]string{"library/serializers.py": "# attempt\n"})
	post := func(who string) (*http.Response, []byte) {
		body, ctype := multipartBody(t, part{name: "archive", filename: "a.tar.gz", data: archive})
		return w.do(t, who, http.MethodPost, "/api/v1/exercises/n-plus-one/public-run", ctype, body, nil)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if res, body := post(grader.ModePractice); res.StatusCode != http.StatusOK {
			t.Errorf("the first run: %d %s", res.StatusCode, body)
		}
	}()
	<-sb.started
	res, body := post(grader.ModePractice)
	close(sb.release)
	wg.Wait()
	wantStatus(t, "a second run of the same token at once", res, body, http.StatusConflict)
	// Once the first is done the token may run again.
	if res, body := post(grader.ModePractice); res.StatusCode != http.StatusOK {
		t.Errorf("a run after the first: %d %s", res.StatusCode, body)
	}
}
