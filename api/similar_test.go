package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// Staff read a submission's and an exercise's flagged pairs; a catalog
// answer is named with none of its lines; a candidate reads neither.
func TestSimilarRoutes(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	w.svc.Similarity = w.store
	ctx := context.Background()
	if err := w.svc.SeedSimilarity(ctx); err != nil {
		t.Fatal(err)
	}
	ex, _ := w.svc.Catalog.Exercise("n-plus-one")
	ref, err := grader.OverlayFiles(ex, "solutions/reference")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, who := range []string{"Ada", "Bob"} {
		sub := &grader.Submission{Exercise: "n-plus-one", Candidate: who, Status: grader.StatusQueued, CreatedAt: time.Now().UTC()}
		if err := w.store.CreateSubmission(ctx, sub, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.ClaimNext(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.store.Finish(ctx, sub.ID, grader.StatusDone, &grader.Result{Verdict: grader.VerdictPassed}, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	if _, err := w.svc.BackfillSimilarity(ctx); err != nil {
		t.Fatal(err)
	}
	var list struct{ Similar []similarJSON }
	res, body := w.jsonDo(t, "interviewer", http.MethodGet, "/api/v1/submissions/"+ids[1]+"/similar", nil, &list)
	wantStatus(t, "similar", res, body, 200)
	var peer, catalog *similarJSON
	for i, m := range list.Similar {
		switch {
		case m.Other.Submission == ids[0]:
			peer = &list.Similar[i]
		case m.Other.Catalog == "solutions/reference":
			catalog = &list.Similar[i]
		}
	}
	if peer == nil || peer.Other.Candidate != "Ada" || peer.Score != 1 || len(peer.Regions) == 0 || len(peer.OtherRegions) == 0 {
		t.Errorf("the copy of Ada's submission: %s", body)
	}
	if catalog == nil || len(catalog.OtherRegions) != 0 || len(catalog.Regions) == 0 {
		t.Errorf("the catalog's answer: %s", body)
	}
	var pairs struct {
		Pairs []json.RawMessage
	}
	res, body = w.jsonDo(t, "interviewer", http.MethodGet, "/api/v1/exercises/n-plus-one/similar", nil, &pairs)
	wantStatus(t, "exercise similar", res, body, 200)
	// Ada~Bob once, and each of them against the catalog's answers.
	if len(pairs.Pairs) < 3 {
		t.Errorf("pairs: %s", body)
	}
	for _, path := range []string{"/api/v1/submissions/" + ids[1] + "/similar", "/api/v1/exercises/n-plus-one/similar"} {
		res, body := w.jsonDo(t, grader.ModePractice, http.MethodGet, path, nil, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a candidate's GET %s: %d %s", path, res.StatusCode, body)
		}
	}
}
