package githubhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// DefaultAPIURL is GitHub's REST API; GitHub Enterprise Server answers at
// https://HOST/api/v3/.
const DefaultAPIURL = "https://api.github.com/"

// Client is djgrade's adapter over go-github: the few REST calls djgrade
// makes, each retried with backoff when GitHub cannot be reached, is failing
// (5xx) or rate-limits. A 4xx that is not a rate limit is the caller's
// mistake and is returned at once: retrying it would only repeat it.
type Client struct {
	gh       *github.Client
	download *http.Client
	log      *slog.Logger
	// app is set when the client authenticates as a GitHub App.
	app *appAuth
	// Attempts is how many times a call is tried (default 5).
	Attempts int
	// Backoff is the wait before the second attempt; it doubles each time,
	// up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
}

// NewClient returns a Client for the REST API at apiURL (DefaultAPIURL when
// empty) authenticated with token (a personal access token; NewAppClient
// authenticates as a GitHub App). The URL is used exactly as given (a
// trailing slash is added), so a test server or a GHE host works unchanged.
func NewClient(apiURL, token string, logger *slog.Logger) (*Client, error) {
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	// Bounded: a GitHub that accepts the connection and then stalls must
	// not hold a notification forever.
	gh := github.NewClient(&http.Client{Timeout: 30 * time.Second})
	if token != "" {
		gh = gh.WithAuthToken(token)
	}
	return newClient(base, gh, logger), nil
}

// parseAPIURL checks and normalises the API's base URL.
func parseAPIURL(apiURL string) (*url.URL, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, grader.Errorf(grader.EINVALID, "GitHub API URL %q is not an http(s) URL", apiURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func newClient(base *url.URL, gh *github.Client, logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	gh.BaseURL = base
	gh.UploadURL = base
	return &Client{
		gh: gh,
		// Tarballs are bigger and slower than API answers; the size cap,
		// not only the clock, bounds them.
		download: &http.Client{Timeout: 2 * time.Minute},
		log:      logger,
	}
}

// retryable reports whether a failed call may succeed if tried again.
func retryable(err error, resp *github.Response) bool {
	var ge *grader.Error
	if errors.As(err, &ge) {
		// Our own verdict, from the App's authentication for one: only
		// GitHub being unavailable may pass.
		return ge.Code == grader.EUNAVAILABLE
	}
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rle) || errors.As(err, &abuse) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if resp != nil {
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	}
	// No answer at all: the connection failed.
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF)
}

// call runs fn until it succeeds, fails for good, or the attempts run out.
func (c *Client) call(ctx context.Context, op string, fn func() (*github.Response, error)) error {
	attempts, wait, maxWait := c.Attempts, c.Backoff, c.MaxBackoff
	if attempts <= 0 {
		attempts = 5
	}
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	var (
		err  error
		resp *github.Response
	)
	for i := 1; ; i++ {
		resp, err = fn()
		if err == nil {
			return nil
		}
		if i >= attempts || !retryable(err, resp) {
			break
		}
		c.log.Warn("GitHub call failed; retrying", "op", op, "attempt", i, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return grader.Wrap(ctx.Err(), grader.EUNAVAILABLE, "GitHub: %s: gave up", op)
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
	var ge *grader.Error
	if errors.As(err, &ge) {
		// Our own verdict (a size cap, say) already has its code.
		return err
	}
	code := grader.EUNAVAILABLE
	if resp != nil && resp.Response != nil {
		switch st := resp.StatusCode; {
		case st == http.StatusNotFound:
			code = grader.ENOTFOUND
		case st == http.StatusUnauthorized:
			code = grader.EUNAUTHORIZED
		case st == http.StatusForbidden:
			code = grader.EFORBIDDEN
		case st == http.StatusUnprocessableEntity || st == http.StatusConflict:
			code = grader.ECONFLICT
		}
	}
	return grader.Wrap(err, code, "GitHub: %s failed", op)
}

// splitRepo splits "owner/name".
func splitRepo(full string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", grader.Errorf(grader.EINVALID, "repository %q is not owner/name", full)
	}
	return owner, name, nil
}

// Tarball downloads the repository's tarball at exactly the commit sha,
// refusing more than max bytes.
func (c *Client) Tarball(ctx context.Context, repo, sha string, max int64) ([]byte, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	var link *url.URL
	err = c.call(ctx, "archive link", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		link, resp, err = c.gh.Repositories.GetArchiveLink(ctx, owner, name, github.Tarball, &github.RepositoryContentGetOptions{Ref: sha}, 1)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	var data []byte
	err = c.call(ctx, "download tarball", func() (*github.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.download.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &github.Response{Response: resp}, fmt.Errorf("tarball download answered %s", resp.Status)
		}
		if resp.ContentLength > max {
			return nil, errTooLarge(max)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, max+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > max {
			return nil, errTooLarge(max)
		}
		return nil, nil
	})
	return data, err
}

func errTooLarge(max int64) error {
	return grader.Errorf(grader.ETOOLARGE, "the repository's tarball is over %s", archive.FormatBytes(max))
}

// OpenPullRequest returns the number of the oldest open pull request whose
// head is branch of the repository itself, or 0 when there is none.
func (c *Client) OpenPullRequest(ctx context.Context, repo, branch string) (int, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, err
	}
	var prs []*github.PullRequest
	err = c.call(ctx, "list pull requests", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		prs, resp, err = c.gh.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{
			State: "open", Head: owner + ":" + branch, Sort: "created", Direction: "asc",
		})
		return resp, err
	})
	if err != nil || len(prs) == 0 {
		return 0, err
	}
	return prs[0].GetNumber(), nil
}

// Commit status states.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// maxStatusDescription is GitHub's limit on a status description.
const maxStatusDescription = 140

// SetStatus sets the commit status named context on sha.
func (c *Client) SetStatus(ctx context.Context, repo, sha, state, context, description, target string) error {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return err
	}
	st := &github.RepoStatus{State: &state, Context: &context, Description: github.String(truncate(description, maxStatusDescription))}
	if target != "" {
		st.TargetURL = &target
	}
	return c.call(ctx, "set commit status", func() (*github.Response, error) {
		_, resp, err := c.gh.Repositories.CreateStatus(ctx, owner, name, sha, st)
		return resp, err
	})
}

// CheckRun is what djgrade shows in a check run.
type CheckRun struct {
	Name, SHA, DetailsURL, ExternalID string
	// Status is queued, in_progress or completed; Conclusion is set when completed.
	Status, Conclusion string
	Title, Summary     string
}

// maxCheckSummary is GitHub's limit on a check run's output summary.
const maxCheckSummary = 65535

func (r CheckRun) output() *github.CheckRunOutput {
	if r.Title == "" {
		return nil
	}
	return &github.CheckRunOutput{Title: github.String(r.Title), Summary: github.String(truncate(r.Summary, maxCheckSummary))}
}

// CreateCheckRun opens a check run and returns its id. Check runs can only be
// written by a GitHub App's installation token; with a personal token GitHub
// answers 403, which the caller logs (the status and comment still work).
func (c *Client) CreateCheckRun(ctx context.Context, repo string, r CheckRun) (int64, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, err
	}
	opts := github.CreateCheckRunOptions{Name: r.Name, HeadSHA: r.SHA, Status: github.String(r.Status), Output: r.output()}
	if r.DetailsURL != "" {
		opts.DetailsURL = github.String(r.DetailsURL)
	}
	if r.ExternalID != "" {
		opts.ExternalID = github.String(r.ExternalID)
	}
	if r.Conclusion != "" {
		opts.Conclusion = github.String(r.Conclusion)
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	var run *github.CheckRun
	err = c.call(ctx, "create check run", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		run, resp, err = c.gh.Checks.CreateCheckRun(ctx, owner, name, opts)
		return resp, err
	})
	if err != nil {
		return 0, err
	}
	return run.GetID(), nil
}

// UpdateCheckRun updates the check run with the id.
func (c *Client) UpdateCheckRun(ctx context.Context, repo string, id int64, r CheckRun) error {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return err
	}
	opts := github.UpdateCheckRunOptions{Name: r.Name, Status: github.String(r.Status), Output: r.output()}
	if r.DetailsURL != "" {
		opts.DetailsURL = github.String(r.DetailsURL)
	}
	if r.Conclusion != "" {
		opts.Conclusion = github.String(r.Conclusion)
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	return c.call(ctx, "update check run", func() (*github.Response, error) {
		_, resp, err := c.gh.Checks.UpdateCheckRun(ctx, owner, name, id, opts)
		return resp, err
	})
}

// UpsertComment writes body as djgrade's one comment on pull request pr. It
// edits the comment with the id known (0 for none); when that is gone or not
// known it looks for a comment carrying marker, and creates one only if none
// does. It returns the comment's id.
func (c *Client) UpsertComment(ctx context.Context, repo string, pr int, known int64, marker, body string) (int64, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, err
	}
	edit := func(id int64) error {
		return c.call(ctx, "edit comment", func() (*github.Response, error) {
			_, resp, err := c.gh.Issues.EditComment(ctx, owner, name, id, &github.IssueComment{Body: &body})
			return resp, err
		})
	}
	if known != 0 {
		err := edit(known)
		if grader.ErrorCode(err) != grader.ENOTFOUND {
			return known, err
		}
		// Someone deleted it: write a new one below.
	}
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 20; page++ {
		var list []*github.IssueComment
		var next int
		err := c.call(ctx, "list comments", func() (*github.Response, error) {
			var resp *github.Response
			var err error
			list, resp, err = c.gh.Issues.ListComments(ctx, owner, name, pr, opts)
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return 0, err
		}
		for _, cm := range list {
			if cm.GetID() != known && strings.Contains(cm.GetBody(), marker) {
				return cm.GetID(), edit(cm.GetID())
			}
		}
		if next == 0 {
			break
		}
		opts.Page = next
	}
	var made *github.IssueComment
	err = c.call(ctx, "create comment", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		made, resp, err = c.gh.Issues.CreateComment(ctx, owner, name, pr, &github.IssueComment{Body: &body})
		return resp, err
	})
	if err != nil {
		return 0, err
	}
	return made.GetID(), nil
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
