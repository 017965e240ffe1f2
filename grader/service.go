package grader

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/internal/text"
	"github.com/djgrade/djgrade/grader/pyscan"
)

// maxCandidateChars caps the free-text candidate name.
const maxCandidateChars = 200

// Config is what a Service is made of: its neighbours and its settings.
type Config struct {
	Store   Store
	Sandbox Sandbox
	// LiveStore keeps live sessions and Auth the tokens and assignments a
	// session makes; without both the live-session methods answer
	// EUNAVAILABLE. With Auth set, a submission under a live session's
	// assignment is taken from the session's submit only.
	LiveStore LiveStore
	Auth      AuthStore
	// Similarity, when set, is the index every done submission is
	// fingerprinted into (similarity_service.go).
	Similarity SimilarityStore
	// Outbox, when set, takes the events for hiring tools (outbound.go).
	Outbox Outbox
	// Reviews, when set, keeps reviewers' notes and score overrides
	// (review.go); without it the review methods answer EUNAVAILABLE.
	Reviews ReviewStore
	// OutboundLinkURL is this server's base URL (no trailing slash) for
	// the links in outbound events; empty gives paths alone.
	OutboundLinkURL string
	Catalog         Catalog
	// Image is the sandbox image tag to run.
	Image string
	// Concurrency is the number of workers; default one per CPU.
	Concurrency int
	// Poll is how often idle workers look at the queue without a wake-up;
	// default two seconds.
	Poll time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxQueued caps the submissions waiting to be graded: more are refused
	// with EUNAVAILABLE. Zero means DefaultMaxQueued; negative, no cap.
	MaxQueued int
	// MaxQueuedPerOwner caps the submissions a candidate's token (one
	// submitting under an assignment) may have waiting; zero means
	// DefaultMaxQueuedPerOwner, negative no cap. Staff trying an exercise
	// are not capped.
	MaxQueuedPerOwner int
	// PublicWait bounds how long PublicRun waits for one of its
	// Concurrency slots; default 20 s.
	PublicWait time.Duration
	// Seed, when not zero, is the data seed of every grading instead of a
	// random one: a result records its seed, and grading again with it
	// replays the same hidden data.
	Seed int64
	// RetryBackoff is how long a submission waits before it is graded
	// again after the sandbox answered EUNAVAILABLE (the engine cannot
	// take work now); it doubles with each attempt up to MaxRetryBackoff,
	// and after MaxUnavailableAttempts the submission ends as an infrastructure
	// error. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// Now is the clock of assignments' time limits and deadlines
	// (timed.go); nil means time.Now.
	Now func() time.Time
}

// Service grades submissions: it accepts them into the Store (the durable
// queue) and runs workers that claim, grade and finish them. Make one with
// NewService; its Config fields may be changed before Run starts.
type Service struct {
	Config

	wake      chan struct{}
	draining  chan struct{} // closed by Drain
	drainOnce sync.Once
	listeners listeners
	hub       hub
	// publicSlots bound the public-tests runs at once (PublicRun).
	publicSlots chan struct{}
	// live is the state of live sessions (live_service.go).
	live liveState
}

// NewService returns a Service of c, with the defaults in place of zero
// settings.
func NewService(c Config) *Service {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.NumCPU()
	}
	if c.PublicWait <= 0 {
		c.PublicWait = 20 * time.Second
	}
	return &Service{Config: c, wake: make(chan struct{}, 1), draining: make(chan struct{}), publicSlots: make(chan struct{}, c.Concurrency)}
}

// SubmitRequest is a new submission.
type SubmitRequest struct {
	Exercise  string
	Candidate string
	// Files may be wrapped in one top-level folder.
	Files      []File
	Source     *Source
	Owner      string
	Assignment string
	Late       bool
	// IdempotencyKey, if set, makes a retry by the same Owner return the
	// first submission (see CreateOptions).
	IdempotencyKey string
	// Priority is the submission's scheduling class. It is for the
	// service's callers to set (a live session's runs are PriorityLive);
	// no API field reaches it, so a candidate cannot choose it.
	Priority Priority
}

// Submit validates an uploaded submission and stores it as queued; see Create.
func (s *Service) Submit(ctx context.Context, exercise, candidate string, files []File) (*Submission, error) {
	return s.Create(ctx, SubmitRequest{Exercise: exercise, Candidate: candidate, Files: files, Source: &Source{Kind: SourceUpload}})
}

// Create validates a submission and stores it as queued. It returns EINVALID
// errors for an unknown exercise, a bad candidate name or files that touch
// nothing editable.
func (s *Service) Create(ctx context.Context, req SubmitRequest) (*Submission, error) {
	ex, err := s.Catalog.Exercise(req.Exercise)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(EINVALID, "unknown exercise %q", text.Printable(req.Exercise))
		}
		return nil, err
	}
	candidate, err := CleanCandidate(req.Candidate)
	if err != nil {
		return nil, err
	}
	if err := s.liveAssignment(ctx, req); err != nil {
		return nil, err
	}
	if !req.Priority.Valid() {
		return nil, Errorf(EINVALID, "unknown priority %q", text.Printable(string(req.Priority)))
	}
	files := req.Files
	starter, err := StarterFiles(ex)
	if err != nil {
		return nil, Wrap(err, EINTERNAL, "cannot read the exercise")
	}
	files = StripWrapper(files, starter)
	applied, refused := Apply(ex, starter, files)
	if len(applied) == 0 {
		return nil, Errorf(EINVALID, "the archive holds none of the files this exercise lets you change (%s)", strings.Join(ex.Editable, ", "))
	}
	// Last of the checks, as it may open the assignment (its first
	// submission starts its clock). A refusal under an idempotency key is
	// left to the store: a retry of a request stored in time still gets
	// its submission, whenever the retry arrives.
	now := s.now()
	refusal := s.admit(ctx, &req, now)
	if refusal != nil && (req.IdempotencyKey == "" || ErrorCode(refusal) != EFORBIDDEN) {
		return nil, refusal
	}
	sub := &Submission{
		Exercise:   ex.ID,
		Candidate:  candidate,
		Status:     StatusQueued,
		CreatedAt:  now.UTC(),
		Refused:    refused,
		Source:     req.Source,
		Owner:      req.Owner,
		Assignment: req.Assignment,
		Late:       req.Late,
		Priority:   req.Priority,
	}
	opts := CreateOptions{IdempotencyKey: req.IdempotencyKey, MaxQueued: s.maxQueued(), MaxQueuedPerOwner: s.maxQueuedPerOwner(req), Refused: refusal}
	if req.Assignment != "" && s.Auth != nil {
		// Decided again where it is stored (a revocation may have
		// committed since admit read the assignment).
		opts.AdmitAt = now
	}
	if req.IdempotencyKey != "" {
		opts.Fingerprint = RequestFingerprint(sub, files)
	}
	created, err := s.Store.CreateSubmissionWith(ctx, sub, files, opts)
	if err != nil {
		return nil, err
	} else if !created {
		return sub, nil
	}
	// Queued is told before a worker is woken, so that a listener hears
	// queued before running.
	s.emit(Event{Type: EventQueued, Submission: sub})
	s.Wake()
	return sub, nil
}

// RequestFingerprint is the SHA-256 of what identifies a submission request
// for its idempotency key: the exercise, the candidate, the assignment and
// the files (paths and contents, in path order, so that the same files packed
// in another order or format are the same request).
func RequestFingerprint(sub *Submission, files []File) []byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(sub.Exercise)
	field(sub.Candidate)
	field(sub.Assignment)
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range sorted {
		field(f.Path)
		field(string(f.Data))
		if f.Exec {
			h.Write([]byte{1})
		} else {
			h.Write([]byte{0})
		}
	}
	return h.Sum(nil)
}

// Wake tells an idle worker to look at the queue now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// CleanCandidate trims and validates a free-text candidate name.
func CleanCandidate(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Errorf(EINVALID, "candidate is required")
	}
	if !utf8.ValidString(name) {
		return "", Errorf(EINVALID, "candidate is not valid UTF-8")
	}
	if utf8.RuneCountInString(name) > maxCandidateChars {
		return "", Errorf(EINVALID, "candidate is longer than %d characters", maxCandidateChars)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return "", Errorf(EINVALID, "candidate has a character that is not printable")
		}
	}
	return name, nil
}

// Submission returns the submission with the id.
func (s *Service) Submission(ctx context.Context, id string) (*Submission, error) {
	return s.Store.Submission(ctx, id)
}

// Run puts submissions interrupted by an earlier crash back on the queue,
// then runs the workers until ctx is done or Drain is called. A submission
// being graded when ctx ends stays running in the store and is requeued at
// the next start. Run returns once every worker has stopped.
func (s *Service) Run(ctx context.Context) error {
	n, err := s.Store.RequeueRunning(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.Logger.Info("requeued interrupted submissions", "count", n)
	}
	var wg sync.WaitGroup
	if s.Outbox != nil {
		// Events a crash kept from the Outbox; alongside the workers,
		// whose own events the Outbox stores once whoever is first.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := s.SweepOutbound(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("publish the events of finished submissions again", "err", err)
			} else if n > 0 {
				s.Logger.Info("published the events of finished submissions again", "count", n)
			}
		}()
	}
	for i := 0; i < s.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// Drain tells the workers of Run to claim nothing more: each finishes the
// submission it is grading, if any, and stops, and Run returns. To bound the
// wait, cancel Run's context: gradings still going then stop, stay running
// in the store and are requeued at the next start. Drain may be called more
// than once.
func (s *Service) Drain() {
	s.drainOnce.Do(func() { close(s.draining) })
}

func (s *Service) work(ctx context.Context) {
	tick := time.NewTicker(s.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-s.draining:
			return
		default:
		}
		sub, err := s.Store.ClaimNext(ctx)
		if err != nil {
			s.Logger.Error("claim from queue", "err", err)
		}
		if sub == nil {
			select {
			case <-ctx.Done():
			case <-s.draining:
			case <-s.wake:
			case <-tick.C:
			}
			continue
		}
		// Another submission may be waiting: pass the wake-up on.
		select {
		case s.wake <- struct{}{}:
		default:
		}
		s.process(ctx, sub)
	}
}

// process grades one claimed submission and records its end.
func (s *Service) process(ctx context.Context, sub *Submission) {
	log := s.Logger.With("submission", sub.ID, "exercise", sub.Exercise)
	log.Info("grading", "attempt", sub.Attempts)
	s.emit(Event{Type: EventRunning, Submission: sub})
	start := time.Now()
	res, err := s.gradeStored(ctx, sub)
	if ctx.Err() != nil {
		log.Info("grading interrupted by shutdown; it will be requeued")
		return
	}
	// Recording the end must not be cut short by a shutdown that starts now.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	status, reason := StatusDone, ""
	if ErrorCode(err) == EUNAVAILABLE {
		// The sandbox cannot take work now: not the candidate's doing and
		// not a result. Put it back, to be tried after a backoff, until
		// MaxUnavailableAttempts have been made.
		if sub.Attempts < MaxUnavailableAttempts {
			delay := s.retryDelay(sub.Attempts)
			rerr := s.Store.RetryLater(fctx, sub.ID, time.Now().Add(delay))
			if rerr == nil {
				log.Warn("sandbox unavailable; requeued", "err", err, "attempt", sub.Attempts, "retry_in", delay)
				// Idle workers poll, but need not wait for the poll.
				time.AfterFunc(delay, s.Wake)
				if again, gerr := s.Store.Submission(fctx, sub.ID); gerr == nil {
					s.emit(Event{Type: EventQueued, Submission: again})
				}
				return
			}
			log.Error("requeue after an unavailable sandbox", "err", rerr)
		}
		err = Wrap(err, EUNAVAILABLE, "gave up after %d attempts: %s", sub.Attempts, ErrorMessage(err))
	}
	if err != nil {
		log.Error("grading failed", "err", err)
		// Not the candidate's fault: no points are held against them.
		status, reason = StatusError, ErrorMessage(err)
		res = InfraResult(reason)
		if ex, cerr := s.Catalog.Exercise(sub.Exercise); cerr == nil {
			res.MaxScore = ex.MaxScore()
		}
	}
	if ferr := s.Store.Finish(fctx, sub.ID, status, res, reason); ferr != nil {
		log.Error("record the end of grading", "err", ferr)
		return
	}
	log.Info("graded", "status", status, "score", res.Score, "max", res.MaxScore, "verdict", res.Verdict, "took", time.Since(start).Round(time.Millisecond))
	if done, err := s.Store.Submission(fctx, sub.ID); err == nil {
		s.fingerprint(fctx, done)
		// Failures are logged; the start-up sweep publishes what a crash
		// or a store failure here left out (outbound_events.go).
		_ = s.publishFinished(fctx, done)
		s.emit(Event{Type: EventFinished, Submission: done})
	}
}

func (s *Service) gradeStored(ctx context.Context, sub *Submission) (*Result, error) {
	ex, err := s.Catalog.Exercise(sub.Exercise)
	if err != nil {
		return nil, Wrap(err, EINTERNAL, "exercise %q is no longer in the catalog", sub.Exercise)
	}
	files, err := s.Store.SubmissionFiles(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	return s.Grade(ctx, ex, files, sub.ID, nil)
}

// Grade runs the candidate's files against the exercise in the sandbox and
// scores the outcome. A candidate's failing code is a Result; an error means
// the grading itself could not be done. progress, if not nil, is told each
// phase as it starts.
func (s *Service) Grade(ctx context.Context, ex *Exercise, files []File, id string, progress func(phase string)) (*Result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	progress("assembling the workspace")
	job, ws, err := s.job(ex, files, id, false)
	if err != nil {
		return nil, err
	}
	progress("running the judge and the candidate's project in the sandbox")
	out, err := s.run(ctx, job)
	if err != nil {
		return nil, err
	}
	progress("scoring")
	res, err := Score(ex, out)
	if err != nil {
		return nil, err
	}
	res.Refused = ws.Refused
	// A signal for the interviewer, never a grade: the judge's checks run
	// where candidate code cannot reach, so code that reaches for pytest
	// or djgrade only finds its own process.
	res.Findings = pyscan.Scan(sources(ws.Applied))
	res.Timings["total"] = time.Since(start).Milliseconds()
	return res, nil
}

// job assembles the sandbox job that grades the candidate's files: both
// workspaces, packed, and a data seed.
func (s *Service) job(ex *Exercise, files []File, id string, publicOnly bool) (Job, *Workspace, error) {
	ws, err := NewWorkspace(ex, files)
	if err != nil {
		return Job{}, nil, Wrap(err, EINTERNAL, "cannot assemble the workspace")
	}
	var tarball bytes.Buffer
	if err := archive.WriteTar(&tarball, ws.Files); err != nil {
		return Job{}, nil, Wrap(err, EINTERNAL, "cannot pack the workspace")
	}
	// A public-tests run has no judge: the hidden checks are not packed.
	var judgeWorkspace io.Reader
	if !publicOnly {
		var judgeTar bytes.Buffer
		if err := archive.WriteTar(&judgeTar, ws.Judge); err != nil {
			return Job{}, nil, Wrap(err, EINTERNAL, "cannot pack the hidden checks")
		}
		judgeWorkspace = &judgeTar
	}
	// Data is randomised per run from a seed the result records.
	seed := s.Seed
	if seed == 0 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Job{}, nil, Wrap(err, EINTERNAL, "cannot draw the data seed")
		}
		seed = int64(binary.BigEndian.Uint32(b[:])>>1) + 1
	}
	return Job{
		ID:             id,
		Image:          s.Image,
		JudgeWorkspace: judgeWorkspace,
		Workspace:      &tarball,
		PublicOnly:     publicOnly,
		Settings:       ex.Settings,
		Services:       ex.Services,
		Seed:           seed,
		Public:         true,
		Limits:         ex.Limits.WithDefaults(),
	}, ws, nil
}

// run runs job in the sandbox; an error that is not already a coded one
// is the sandbox's failure.
func (s *Service) run(ctx context.Context, job Job) (Outcome, error) {
	out, err := s.Sandbox.Run(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		var e *Error
		if errors.As(err, &e) {
			return out, err
		}
		return out, Wrap(err, EINTERNAL, "the sandbox failed: %v", err)
	}
	return out, nil
}

// sources turns files into what pyscan reads.
func sources(files []File) []pyscan.Source {
	out := make([]pyscan.Source, len(files))
	for i, f := range files {
		out[i] = pyscan.Source{Path: f.Path, Data: f.Data}
	}
	return out
}

// String renders a verdict for people.
func (v Verdict) String() string { return string(v) }

// Describe is a one-line summary of a result for logs and the CLI.
func (r *Result) Describe() string {
	return fmt.Sprintf("%d/%d %s: %s", r.Score, r.MaxScore, r.Verdict, r.Reason)
}
