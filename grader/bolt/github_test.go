package bolt

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

func TestGitHubRecordsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent deliveries of one id: exactly one is new.
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.SeeDelivery(ctx, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d deliveries were new, want 1", fresh)
	}
	if ok, _ := s.ClaimCommit(ctx, "acme/r", "abc", 7); !ok {
		t.Fatal("first claim refused")
	}
	if ok, _ := s.ClaimCommit(ctx, "acme/r", "abc", 0); !ok {
		t.Fatal("the same commit without a pull request is another claim")
	}
	if err := s.SetPRComment(ctx, "acme/r", 7, 1<<40); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckRun(ctx, "sub-1", 42); err != nil {
		t.Fatal(err)
	}
	a := &grader.Assignment{Exercise: "n-plus-one", Candidate: "ada-l", Mode: grader.ModeAssessment, Deadline: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.SetRepoAssignment(ctx, "acme/r", a); err != nil || a.ID == "" {
		t.Fatalf("%v %+v", err, a)
	}
	if _, err := s.SeeDelivery(ctx, ""); grader.ErrorCode(err) != grader.EINVALID {
		t.Fatalf("empty delivery id: %v", err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, _ := s.SeeDelivery(ctx, "72d3162e-cc78-11e3-81ab-4c9367dc0958"); ok {
		t.Fatal("delivery forgotten")
	}
	if ok, _ := s.ClaimCommit(ctx, "acme/r", "abc", 7); ok {
		t.Fatal("claim forgotten")
	}
	if err := s.ReleaseCommit(ctx, "acme/r", "abc", 7); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ClaimCommit(ctx, "acme/r", "abc", 7); !ok {
		t.Fatal("released claim still held")
	}
	if id, _ := s.PRComment(ctx, "acme/r", 7); id != 1<<40 {
		t.Fatalf("comment id %d", id)
	}
	if id, _ := s.PRComment(ctx, "acme/r", 8); id != 0 {
		t.Fatalf("unknown comment id %d", id)
	}
	if id, _ := s.CheckRun(ctx, "sub-1"); id != 42 {
		t.Fatalf("check run %d", id)
	}
	got, err := s.RepoAssignment(ctx, "ACME/R")
	if err != nil || got.ID != a.ID || got.Exercise != "n-plus-one" || !got.Deadline.Equal(a.Deadline) {
		t.Fatalf("%+v %v", got, err)
	}
	// It is an assignment like any other an interviewer lists.
	if list, _ := s.Assignments(ctx, ""); len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("assignments %+v", list)
	}
	if _, err := s.RepoAssignment(ctx, "acme/other"); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("unknown repo: %v", err)
	}
}
