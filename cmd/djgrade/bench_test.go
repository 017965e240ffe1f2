package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// BenchmarkGradeVsPlainPytest measures, in one run, the time to grade the
// n-plus-one reference solution end to end (workspace, container, report,
// score) and the time of the same tests run by plain pytest inside the
// image (the same container limits, no plugin, no scoring):
//
//	go test -run '^$' -bench GradeVsPlainPytest -benchtime 5x ./cmd/djgrade
func BenchmarkGradeVsPlainPytest(b *testing.B) {
	skipShort(b)
	ctx := context.Background()
	sb, tag, err := openSandbox(ctx, "bench", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	catalog, err := loadCatalog("")
	if err != nil {
		b.Fatal(err)
	}
	ex, err := catalog.Exercise("n-plus-one")
	if err != nil {
		b.Fatal(err)
	}
	files, err := grader.OverlayFiles(ex, "solutions/reference")
	if err != nil {
		b.Fatal(err)
	}
	svc := &grader.Service{Sandbox: sb, Catalog: catalog, Image: tag}
	workspace, _, err := grader.Assemble(ex, files)
	if err != nil {
		b.Fatal(err)
	}

	var grade, plain, inside time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := svc.Grade(ctx, ex, files, "bench", nil)
		if err != nil || res.Score != res.MaxScore {
			b.Fatalf("grade: %v %+v", err, res)
		}
		grade += time.Since(start)

		var tarball bytes.Buffer
		grader.WriteTar(&tarball, workspace)
		start = time.Now()
		out, err := sb.Run(ctx, grader.Job{ID: "bench-plain", Image: tag, Workspace: &tarball,
			Command: []string{"python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"}, Limits: ex.Limits.WithDefaults()})
		if err != nil || out.ExitCode != 0 {
			b.Fatalf("plain pytest: %v exit %d\n%s", err, out.ExitCode, out.Stdout)
		}
		plain += time.Since(start)
		inside += out.Timings["run"]
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((grade / n).Milliseconds()), "ms/grade")
	b.ReportMetric(float64((plain / n).Milliseconds()), "ms/plain-pytest-container")
	b.ReportMetric(float64((inside / n).Milliseconds()), "ms/plain-pytest-in-container")
}
