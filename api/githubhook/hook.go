// Package githubhook grades take-homes that live on GitHub: a webhook route
// that turns a push or a pull request into a submission of the commit's
// tarball, a notifier that answers on GitHub (a commit status, a check run
// and one pull request comment that later pushes edit), and the interviewer's
// preparation of a candidate's repository.
//
// Its neighbours: the grading service (Grader), GitHub's REST API (Client,
// over go-github, as a GitHub App in app.go or with a personal token) and a
// Store for deliveries, comment ids, repository assignments and the answers
// waiting for GitHub (bbolt, in grader/bolt/github.go; see pending.go).
package githubhook

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// Path is the webhook route.
const Path = "/webhooks/github"

// DefaultMaxBody caps a webhook's body. GitHub caps payloads at 25 MB, but
// the events djgrade reads are a few KiB: a push with hundreds of commits
// stays far below this.
const DefaultMaxBody = 1 << 20

// DefaultMaxTarball caps the downloaded tarball of a commit.
const DefaultMaxTarball = 20 << 20

// Submitter is what the hook needs from the grading service (implemented by
// *grader.Service).
type Submitter interface {
	// Create validates and stores a submission as queued.
	Create(ctx context.Context, req grader.SubmitRequest) (*grader.Submission, error)
	// Listen registers fn to be told of every submission event.
	Listen(fn func(grader.Event))
}

// Config is what New needs. Client, Store, Grader and Catalog are required
// when Secret is set; without a Secret the route refuses every request.
type Config struct {
	// Secret is the webhook secret shared with GitHub.
	Secret  string
	Client  *Client
	Store   Store
	Grader  Submitter
	Catalog grader.Catalog
	// ResultURL returns the link to a submission's result, shown on GitHub;
	// nil shows none.
	ResultURL func(id string) string
	Logger    *slog.Logger
	// MaxBody caps a webhook body (default DefaultMaxBody); MaxTarball the
	// downloaded commit (default DefaultMaxTarball).
	MaxBody, MaxTarball int64
	// ArchiveLimits bound the tarball's content (default archive.DefaultLimits).
	ArchiveLimits archive.Limits
	// Parallel bounds the commits fetched at once (default 4).
	Parallel int
	// RetryBackoff is the wait before an answer GitHub did not accept is
	// sent again; it doubles each time up to RetryMaxBackoff. An answer not
	// accepted within PendingMaxAge is given up (see pending.go).
	RetryBackoff, RetryMaxBackoff, PendingMaxAge time.Duration
}

// Hook is the webhook handler and the GitHub notifier. Create it with New.
type Hook struct {
	cfg Config
	log *slog.Logger
	ctx context.Context
	wg  sync.WaitGroup
	sem chan struct{}
	// signal wakes the answer loop; active counts the webhooks whose
	// commit is being fetched.
	signal chan struct{}
	// ready is closed once the answer loop has reconciled the store.
	ready  chan struct{}
	mu     sync.Mutex
	active int
}

// New returns a Hook whose background work (fetching commits, answering on
// GitHub) runs until ctx ends. When cfg.Secret is set it listens to the
// grader's events to answer on GitHub.
func New(ctx context.Context, cfg Config) *Hook {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxTarball <= 0 {
		cfg.MaxTarball = DefaultMaxTarball
	}
	if cfg.ArchiveLimits == (archive.Limits{}) {
		cfg.ArchiveLimits = archive.DefaultLimits
	}
	if cfg.ArchiveLimits.MaxArchiveBytes <= 0 || cfg.ArchiveLimits.MaxArchiveBytes > cfg.MaxTarball {
		cfg.ArchiveLimits.MaxArchiveBytes = cfg.MaxTarball
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.RetryMaxBackoff < cfg.RetryBackoff {
		cfg.RetryMaxBackoff = max(DefaultRetryMaxBackoff, cfg.RetryBackoff)
	}
	if cfg.PendingMaxAge <= 0 {
		cfg.PendingMaxAge = DefaultPendingMaxAge
	}
	if cfg.ResultURL == nil {
		cfg.ResultURL = func(string) string { return "" }
	}
	h := &Hook{cfg: cfg, log: cfg.Logger.With("component", "github"), ctx: ctx, sem: make(chan struct{}, cfg.Parallel), signal: make(chan struct{}, 1), ready: make(chan struct{})}
	if cfg.Secret != "" {
		cfg.Grader.Listen(h.onEvent)
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.answerLoop()
		}()
	} else {
		close(h.ready)
	}
	return h
}

// Wait blocks until every background task has ended; call it after the
// context given to New is done (or in tests, to let work finish).
func (h *Hook) Wait() { h.wg.Wait() }

// Idle blocks until no webhook is being processed and no answer waits for
// GitHub, or ctx ends. Tests use it to observe a quiet state.
func (h *Hook) Idle(ctx context.Context) error {
	select {
	case <-h.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		h.mu.Lock()
		active := h.active
		h.mu.Unlock()
		n, err := h.pendingCount(ctx)
		if err != nil {
			return err
		}
		if active == 0 && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *Hook) busy(n int) {
	h.mu.Lock()
	h.active += n
	h.mu.Unlock()
}

// Register mounts the webhook on e in the group api.PathWebhooks, with the
// group's own edge: the API's security headers and a request timeout (the
// API's own body cap, a few KiB, is not applied to the group; readBody caps
// this route's body at MaxBody). Errors are the API's JSON.
func (h *Hook) Register(e *echo.Echo) {
	g := e.Group(api.PathWebhooks, api.JSONHeaders, middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Timeout: api.DefaultRequestTimeout,
		// A deadline stays context.DeadlineExceeded, which the API's
		// error handler words for the caller.
		ErrorHandler: func(err error, _ echo.Context) error { return err },
	}))
	g.POST(strings.TrimPrefix(Path, api.PathWebhooks), h.handle)
}

// readBody reads at most MaxBody bytes; a bigger body is refused without
// reading the rest.
func (h *Hook) readBody(req *http.Request) ([]byte, error) {
	limit := h.cfg.MaxBody
	if req.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "cannot read the request body")
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

func tooLarge(limit int64) error {
	return grader.Errorf(grader.ETOOLARGE, "webhook body is over the limit of %d bytes", limit)
}

// answer is the JSON body of a webhook response.
type answer struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (h *Hook) handle(c echo.Context) error {
	if h.cfg.Secret == "" {
		return grader.Errorf(grader.EUNAVAILABLE, "GitHub webhooks are not configured on this server: set --github-webhook-secret (DJGRADE_GITHUB_WEBHOOK_SECRET)")
	}
	body, err := h.readBody(c.Request())
	if err != nil {
		return err
	}
	req := c.Request()
	sig := req.Header.Get(github.SHA256SignatureHeader)
	if sig == "" {
		return grader.Errorf(grader.EUNAUTHORIZED, "missing %s", github.SHA256SignatureHeader)
	}
	// ValidateSignature compares MACs with hmac.Equal: constant time.
	if err := github.ValidateSignature(sig, body, []byte(h.cfg.Secret)); err != nil {
		return grader.Errorf(grader.EUNAUTHORIZED, "bad %s", github.SHA256SignatureHeader)
	}
	payload, err := payloadOf(req.Header.Get(echo.HeaderContentType), body)
	if err != nil {
		return err
	}
	delivery := req.Header.Get(github.DeliveryIDHeader)
	if delivery == "" {
		return grader.Errorf(grader.EINVALID, "missing %s", github.DeliveryIDHeader)
	}
	kind := req.Header.Get(github.EventTypeHeader)
	switch kind {
	case "ping", "push", "pull_request":
	default:
		// An event djgrade does not use is not an error: GitHub would
		// show a red delivery for nothing.
		return c.JSON(http.StatusOK, answer{Status: "ignored", Reason: "event type " + kind + " is not used"})
	}
	event, err := github.ParseWebHook(kind, payload)
	if err != nil {
		return grader.Errorf(grader.EINVALID, "%s payload is not valid JSON of that event", kind)
	}
	fresh, err := h.cfg.Store.SeeDelivery(req.Context(), delivery)
	if err != nil {
		return err
	}
	if !fresh {
		return c.JSON(http.StatusOK, answer{Status: "duplicate", Reason: "delivery " + delivery + " was already received"})
	}
	log := h.log.With("delivery", delivery, "event", kind)
	switch ev := event.(type) {
	case *github.PingEvent:
		return c.JSON(http.StatusOK, answer{Status: "pong"})
	case *github.PushEvent:
		w, why := pushWork(ev)
		if w == nil {
			return c.JSON(http.StatusOK, answer{Status: "ignored", Reason: why})
		}
		h.cfg.Client.RememberInstallation(w.Repo, ev.GetInstallation().GetID())
		h.start(log, *w)
	case *github.PullRequestEvent:
		w, why := pullRequestWork(ev)
		if w == nil {
			return c.JSON(http.StatusOK, answer{Status: "ignored", Reason: why})
		}
		h.cfg.Client.RememberInstallation(w.Repo, ev.GetInstallation().GetID())
		h.start(log, *w)
	default:
		return c.JSON(http.StatusOK, answer{Status: "ignored", Reason: "event type " + kind + " is not used"})
	}
	return c.JSON(http.StatusAccepted, answer{Status: "accepted"})
}

// payloadOf returns the JSON of a webhook body: GitHub sends it as the body
// or, for hooks set to form encoding, as the "payload" field.
func payloadOf(contentType string, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, grader.Errorf(grader.EINVALID, "webhook Content-Type %q is not readable", contentType)
	}
	switch mt {
	case "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, grader.Errorf(grader.EINVALID, "webhook form body is not readable")
		}
		return []byte(form.Get("payload")), nil
	}
	return nil, grader.Errorf(grader.EINVALID, "webhook Content-Type %q is not application/json", mt)
}

// work is one commit to grade.
type work struct {
	Repo, SHA, Ref, Sender string
	// PR is the pull request number; 0 with FindPR set means "ask GitHub
	// for an open pull request of Ref, and skip the push if there is none".
	PR     int
	FindPR bool
}

// zeroSHA is the "after" of a push that deleted the branch.
const zeroSHA = "0000000000000000000000000000000000000000"

func pushWork(ev *github.PushEvent) (*work, string) {
	branch, ok := strings.CutPrefix(ev.GetRef(), "refs/heads/")
	switch {
	case !ok:
		return nil, "not a branch push"
	case ev.GetDeleted() || ev.GetAfter() == "" || ev.GetAfter() == zeroSHA:
		return nil, "the branch was deleted"
	case ev.GetRepo().GetFullName() == "":
		return nil, "the payload names no repository"
	}
	w := &work{Repo: ev.GetRepo().GetFullName(), SHA: ev.GetAfter(), Ref: branch, Sender: ev.GetSender().GetLogin()}
	if branch != ev.GetRepo().GetDefaultBranch() {
		w.FindPR = true
	}
	return w, ""
}

func pullRequestWork(ev *github.PullRequestEvent) (*work, string) {
	switch ev.GetAction() {
	case "opened", "synchronize", "reopened":
	default:
		return nil, "pull request action " + ev.GetAction() + " is not graded"
	}
	pr := ev.GetPullRequest()
	if ev.GetRepo().GetFullName() == "" || pr.GetHead().GetSHA() == "" || pr.GetNumber() == 0 {
		return nil, "the payload names no repository, commit or number"
	}
	sender := ev.GetSender().GetLogin()
	if sender == "" {
		sender = pr.GetUser().GetLogin()
	}
	return &work{Repo: ev.GetRepo().GetFullName(), SHA: pr.GetHead().GetSHA(), Ref: pr.GetHead().GetRef(), PR: pr.GetNumber(), Sender: sender}, ""
}

// start grades w in the background: the webhook has answered by then.
func (h *Hook) start(log *slog.Logger, w work) {
	h.busy(1)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer h.busy(-1)
		select {
		case h.sem <- struct{}{}:
		case <-h.ctx.Done():
			return
		}
		defer func() { <-h.sem }()
		h.process(log.With("repo", w.Repo, "sha", w.SHA, "pr", w.PR), w)
	}()
}

// bytesReader is split out so process reads as a sequence of steps.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
