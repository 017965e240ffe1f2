package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/djgrade/djgrade/api/githubhook"
	"github.com/djgrade/djgrade/grader/bolt"
)

const takehomeUsage = "takehome create --exercise ID --candidate-login LOGIN --repo OWNER/NAME [--deadline RFC3339] [--data ./data]"

// runTakeHome prepares a candidate's GitHub repository for a take-home.
func runTakeHome(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return &exitError{2, "usage: djgrade " + takehomeUsage}
	}
	fs := newFlagSet("takehome create", takehomeUsage, stderr)
	exercise := fs.String("exercise", "", "exercise id")
	login := fs.String("candidate-login", "", "the candidate's GitHub login, invited with push access")
	repo := fs.String("repo", "", "repository to create, OWNER/NAME (OWNER: the token's user or an organisation)")
	deadline := fs.String("deadline", "", "deadline, RFC 3339 (2030-05-01T17:00:00Z); later pushes are graded and marked late")
	data := fs.String("data", "./data", "folder of the store ("+DBName+") the server grades with")
	var gh githubConfig
	fs.StringVar(&gh.APIURL, "github-api-url", githubhook.DefaultAPIURL, "GitHub REST API base URL")
	fs.StringVar(&gh.Token, "github-token", "", "GitHub token that may create repositories and invite (prefer DJGRADE_GITHUB_TOKEN)")
	exDir := catalogFlag(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *exercise == "" || *login == "" || *repo == "" || fs.NArg() > 0 {
		return &exitError{2, "usage: djgrade " + takehomeUsage}
	}
	var due time.Time
	if *deadline != "" {
		t, err := time.Parse(time.RFC3339, *deadline)
		if err != nil {
			return &exitError{2, fmt.Sprintf("--deadline %q is not RFC 3339 (2030-05-01T17:00:00Z)", *deadline)}
		}
		due = t.UTC()
	}
	catalog, err := loadCatalog(*exDir)
	if err != nil {
		return err
	}
	ex, err := catalog.Exercise(*exercise)
	if err != nil {
		return &exitError{2, fmt.Sprintf("unknown exercise %q", *exercise)}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := githubClient(gh.APIURL, gh.Token, logger)
	if err != nil {
		return &exitError{2, describe(err)}
	}
	// The store file is locked by a running server: bbolt has one writer
	// process. Open fails after a short wait, saying so.
	store, err := bolt.Open(filepath.Join(*data, DBName))
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := githubhook.PrepareTakeHome(ctx, client, store, githubhook.TakeHome{Exercise: ex, Login: *login, Repo: *repo, Deadline: due})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "take-home %s ready: repository %s (exercise %s) with %s invited", a.ID, *repo, ex.ID, *login)
	if !due.IsZero() {
		fmt.Fprintf(stdout, ", due %s", due.Format(time.RFC3339))
	}
	fmt.Fprintln(stdout)
	return nil
}
