package githubhook

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

func TestPrepareTakeHome(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	client, err := NewClient(fake.apiURL(), fake.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	client.Backoff = time.Millisecond
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	catalog, _ := exercises.Embedded()
	ex, err := catalog.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2030, 5, 1, 17, 0, 0, 0, time.UTC)
	a, err := PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: "ada-l", Repo: "acme/takehome-ada", Deadline: deadline})
	if err != nil {
		t.Fatal(err)
	}

	// Created in the organisation (the token's user is someone else),
	// private, with an initial commit to build on.
	body := fake.repos["acme/takehome-ada"]
	if fake.repoOrg["acme/takehome-ada"] != "acme" || body["private"] != true || body["auto_init"] != true {
		t.Fatalf("repository created with %v under %q", body, fake.repoOrg["acme/takehome-ada"])
	}
	// One commit whose tree is the starter, its public tests and the
	// config: nothing hidden, no solution.
	var tree []map[string]any
	for _, tr := range fake.trees {
		tree = tr
	}
	paths := map[string]string{}
	for _, e := range tree {
		content, _ := e["content"].(string)
		paths[e["path"].(string)] = content
	}
	if paths[ConfigFile] != "exercise: n-plus-one\n" {
		t.Fatalf("config %q", paths[ConfigFile])
	}
	starter, _ := grader.StarterFiles(ex)
	for _, f := range starter {
		if paths[f.Path] != string(f.Data) {
			t.Errorf("starter file %s missing or changed", f.Path)
		}
	}
	hasPublicTest := false
	for p := range paths {
		if strings.HasPrefix(p, "tests/") {
			hasPublicTest = true
		}
		if strings.Contains(p, "hidden") || strings.Contains(p, "solution") || strings.Contains(p, "variant") {
			t.Errorf("repository holds %s", p)
		}
	}
	hidden, _ := grader.HiddenFiles(ex)
	for _, hf := range hidden {
		for p, content := range paths {
			if len(hf.Data) > 40 && strings.Contains(content, string(hf.Data[:40])) {
				t.Errorf("%s holds hidden test text of %s", p, hf.Path)
			}
		}
	}
	if !hasPublicTest {
		t.Errorf("no public tests in %v", paths)
	}
	if len(fake.commits) != 1 {
		t.Fatalf("%d commits", len(fake.commits))
	}
	for sha, c := range fake.commits {
		parents, _ := c["parents"].([]any)
		if len(parents) != 1 || parents[0] != "aaaa000000000000000000000000000000000000" {
			t.Fatalf("commit parents %v", c["parents"])
		}
		if fake.refs["acme/takehome-ada refs/heads/main"] != sha {
			t.Fatalf("main not moved to the commit")
		}
	}
	if fake.invites["acme/takehome-ada ada-l"] != "push" {
		t.Fatalf("invites %v", fake.invites)
	}
	got, err := store.RepoAssignment(ctx, "acme/takehome-ada")
	if err != nil || got.ID != a.ID || got.Exercise != "n-plus-one" || got.Candidate != "ada-l" || !got.Deadline.Equal(deadline) {
		t.Fatalf("assignment %+v %v", got, err)
	}

	// Again: djgrade knows the repository; a clear conflict before any
	// call to GitHub.
	calls := len(fake.calls)
	_, err = PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: "ada-l", Repo: "acme/takehome-ada"})
	if grader.ErrorCode(err) != grader.ECONFLICT || !strings.Contains(grader.ErrorMessage(err), "already the take-home of assignment "+a.ID) || len(fake.calls) != calls {
		t.Fatalf("second time: %v", err)
	}
	// A repository GitHub has but djgrade does not: GitHub's 422, worded.
	fake.repos["acme/exists"] = map[string]any{}
	_, err = PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: "ada-l", Repo: "acme/exists"})
	if grader.ErrorCode(err) != grader.ECONFLICT || !strings.Contains(grader.ErrorMessage(err), "already exists") {
		t.Fatalf("existing on GitHub: %v", err)
	}
	for _, bad := range []string{"acme/.", "acme/a b", "acme/x.git", "-acme/x", "acme/" + strings.Repeat("r", 101), "acme", "acme/x/y"} {
		if _, err := PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: "ada-l", Repo: bad}); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("repo %q: %v", bad, err)
		}
	}
	// A repository of the token's own user is created under /user/repos.
	if _, err := PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: "grace-h", Repo: "interviewer-bob/th-grace"}); err != nil {
		t.Fatal(err)
	}
	if org, ok := fake.repoOrg["interviewer-bob/th-grace"]; !ok || org != "" {
		t.Fatalf("user repository created under %q", org)
	}
	for _, bad := range []string{"", "-ada", "a--b", "ada l", strings.Repeat("a", 40)} {
		if _, err := PrepareTakeHome(ctx, client, store, &TakeHome{Exercise: ex, Login: bad, Repo: "acme/x"}); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("login %q: %v", bad, err)
		}
	}

	// A wrong token is refused by GitHub and reported, not retried.
	bad, _ := NewClient(fake.apiURL(), "wrong", nil)
	_, err = PrepareTakeHome(ctx, bad, store, &TakeHome{Exercise: ex, Login: "ada-l", Repo: "acme/y"})
	if grader.ErrorCode(err) != grader.EUNAUTHORIZED {
		t.Fatalf("wrong token: %v", err)
	}
}
