package grader

import (
	"context"
	"strings"
	"time"
)

// Store keeps submissions, their files and their results durably. The store
// is also the queue: a submission is queued in the same transaction that
// creates it, and workers claim from it, so an accepted submission survives a
// crash of the server at any moment. The rules of a submission's life are
// Submission's methods (lifecycle.go): a store loads the submission, applies
// the method and persists what it decided, in one transaction.
type Store interface {
	// CreateSubmission assigns sub.ID, stores sub (status queued) together
	// with the candidate's files and enqueues it, all in one transaction.
	CreateSubmission(ctx context.Context, sub *Submission, files []File) error
	// CreateSubmissionWith is CreateSubmission with options. When the
	// options' idempotency key was already used by the same owner, for the
	// same request (CreateOptions.Fingerprint), it stores nothing, sets *sub
	// to the first submission and returns false; for another request it
	// stores nothing and fails with EKEYREUSED. A queue
	// holding MaxQueued submissions or more refuses with EUNAVAILABLE.
	CreateSubmissionWith(ctx context.Context, sub *Submission, files []File, opts CreateOptions) (created bool, err error)
	// CancelSubmission moves a queued submission to cancelled and returns
	// it; any other status is ECONFLICT.
	CancelSubmission(ctx context.Context, id string) (*Submission, error)
	// RequeueSubmission puts a finished submission (done, error or
	// cancelled) back on the queue for a regrade, moving its result to
	// History; a queued or running one is ECONFLICT.
	RequeueSubmission(ctx context.Context, id string) (*Submission, error)
	// Submission returns the submission with the id, or an ENOTFOUND error.
	Submission(ctx context.Context, id string) (*Submission, error)
	// SubmissionFiles returns the candidate files stored with a submission.
	SubmissionFiles(ctx context.Context, id string) ([]File, error)
	// ClaimNext takes the next queued submission off the queue, marks it
	// running (StartedAt set, Attempts incremented) and returns it; it
	// returns nil, nil when the queue is empty. Next is by priority (live,
	// normal, batch), then by turns across tenants and, inside a tenant,
	// across members (Submission.Tenant, Member), then oldest first; a
	// submission whose RetryAt is still ahead is not claimed.
	ClaimNext(ctx context.Context) (*Submission, error)
	// RetryLater puts a running submission back on the queue, not to be
	// claimed before at (Submission.Retry); any other status is ECONFLICT.
	RetryLater(ctx context.Context, id string, at time.Time) error
	// Finish records the end of a running submission: status done with the
	// result, or status error with the reason. It fails with ECONFLICT if
	// the submission is not running.
	Finish(ctx context.Context, id string, status Status, result *Result, reason string) error
	// RequeueRunning puts every running submission back on the queue, at
	// the first turn (it had been given its turn); it is called at
	// start-up, when nothing can be running, and returns how many.
	RequeueRunning(ctx context.Context) (int, error)
	// ListSubmissions returns submissions newest first.
	ListSubmissions(ctx context.Context, filter SubmissionFilter) ([]*Submission, error)
	// Close releases the store.
	Close() error
}

// SubmissionFilter selects submissions. Zero fields match everything.
type SubmissionFilter struct {
	Exercise string
	// Candidate keeps only submissions of exactly that candidate name.
	Candidate string
	// CandidateContains keeps only submissions whose candidate name holds
	// it, ignoring case (see CandidateMatches): the filter people type,
	// in the API's ?candidate= and the dashboard's alike.
	CandidateContains string
	Status            Status
	// Verdict keeps only done submissions with that verdict.
	Verdict Verdict
	// Owner keeps only submissions made with that token id.
	Owner string
	// Since and Until, when set, bound CreatedAt (Since inclusive, Until
	// exclusive).
	Since, Until time.Time
	// Before, when set, starts the listing after the submission with that
	// id (the cursor of the previous page): only older ones are returned.
	Before string
	// Limit caps the number returned (default and maximum 100).
	Limit int
}

// CandidateMatches reports whether the candidate name holds query as a
// substring, ignoring case and the query's surrounding spaces; an empty
// query matches every name. It is the one candidate filter that people use
// (SubmissionFilter.CandidateContains): part of a name, as remembered.
func CandidateMatches(name, query string) bool {
	query = strings.TrimSpace(query)
	return query == "" || strings.Contains(strings.ToLower(name), strings.ToLower(query))
}

// CreateOptions are the options of CreateSubmissionWith.
type CreateOptions struct {
	// IdempotencyKey, if not empty, makes a repeated create by the same
	// Owner return the first submission instead of storing a new one.
	IdempotencyKey string
	// Fingerprint identifies the request the key was used for (see
	// RequestFingerprint). It is stored with the key; a repeated create
	// with the key and another fingerprint stores nothing and fails with
	// EKEYREUSED. A key stored without one matches any request.
	Fingerprint []byte
	// MaxQueued, if positive, refuses a new submission while that many wait.
	MaxQueued int
	// MaxQueuedPerOwner, if positive, refuses (ERATELIMIT) a new submission
	// of an Owner who has that many waiting: one token cannot fill the queue.
	MaxQueuedPerOwner int
	// Refused, if set, refuses a new submission with this error (its
	// assignment no longer admits one), while a repeat of an earlier
	// request under IdempotencyKey still returns the first submission.
	Refused error
	// AdmitAt, if set, has a store that also keeps the assignments decide
	// the submission's admission again in the transaction that stores it:
	// its assignment as stored then, Admit(AdmitAt), refuses it (with
	// Admit's error, a repeat under IdempotencyKey still returning the
	// first submission) or sets its Late. A revocation that commits after
	// the service read the assignment is then not missed.
	AdmitAt time.Time
}
