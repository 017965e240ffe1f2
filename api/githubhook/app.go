package githubhook

import (
	"context"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"

	"github.com/djgrade/djgrade/grader"
)

// GitHub App authentication, as GitHub documents it: the App signs a JWT
// (RS256, iss = the App's id, iat a little in the past against clock drift,
// exp at most ten minutes after iat) with its private key; with the JWT it
// asks POST /app/installations/{id}/access_tokens for an installation access
// token, which lasts an hour and is what every repository call carries. Only
// an installation token may write check runs.

// Timings of the App's credentials.
const (
	// jwtBackdate is how far in the past a JWT's iat is set.
	jwtBackdate = 60 * time.Second
	// jwtLifetime is exp - iat; GitHub refuses more than ten minutes.
	jwtLifetime = 9 * time.Minute
	// tokenMargin: an installation token with less left than this is
	// replaced before use, so that it cannot expire in flight.
	tokenMargin = 5 * time.Minute
	// maxAppKeyBytes caps the PEM of the App's private key (a 4096-bit
	// RSA key is about 3.3 KiB).
	maxAppKeyBytes = 16 << 10
)

// AppConfig is what NewAppClient needs.
type AppConfig struct {
	// AppID is the App's numeric id (its settings page shows it).
	AppID int64
	// PrivateKey is the App's private key, PEM (PKCS#1 or PKCS#8), as
	// GitHub hands it out.
	PrivateKey []byte
	// Installation is the installation used when a call names no
	// repository owner djgrade knows the installation of; 0 looks it up
	// (GET /repos/{owner}/{repo}/installation, /orgs/{org}/installation).
	Installation int64
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// ParseAppKey reads a GitHub App's private key from PEM.
func ParseAppKey(pem []byte) (*rsa.PrivateKey, error) {
	if len(pem) == 0 {
		return nil, grader.Errorf(grader.EINVALID, "the GitHub App's private key is empty")
	}
	if len(pem) > maxAppKeyBytes {
		return nil, grader.Errorf(grader.EINVALID, "the GitHub App's private key is over %d bytes: not a PEM key", maxAppKeyBytes)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "the GitHub App's private key is not an RSA private key in PEM (the .pem file GitHub generates)")
	}
	return key, nil
}

// installationToken is one cached installation access token.
type installationToken struct {
	token   string
	expires time.Time
}

// appAuth is the http.RoundTripper of a Client that authenticates as an App
// installation: it adds an installation token to every API call, minting
// and caching one per installation.
type appAuth struct {
	appID        int64
	key          *rsa.PrivateKey
	installation int64
	now          func() time.Time
	base         *url.URL
	next         http.RoundTripper
	// app is a go-github client authenticated with the App's JWT, for the
	// /app routes and the installation look-ups.
	app *github.Client

	mu     sync.Mutex
	tokens map[int64]installationToken
	// owners maps a lower-cased repository owner to its installation, as
	// webhooks tell it or look-ups found it.
	owners map[string]int64
	// minted counts the installation tokens fetched (tests, logs).
	minted int
}

// JWT returns a freshly signed App JWT.
func (a *appAuth) JWT() (string, error) {
	now := a.now()
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.appID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-jwtBackdate)),
		ExpiresAt: jwt.NewNumericDate(now.Add(-jwtBackdate + jwtLifetime)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
	if err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "sign the GitHub App JWT")
	}
	return s, nil
}

// jwtTransport adds the App's JWT to the calls of a.app.
type jwtTransport struct{ a *appAuth }

func (t jwtTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.a.JWT()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.a.next.RoundTrip(r)
}

// token returns a valid installation token for id, minting one when none is
// cached or the cached one is close to its expiry.
func (a *appAuth) token(ctx context.Context, id int64) (string, error) {
	a.mu.Lock()
	t, ok := a.tokens[id]
	a.mu.Unlock()
	if ok && a.now().Add(tokenMargin).Before(t.expires) {
		return t.token, nil
	}
	it, _, err := a.app.Apps.CreateInstallationToken(ctx, id, nil)
	if err != nil {
		return "", appErr(err, "create an installation access token for installation "+strconv.FormatInt(id, 10))
	}
	if it.GetToken() == "" {
		return "", grader.Errorf(grader.EUNAVAILABLE, "GitHub answered an installation token request without a token")
	}
	exp := it.GetExpiresAt().Time
	if exp.IsZero() {
		// GitHub's tokens last an hour; an answer without the time is
		// used once and then replaced.
		exp = a.now()
	}
	a.mu.Lock()
	a.tokens[id] = installationToken{token: it.GetToken(), expires: exp}
	a.minted++
	a.mu.Unlock()
	return it.GetToken(), nil
}

// forget drops the cached token of id if it is still tok (GitHub refused it:
// revoked, or expired earlier than it said).
func (a *appAuth) forget(id int64, tok string) {
	a.mu.Lock()
	if a.tokens[id].token == tok {
		delete(a.tokens, id)
	}
	a.mu.Unlock()
}

// forgetInstallation drops every owner mapped to the installation id.
func (a *appAuth) forgetInstallation(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for owner, known := range a.owners {
		if known == id {
			delete(a.owners, owner)
		}
	}
}

// remember records the installation of a repository owner.
func (a *appAuth) remember(owner string, id int64) {
	if owner == "" || id <= 0 {
		return
	}
	a.mu.Lock()
	a.owners[strings.ToLower(owner)] = id
	a.mu.Unlock()
}

// ownerOf returns the owner (and repository, if any) a REST path is about:
// repos/{owner}/{repo}/..., orgs/{org}/..., users/{user}/....
func ownerOf(p string) (owner, repo string) {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) >= 3 && parts[0] == "repos" {
		return parts[1], parts[2]
	}
	if len(parts) >= 2 && (parts[0] == "orgs" || parts[0] == "users") {
		return parts[1], ""
	}
	return "", ""
}

// installationFor finds the installation that covers the API path p.
func (a *appAuth) installationFor(ctx context.Context, p string) (int64, error) {
	owner, repo := ownerOf(p)
	if owner != "" {
		a.mu.Lock()
		id, ok := a.owners[strings.ToLower(owner)]
		a.mu.Unlock()
		if ok {
			return id, nil
		}
	}
	if a.installation > 0 {
		return a.installation, nil
	}
	if owner == "" {
		return 0, grader.Errorf(grader.EINVALID, "no GitHub App installation is configured for this call (set --github-app-installation)")
	}
	var (
		inst *github.Installation
		err  error
	)
	if repo != "" {
		inst, _, err = a.app.Apps.FindRepositoryInstallation(ctx, owner, repo)
	} else {
		inst, _, err = a.app.Apps.FindOrganizationInstallation(ctx, owner)
	}
	if err != nil {
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusNotFound {
			return 0, grader.Errorf(grader.ENOTFOUND, "the GitHub App is not installed on %s", owner)
		}
		return 0, appErr(err, "find the GitHub App's installation on "+owner)
	}
	a.remember(owner, inst.GetID())
	return inst.GetID(), nil
}

// RoundTrip sends req with an installation token. A 401 on a cached token
// (revoked, or expired before its stated time) replaces the token and sends
// the request once more.
func (a *appAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.URL.Host != a.base.Host || !strings.HasPrefix(req.URL.Path, a.base.Path) {
		// Never the token to another host (a redirect to a download).
		return a.next.RoundTrip(req)
	}
	p := strings.TrimPrefix(req.URL.Path, a.base.Path)
	id, err := a.installationFor(ctx, p)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		tok, err := a.token(ctx, id)
		if err != nil {
			if grader.ErrorCode(err) == grader.ENOTFOUND {
				// Uninstalled (or reinstalled under a new id): the next
				// call looks the owner's installation up again.
				a.forgetInstallation(id)
			}
			return nil, err
		}
		r := req.Clone(ctx)
		if try > 0 && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		r.Header.Set("Authorization", "token "+tok)
		resp, err := a.next.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || try > 0 || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}
		resp.Body.Close()
		a.forget(id, tok)
	}
}

// appErr words a failed App call: the JWT refused is a setup mistake.
func appErr(err error, op string) error {
	var ge *grader.Error
	if errors.As(err, &ge) {
		return err
	}
	var re *github.ErrorResponse
	if errors.As(err, &re) && re.Response != nil {
		switch re.Response.StatusCode {
		case http.StatusUnauthorized:
			return grader.Wrap(err, grader.EUNAUTHORIZED, "GitHub refused the App's credentials (%s): check the App id, its private key and this machine's clock", op)
		case http.StatusNotFound:
			return grader.Wrap(err, grader.ENOTFOUND, "GitHub: %s: not found (is the App installed there?)", op)
		case http.StatusForbidden:
			return grader.Wrap(err, grader.EFORBIDDEN, "GitHub: %s: forbidden", op)
		}
	}
	// A 5xx or no answer: EUNAVAILABLE, which Client.call retries.
	return grader.Wrap(err, grader.EUNAVAILABLE, "GitHub: %s failed", op)
}

// NewAppClient returns a Client for the REST API at apiURL that
// authenticates as the GitHub App's installations.
func NewAppClient(apiURL string, cfg AppConfig, logger *slog.Logger) (*Client, error) {
	if cfg.AppID <= 0 {
		return nil, grader.Errorf(grader.EINVALID, "the GitHub App id must be a positive number (the App's settings page shows it)")
	}
	key, err := ParseAppKey(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	if cfg.Installation < 0 {
		return nil, grader.Errorf(grader.EINVALID, "the GitHub App installation id must be a positive number")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	a := &appAuth{
		appID: cfg.AppID, key: key, installation: cfg.Installation, now: cfg.Now,
		base: base, next: http.DefaultTransport,
		tokens: map[int64]installationToken{}, owners: map[string]int64{},
	}
	a.app = github.NewClient(&http.Client{Timeout: 30 * time.Second, Transport: jwtTransport{a}})
	a.app.BaseURL, a.app.UploadURL = base, base
	c := newClient(base, github.NewClient(&http.Client{Timeout: 30 * time.Second, Transport: a}), logger)
	c.app = a
	return c, nil
}

// IsApp reports whether c authenticates as a GitHub App.
func (c *Client) IsApp() bool { return c.app != nil }

// RememberInstallation records that owner's repositories are reached through
// the App's installation id (a webhook's installation.id); a personal token
// client ignores it.
func (c *Client) RememberInstallation(repo string, id int64) {
	if c.app == nil {
		return
	}
	owner, _, _ := strings.Cut(repo, "/")
	c.app.remember(owner, id)
}

// InstallationOf returns the App installation known for repo's owner, or 0
// (none known yet, or a personal token).
func (c *Client) InstallationOf(repo string) int64 {
	if c.app == nil {
		return 0
	}
	owner, _, _ := strings.Cut(repo, "/")
	c.app.mu.Lock()
	defer c.app.mu.Unlock()
	return c.app.owners[strings.ToLower(owner)]
}

// TokensMinted reports how many installation tokens c has fetched.
func (c *Client) TokensMinted() int {
	if c.app == nil {
		return 0
	}
	c.app.mu.Lock()
	defer c.app.mu.Unlock()
	return c.app.minted
}
