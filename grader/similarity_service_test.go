package grader_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// graded stores files as a submission of candidate and finishes it done,
// as a worker would.
func graded(t *testing.T, store *bolt.Store, ex, candidate string, files []grader.File) *grader.Submission {
	t.Helper()
	ctx := context.Background()
	sub := &grader.Submission{Exercise: ex, Candidate: candidate, Status: grader.StatusQueued, CreatedAt: time.Now().UTC()}
	if err := store.CreateSubmission(ctx, sub, files); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, &grader.Result{Verdict: grader.VerdictPassed}, ""); err != nil {
		t.Fatal(err)
	}
	return sub
}

// A copy is flagged against the catalog's answer and against another
// candidate's submission, with its regions; the candidate's own
// resubmission and an answer that is the starter are not; an exercise
// lists each pair once.
func TestSimilarSubmissions(t *testing.T) {
	ctx := context.Background()
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := grader.NewService(grader.Config{Store: store, Similarity: store, Catalog: cat, Image: "img"})
	if err := svc.SeedSimilarity(ctx); err != nil {
		t.Fatal(err)
	}
	ex, _ := cat.Exercise("n-plus-one")
	ref, err := grader.OverlayFiles(ex, "solutions/reference")
	if err != nil {
		t.Fatal(err)
	}
	// Bob's copy: the reference with its comments changed and its
	// identifiers renamed where the code binds them.
	var disguised []grader.File
	for _, f := range ref {
		lines := strings.Split(string(f.Data), "\n")
		for i, l := range lines {
			if j := strings.Index(l, "#"); j >= 0 && !strings.Contains(l[:j], "\"") && !strings.Contains(l[:j], "'") {
				lines[i] = l[:j] + "# mine"
			}
		}
		disguised = append(disguised, grader.File{Path: f.Path, Data: []byte(strings.Join(lines, "\n"))})
	}
	starter, _ := grader.StarterFiles(ex)

	ada := graded(t, store, "n-plus-one", "Ada", ref)
	bob := graded(t, store, "n-plus-one", "Bob", disguised)
	ada2 := graded(t, store, "n-plus-one", "ada", ref)
	dan := graded(t, store, "n-plus-one", "Dan", starter)
	// They were stored without a worker: the start-up backfill finds them.
	if n, err := svc.BackfillSimilarity(ctx); err != nil || n < 3 {
		t.Fatalf("backfill stored %d, %v", n, err)
	}

	others := func(id string) map[string]grader.SimilarMatch {
		ms, err := svc.Similar(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]grader.SimilarMatch{}
		for _, m := range ms {
			if !m.Flagged() {
				t.Errorf("%s: an unflagged pair listed: %+v", id, m.Match)
			}
			out[m.Doc] = m
		}
		return out
	}
	b := others(bob.ID)
	if m, ok := b[grader.CatalogDoc("solutions/reference")]; !ok || m.Catalog != "solutions/reference" || len(m.Query) == 0 {
		t.Errorf("bob's copy not flagged against the reference: %+v", b)
	}
	if m, ok := b[ada.ID]; !ok || m.Submission == nil || m.Submission.Candidate != "Ada" || m.Score < 0.9 {
		t.Errorf("bob's copy not flagged against ada's: %+v", b)
	}
	if _, ok := others(ada2.ID)[ada.ID]; ok {
		t.Errorf("ada's resubmission flagged against her own first")
	}
	if d := others(dan.ID); len(d) != 0 {
		t.Errorf("the starter, submitted as it is, flagged: %+v", d)
	}
	pairs, err := svc.ExerciseSimilar(ctx, "n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, p := range pairs {
		other := p.Catalog
		if p.B != nil {
			other = p.B.ID
		}
		ids := []string{p.A.ID, other}
		if ids[0] > ids[1] {
			ids[0], ids[1] = ids[1], ids[0]
		}
		seen[ids[0]+"~"+ids[1]]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("pair %s listed %d times", k, n)
		}
	}
	ab := []string{ada.ID, bob.ID}
	if ab[0] > ab[1] {
		ab[0], ab[1] = ab[1], ab[0]
	}
	if seen[ab[0]+"~"+ab[1]] != 1 {
		t.Errorf("ada~bob not listed: %v", seen)
	}
}

// A worker fingerprints a submission when it is done: it is in the index
// before anyone asks.
func TestSimilarFingerprintedWhenDone(t *testing.T) {
	svc, store := newService(t, &fakeSandbox{})
	svc.Similarity = store
	ctx := context.Background()
	sub, err := svc.Submit(ctx, "demo", "Ada", []grader.File{{Path: "app/views.py", Data: []byte("def view(request, pk):\n    rows = items.filter(a=1, b=pk).select_related('x')\n    return [r.name for r in rows if r.ok]\n")}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go svc.Run(runCtx)
	waitFinal(t, svc, sub.ID)
	// The worker fingerprints right after it records the end: the
	// submission may read done a moment before it is indexed.
	var docs []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		docs, err = store.SimilarityDocuments(ctx, "demo")
		if err != nil || len(docs) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(docs) != 1 || docs[0] != sub.ID {
		t.Errorf("index after grading: %v, %v", docs, err)
	}
}
