package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/sandbox"
)

// BenchmarkGrade measures, per exercise, the time to grade its reference
// solution end to end (workspaces, the judge's and the candidate's
// containers, PostgreSQL, gunicorn, the hidden checks, the public tests,
// scoring) and reports the median:
//
//	go test -run '^$' -bench Grade -benchtime 5x ./cmd/djgrade
func BenchmarkGrade(b *testing.B) {
	skipShort(b)
	ctx := context.Background()
	sb, tag, err := openSandbox(ctx, "bench", sandbox.PoolOptions{Size: 1}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	catalog, err := loadCatalog("")
	if err != nil {
		b.Fatal(err)
	}
	svc := grader.NewService(grader.Config{Sandbox: sb, Catalog: catalog, Image: tag})
	for _, ex := range catalog.Exercises() {
		files, err := grader.OverlayFiles(ex, "solutions/"+ex.Solutions[0])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(ex.ID, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res, err := svc.Grade(ctx, ex, files, "bench", nil)
				if err != nil || res.Score != res.MaxScore {
					b.Fatalf("grade: %v %+v", err, res)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "ms/grade-p50")
		})
	}
}

// instantSandbox answers every run at once with an empty report: the
// queue benchmark measures the store queue and the workers, not pytest.
type instantSandbox struct{}

func (instantSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	return grader.Outcome{Verdict: grader.RunOK, Report: []byte(`{"version": 2, "checks": [{"id": "tiny", "outcome": "passed"}]}`)}, nil
}

// benchService is a grading service over a real bbolt file in a temporary
// folder, with the tiny catalog and the instant sandbox.
func benchService(b *testing.B) (*grader.Service, *bolt.Store) {
	b.Helper()
	catalog, err := loadCatalog(tinyCatalog(b))
	if err != nil {
		b.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(b.TempDir(), DBName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	svc := grader.NewService(grader.Config{Store: store, Sandbox: instantSandbox{}, Catalog: catalog, Image: "bench",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Poll: 10 * time.Millisecond})
	return svc, store
}

var benchFiles = []grader.File{{Path: "answer.py", Data: []byte("def answer():\n    return 42\n")}}

// BenchmarkQueueThroughput measures submissions per second through the
// durable queue: each is created (one fsync'd commit), claimed and finished
// (one more each) by the workers (one per CPU), with a sandbox that answers
// at once. Submissions are created by 4 concurrent callers, as an API would.
//
//	go test -run '^$' -bench QueueThroughput -benchtime 2000x ./cmd/djgrade
func BenchmarkQueueThroughput(b *testing.B) {
	svc, store := benchService(b)
	var finished atomic.Int64
	done := make(chan struct{})
	svc.Listen(func(e grader.Event) {
		if e.Type == grader.EventFinished && finished.Add(1) == int64(b.N) {
			close(done)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go svc.Run(ctx)
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				for {
					_, err := svc.Submit(ctx, "tiny", "bench", benchFiles)
					if grader.ErrorCode(err) == grader.EUNAVAILABLE {
						// The queue is full: back off as a client
						// told 503 would.
						time.Sleep(5 * time.Millisecond)
						continue
					}
					if err != nil {
						b.Error(err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(time.Minute):
		q, _ := store.Count(ctx, grader.StatusQueued)
		r, _ := store.Count(ctx, grader.StatusRunning)
		d, _ := store.Count(ctx, grader.StatusDone)
		e, _ := store.Count(ctx, grader.StatusError)
		b.Fatalf("only %d of %d finished (store: %d queued, %d running, %d done, %d error)", finished.Load(), b.N, q, r, d, e)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if n, _ := store.Count(ctx, grader.StatusQueued); n != 0 {
		b.Fatalf("%d left queued", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submissions/s")
}

// BenchmarkAPILatency100k measures the HTTP API's latency, over real HTTP on
// a loopback port, for getting one submission and listing a page, with
// 100,000 submissions stored (loaded once, without fsync, for speed; the
// reads are what is measured). It reports p50 and p99 of each.
//
//	go test -run '^$' -bench APILatency100k -benchtime 2000x ./cmd/djgrade
func BenchmarkAPILatency100k(b *testing.B) {
	const stored = 100_000
	svc, store := benchService(b)
	svc.MaxQueued = -1 // no workers run: all 100,000 stay queued
	ctx := context.Background()
	store.SetNoSync(true)
	ids := make([]string, 0, stored)
	for range stored {
		sub, err := svc.Submit(ctx, "tiny", fmt.Sprintf("candidate %d", len(ids)%5000), benchFiles)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	store.SetNoSync(false)
	secret := grader.NewSecret()
	if err := store.CreateToken(ctx, &grader.Token{Name: "bench", Role: grader.RoleAdmin, Hash: grader.HashSecret(secret)}); err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Config{Grader: svc, Catalog: svc.Catalog, Auth: store, RatePerSecond: -1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(url string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %v", url, res.StatusCode, err)
		}
		return took
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		url  func() string
	}{
		{"get", func() string { return base + "/api/v1/submissions/" + ids[r.IntN(len(ids))] }},
		{"list", func() string { return base + "/api/v1/submissions?limit=50" }},
		{"list-candidate", func() string {
			return base + "/api/v1/submissions?limit=50&candidate=" + url.QueryEscape(fmt.Sprintf("candidate %d", r.IntN(5000)))
		}},
	}
	b.ResetTimer()
	for _, c := range cases {
		lat := make([]time.Duration, 0, b.N)
		for range b.N {
			lat = append(lat, call(c.url()))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "µs-p50-"+c.name)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "µs-p99-"+c.name)
	}
}
