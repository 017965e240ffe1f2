package bolt

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// fill stores n queued submissions, each with a small packed file, in
// batches of 1,000 per transaction. Set-up speed matters here, not the
// per-submission commit that CreateSubmission pays.
func fill(tb testing.TB, s *Store, n int) []string {
	tb.Helper()
	blob, err := encodeFiles([]grader.File{{Path: "shop/serializers.py", Data: make([]byte, 2048)}})
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, 0, n)
	for done := 0; done < n; {
		batch := min(1000, n-done)
		err := s.db.Update(func(tx *bbolt.Tx) error {
			b, err := open(tx)
			if err != nil {
				return err
			}
			for i := 0; i < batch; i++ {
				now := time.Now().UTC()
				rec := &grader.Submission{
					Exercise:  fmt.Sprintf("ex%d", (done+i)%8),
					Candidate: fmt.Sprintf("cand%d@example.com", done+i),
					Status:    grader.StatusQueued,
					CreatedAt: now,
				}
				if err := create(b, rec, blob, now); err != nil {
					return err
				}
				ids = append(ids, rec.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		done += batch
	}
	return ids
}

// BenchmarkClaimFinish is one worker's store traffic for one submission:
// claim the oldest queued, then record its result. Each is a durable
// (fsync'd) commit, as in production.
func BenchmarkClaimFinish(b *testing.B) {
	s := MustOpen(b)
	fill(b, s, b.N)
	result := &grader.Result{
		Score: 8, MaxScore: 10, Verdict: grader.VerdictFailed,
		Categories: []grader.CategoryScore{{Name: "correctness", Score: 8, MaxScore: 10}},
		Tests:      make([]grader.TestResult, 12),
		Log:        string(make([]byte, 4096)),
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sub, err := s.ClaimNext(ctx)
		if err != nil || sub == nil {
			b.Fatalf("ClaimNext = %v, %v", sub, err)
		}
		if err := s.Finish(ctx, sub.ID, grader.StatusDone, result, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet reads random submissions by id from a store of 100,000.
func BenchmarkGet(b *testing.B) {
	s := MustOpen(b)
	ids := fill(b, s, 100_000)
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Submission(ctx, ids[r.IntN(len(ids))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListNewest lists the newest page of a store of 100,000; a page
// filtered by the candidate of the oldest submission, which the candidate
// index finds without reading the other 99,999; and a page of one exercise
// (one submission in eight), read through the exercise index.
func BenchmarkListNewest(b *testing.B) {
	s := MustOpen(b)
	fill(b, s, 100_000)
	for _, bc := range []struct {
		name   string
		filter grader.SubmissionFilter
	}{
		{"page", grader.SubmissionFilter{}},
		{"oldest-candidate", grader.SubmissionFilter{Candidate: "cand0@example.com"}},
		{"exercise", grader.SubmissionFilter{Exercise: "ex3"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				list, err := s.ListSubmissions(ctx, bc.filter)
				if err != nil || len(list) == 0 {
					b.Fatalf("ListSubmissions = %d, %v", len(list), err)
				}
			}
		})
	}
}

// BenchmarkClaimNextFair measures ClaimNext with 10,000 queued submissions
// spread over 1,000 tenants (tokens), ten each, so that every claim turns
// the rotation. Each op is one claim, a durable commit; the queue is
// refilled off the clock when it runs low. Compare with a short queue: a
// claim costs a few seeks, not a walk of the queue. The nosync cases leave
// out the fsync, which otherwise dominates, to show the scheduler's own cost.
func BenchmarkClaimNextFair(b *testing.B) {
	for _, bc := range []struct {
		queued, tenants int
		nosync          bool
	}{{10_000, 1_000, false}, {100, 10, false}, {10_000, 1_000, true}, {100, 10, true}} {
		b.Run(fmt.Sprintf("queued=%d/tenants=%d/nosync=%v", bc.queued, bc.tenants, bc.nosync), func(b *testing.B) {
			s := MustOpen(b)
			s.SetNoSync(bc.nosync)
			refill := func() {
				fillTenants(b, s, bc.queued, bc.tenants)
			}
			refill()
			left := bc.queued
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if left == 0 {
					b.StopTimer()
					refill()
					left = bc.queued
					b.StartTimer()
				}
				sub, err := s.ClaimNext(ctx)
				if err != nil || sub == nil {
					b.Fatalf("ClaimNext = %v, %v", sub, err)
				}
				left--
			}
		})
	}
}

// fillTenants stores n queued submissions over the given number of tenants
// (tokens), round robin, in batches of 1,000 per transaction.
func fillTenants(tb testing.TB, s *Store, n, tenants int) {
	tb.Helper()
	blob, err := encodeFiles([]grader.File{{Path: "shop/serializers.py", Data: make([]byte, 256)}})
	if err != nil {
		tb.Fatal(err)
	}
	for done := 0; done < n; {
		batch := min(1000, n-done)
		err := s.db.Update(func(tx *bbolt.Tx) error {
			b, err := open(tx)
			if err != nil {
				return err
			}
			for i := 0; i < batch; i++ {
				now := time.Now().UTC()
				t := (done + i) % tenants
				rec := &grader.Submission{
					Exercise:  "ex",
					Candidate: fmt.Sprintf("cand%d", t),
					Owner:     fmt.Sprintf("tok%d", t),
					Status:    grader.StatusQueued,
					CreatedAt: now,
				}
				if err := create(b, rec, blob, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		done += batch
	}
}
