package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// TestBenchCommand runs `djgrade bench` for real: the service in this
// process on a loopback port, two submissions of the n-plus-one reference
// over HTTP, one cold plain docker run of pytest, and reads its JSON.
func TestBenchCommand(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	// The bench refuses to build the image; the other Docker tests build
	// it when it is missing, and so does this one.
	sb, _, err := openSandbox(ctx, "", sandbox.PoolOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sb.Close()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"bench", "--exercise", "n-plus-one", "-n", "2", "-c", "1", "--plain-runs", "1", "--json"}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stdout.String())
	}
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, stdout.String())
	}
	t.Logf("report: %s", stdout.String())
	if len(rep.Exercises) != 1 || rep.N != 2 || rep.Concurrency != 1 || rep.Machine.Cores < 1 {
		t.Fatalf("report: %+v", rep)
	}
	e := rep.Exercises[0]
	if e.Exercise != "n-plus-one" || e.Solution != "reference" || len(e.Results) != 2 || len(e.Errors) != 0 {
		t.Fatalf("exercise: %+v", e)
	}
	for _, r := range e.Results {
		if r.ID == "" || r.Status != "done" || r.Verdict != "passed" || r.MaxScore == 0 || r.Score != r.MaxScore || r.Seconds <= 0 {
			t.Fatalf("the reference did not get full marks: %+v", r)
		}
	}
	if e.Grade.P50Seconds <= 0 || e.Grade.P95Seconds < e.Grade.P50Seconds || e.Grade.PerMinute <= 0 || e.Grade.CPUSeconds <= 0 {
		t.Fatalf("grade figures: %+v", e.Grade)
	}
	if len(e.Plain.RunsSeconds) != 1 || e.Plain.MedianSeconds <= 0 || e.Ratio <= 0 || !strings.Contains(e.Plain.Command, "docker run --rm") {
		t.Fatalf("plain figures: %+v ratio %v", e.Plain, e.Ratio)
	}
	// The fast path ran the reference's public tests, all passing.
	if len(e.Public.RunsSeconds) != 2 || e.Public.P50Seconds <= 0 || e.Public.Verdict != string(grader.VerdictPassed) || e.PublicRatio <= 0 {
		t.Fatalf("public figures: %+v ratio %v", e.Public, e.PublicRatio)
	}
	if !strings.Contains(stderr.String(), "plain run 1/1") || !strings.Contains(stderr.String(), "[2/2]") {
		t.Fatalf("no progress on stderr:\n%s", stderr.String())
	}
}

// TestBenchRefusals: an unknown exercise or solution is a usage error (2);
// an engine that does not answer is a clear error (1), before anything runs.
func TestBenchRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--exercise", "no-such-exercise"},
		{"bench", "--exercise", "n-plus-one", "--solution", "no-such-solution"},
		{"bench", "stray-argument"},
		{"bench", "-n", "-3"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr.String())
		}
	}
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--exercise", "n-plus-one", "-n", "1"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "cannot reach the Docker Engine") || stdout.Len() != 0 {
		t.Fatalf("no engine: exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
}

func TestBenchFigures(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0},
		{[]float64{3}, 0.5, 3},
		{[]float64{4, 2}, 0.5, 3},
		{[]float64{5, 1, 3}, 0.5, 3},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95, 10},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9},
	} {
		if got := quantile(c.v, c.q); got != c.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.v, c.q, got, c.want)
		}
	}
	a, err := hostCPUSeconds()
	if err != nil || a <= 0 {
		t.Fatalf("hostCPUSeconds: %v %v", a, err)
	}
	// Burn some CPU: the host's busy time cannot go down.
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	b, err := hostCPUSeconds()
	if err != nil || b < a || x == 0 {
		t.Fatalf("hostCPUSeconds went from %v to %v (%v)", a, b, err)
	}
}

// TestBenchTable: the table for people names every figure of the report.
func TestBenchTable(t *testing.T) {
	rep := benchReport{Image: "img:1", N: 2, Concurrency: 1, PlainRuns: 1, Machine: benchMachine{Cores: 2, LoadBefore: []float64{0.5, 0.4, 0.3}},
		Exercises: []benchExercise{{Exercise: "n-plus-one", Solution: "reference",
			Results: []benchResult{{Seq: 1, Seconds: 3}, {Seq: 2, Seconds: 5, Error: "boom"}},
			Grade:   benchGrade{P50Seconds: 3, P95Seconds: 3, PerMinute: 12.5, CPUSeconds: 4.2, CoresBusy: 0.84, MemoryPeakBytes: 300 << 20, PhasesP50MS: map[string]int64{"checks": 1500}},
			Plain:   benchPlain{Command: "tar -c PROJECT | docker run --rm x", Tests: "public", Database: "sqlite", MedianSeconds: 2.5},
			Ratio:   1.2, Errors: []string{"submission 2: boom"}}}}
	var b bytes.Buffer
	printBench(&b, rep)
	for _, want := range []string{"EXERCISE", "n-plus-one", "reference", "1/2", "3.00s", "12.5", "0.84 of 2", "4.2", "300 MiB", "2.50s", "1.20",
		"checks 1.50s", "docker run --rm x", "error: n-plus-one: submission 2: boom", "[0.5 0.4 0.3]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestBenchPlainRunCancelled: a plain run cut short (Ctrl-C) leaves no
// container behind, the CLI killed or not.
func TestBenchPlainRunCancelled(t *testing.T) {
	skipShort(t)
	sb, tag, err := openSandbox(context.Background(), "", sandbox.PoolOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sb.Close()
	files := projectFiles(t, "n-plus-one", "solutions/reference")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := plainRun(ctx, tag, files, false); err == nil {
		t.Fatal("a plain run cancelled after 1.5s succeeded")
	}
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=djgrade-bench-plain-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("left behind: %q %v", out, err)
	}
}
