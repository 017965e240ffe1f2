package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/djgrade/djgrade/api/githubhook"
)

// runTakeHomeCreate prepares a candidate's GitHub repository for a take-home.
func runTakeHomeCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("takehome create", stderr)
	exercise := fs.String("exercise", "", "exercise `ID`")
	login := fs.String("candidate-login", "", "the candidate's GitHub `LOGIN`, invited with push access")
	repo := fs.String("repo", "", "repository to create, `OWNER/NAME` (OWNER: the token's user or an organisation)")
	deadline := fs.String("deadline", "", "deadline, `RFC3339` (2030-05-01T17:00:00Z); later pushes are graded and marked late")
	data := fs.String("data", "./data", "`DIR` of the store ("+DBName+") the server grades with")
	var gh githubConfig
	fs.StringVar(&gh.APIURL, "github-api-url", githubhook.DefaultAPIURL, "GitHub REST API base `URL`")
	addGitHubAuthFlags(fs, &gh)
	exDir := catalogFlag(fs)
	required(fs, "exercise", "candidate-login", "repo")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *exercise == "" || *login == "" || *repo == "" || fs.NArg() > 0 {
		return usageError(fs, "takehome create needs --exercise, --candidate-login and --repo, and no arguments")
	}
	var due time.Time
	if *deadline != "" {
		t, err := time.Parse(time.RFC3339, *deadline)
		if err != nil {
			return usageError(fs, fmt.Sprintf("--deadline %q is not RFC 3339 (2030-05-01T17:00:00Z)", *deadline))
		}
		due = t.UTC()
	}
	catalog, err := loadCatalog(*exDir)
	if err != nil {
		return err
	}
	ex, err := catalog.Exercise(*exercise)
	if err != nil {
		return usageError(fs, fmt.Sprintf("unknown exercise %q (known: %s)", *exercise, exerciseIDs(catalog)))
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	gh.AppKey = os.Getenv(envAppKey)
	client, err := githubClient(gh, logger)
	if err != nil {
		return usageError(fs, describe(err))
	}
	// The store file is locked by a running server: bbolt has one writer
	// process. Open fails after a short wait, saying so.
	store, err := openStore(*data, false, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := githubhook.PrepareTakeHome(ctx, client, store, &githubhook.TakeHome{Exercise: ex, Login: *login, Repo: *repo, Deadline: due})
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
