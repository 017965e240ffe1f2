package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// opsGet fetches url and returns its status and body.
func opsGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

type countQueue map[grader.Status]int

func (q countQueue) Count(_ context.Context, st grader.Status) (int, error) { return q[st], nil }

func TestMetricsExposition(t *testing.T) {
	srv := New(Config{})
	m := NewMetrics(countQueue{grader.StatusQueued: 7, grader.StatusRunning: 2})
	m.Mount(srv)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	opsGet(t, ts.URL+"/healthz")
	opsGet(t, ts.URL+"/healthz")
	opsGet(t, ts.URL+"/no/such/path/1")
	opsGet(t, ts.URL+"/no/such/path/2")
	start := time.Now()
	m.Observe(grader.Event{Type: grader.EventFinished, Submission: &grader.Submission{
		Exercise: "n-plus-one", Status: grader.StatusDone, StartedAt: start, FinishedAt: start.Add(3 * time.Second),
		Result: &grader.Result{Verdict: grader.VerdictPassed},
	}})
	m.Observe(grader.Event{Type: grader.EventFinished, Submission: &grader.Submission{
		Exercise: "n-plus-one", Status: grader.StatusError, StartedAt: start, FinishedAt: start.Add(time.Second),
		Result: &grader.Result{Verdict: grader.VerdictInfraError},
	}})
	m.Observe(grader.Event{Type: grader.EventRunning, Submission: &grader.Submission{Exercise: "n-plus-one"}})

	status, body := opsGet(t, ts.URL+PathMetrics)
	if status != http.StatusOK {
		t.Fatalf("metrics: %d %s", status, body)
	}
	for _, want := range []string{
		`djgrade_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2`,
		`djgrade_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 2`,
		`djgrade_grading_duration_seconds_count{exercise="n-plus-one"} 2`,
		`djgrade_grading_duration_seconds_bucket{exercise="n-plus-one",le="2"} 1`,
		`djgrade_verdicts_total{exercise="n-plus-one",verdict="passed"} 1`,
		`djgrade_verdicts_total{exercise="n-plus-one",verdict="` + string(grader.VerdictInfraError) + `"} 1`,
		`djgrade_sandbox_failures_total 1`,
		`djgrade_queue_submissions{status="queued"} 7`,
		`djgrade_queue_submissions{status="running"} 2`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/no/such") {
		t.Error("an unmatched path became a label value")
	}
}

func TestReadyzNamesFailedChecks(t *testing.T) {
	dockerErr := errors.New("dial unix /var/run/docker.sock: connect: permission denied")
	var dockerDown, storeDown bool
	srv := New(Config{ReadyCheck: ReadyChecks(
		Check{"docker", func(context.Context) error {
			if dockerDown {
				return dockerErr
			}
			return nil
		}},
		Check{"sandbox_image", func(context.Context) error { return nil }},
		Check{"store", func(context.Context) error {
			if storeDown {
				return errors.New("store closed")
			}
			return nil
		}},
	)})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	if status, body := opsGet(t, ts.URL+"/readyz"); status != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Fatalf("all checks pass: %d %s", status, body)
	}
	dockerDown, storeDown = true, true
	status, body := opsGet(t, ts.URL+"/readyz")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", status, body)
	}
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not the error JSON: %s", body)
	}
	if e.Error.Code != grader.EUNAVAILABLE || e.Error.Message != "not ready: docker, store" {
		t.Fatalf("error %+v", e.Error)
	}
	if strings.Contains(body, "docker.sock") || strings.Contains(body, "closed") {
		t.Fatalf("internals in the answer: %s", body)
	}
}
