package githubhook

import (
	"context"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// Store is what the GitHub integration keeps durably (implemented by
// *bolt.Store in grader/bolt/github.go). Submissions themselves live in the
// grader's store; this is only the glue GitHub needs.
type Store interface {
	// SeeDelivery records a webhook delivery id and reports whether it is
	// new; a redelivery of the same id is false.
	SeeDelivery(ctx context.Context, id string) (bool, error)
	// ClaimCommit records that sha of repo is graded for pull request pr
	// (0 for none) and reports whether it was not before.
	ClaimCommit(ctx context.Context, repo, sha string, pr int) (bool, error)
	// ReleaseCommit forgets a claim, so that a redelivery grades the commit.
	ReleaseCommit(ctx context.Context, repo, sha string, pr int) error
	// PRComment returns the id of djgrade's comment on the pull request, or 0.
	PRComment(ctx context.Context, repo string, pr int) (int64, error)
	// SetPRComment records the id of djgrade's comment on the pull request.
	SetPRComment(ctx context.Context, repo string, pr int, id int64) error
	// CheckRun returns the id of the check run opened for a submission, or 0.
	CheckRun(ctx context.Context, submission string) (int64, error)
	// SetCheckRun records the id of the check run opened for a submission.
	SetCheckRun(ctx context.Context, submission string, id int64) error
	// RepoAssignment returns the assignment registered for the repository
	// ("owner/name", any case), or ENOTFOUND.
	RepoAssignment(ctx context.Context, repo string) (*grader.Assignment, error)
	// SetRepoAssignment stores a as an interviewer's assignment (setting its
	// ID and CreatedAt) and binds the repository to it.
	SetRepoAssignment(ctx context.Context, repo string, a *grader.Assignment) error
	// AddGitHubPending stores an answer waiting for GitHub (JSON of this
	// package's) and returns its sequence number, which orders them.
	AddGitHubPending(ctx context.Context, data []byte) (uint64, error)
	// SetGitHubPending replaces a pending answer; ENOTFOUND when gone.
	SetGitHubPending(ctx context.Context, seq uint64, data []byte) error
	// DeleteGitHubPending forgets an answer; a missing one is no error.
	DeleteGitHubPending(ctx context.Context, seq uint64) error
	// GitHubPending calls fn with every pending answer, oldest first.
	GitHubPending(ctx context.Context, fn func(seq uint64, data []byte) error) error
	// GitHubAnswered returns the FinishedAt of the submission's result
	// whose final answer was stored (SetGitHubAnswered), or the zero time.
	GitHubAnswered(ctx context.Context, submission string) (time.Time, error)
	// SetGitHubAnswered records it.
	SetGitHubAnswered(ctx context.Context, submission string, finished time.Time) error
}
