package githubhook

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/djgrade/djgrade/grader"
)

// movableClock is a clock tests move forward.
type movableClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *movableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

func TestAppJWTClaims(t *testing.T) {
	fake := newFakeGitHub(t)
	c := fake.newAppClient(t, 0, nil)
	raw, err := c.app.JWT()
	if err != nil {
		t.Fatal(err)
	}
	if why := fake.verifyJWT(raw); why != "" {
		t.Fatalf("the fake refuses djgrade's JWT: %s", why)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &fake.appKey.PublicKey, nil })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	iat, exp := claims.IssuedAt.Time, claims.ExpiresAt.Time
	if tok.Method.Alg() != "RS256" || claims.Issuer != "4242" ||
		iat.After(now.Add(-50*time.Second)) || iat.Before(now.Add(-70*time.Second)) ||
		exp.Sub(iat) > 10*time.Minute || !exp.After(now) {
		t.Fatalf("alg %s claims %+v (now %s)", tok.Method.Alg(), claims, now)
	}
}

// postToken asks the fake for an installation token with the JWT raw.
func postToken(t *testing.T, f *fakeGitHub, raw string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.apiURL()+"app/installations/777/access_tokens", nil)
	req.Header.Set("Authorization", "Bearer "+raw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFakeRefusesBadAppJWTs(t *testing.T) {
	fake := newFakeGitHub(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key *rsa.PrivateKey, method jwt.SigningMethod, c jwt.RegisteredClaims) string {
		var k any = key
		if method == jwt.SigningMethodHS256 {
			k = []byte("guess")
		}
		s, err := jwt.NewWithClaims(method, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	good := jwt.RegisteredClaims{Issuer: "4242", IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(8 * time.Minute))}
	if code := postToken(t, fake, sign(fake.appKey, jwt.SigningMethodRS256, good)); code != http.StatusCreated {
		t.Fatalf("a good JWT: %d", code)
	}
	expired := jwt.RegisteredClaims{Issuer: "4242", IssuedAt: jwt.NewNumericDate(now.Add(-20 * time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(-11 * time.Minute))}
	tooLong := jwt.RegisteredClaims{Issuer: "4242", IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(30 * time.Minute))}
	future := jwt.RegisteredClaims{Issuer: "4242", IssuedAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute))}
	wrongIss := good
	wrongIss.Issuer = "9999"
	noExp := jwt.RegisteredClaims{Issuer: "4242", IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute))}
	for name, raw := range map[string]string{
		"forged (another key)": sign(other, jwt.SigningMethodRS256, good),
		"HS256":                sign(nil, jwt.SigningMethodHS256, good),
		"expired":              sign(fake.appKey, jwt.SigningMethodRS256, expired),
		"exp over 10 minutes":  sign(fake.appKey, jwt.SigningMethodRS256, tooLong),
		"iat in the future":    sign(fake.appKey, jwt.SigningMethodRS256, future),
		"another App's iss":    sign(fake.appKey, jwt.SigningMethodRS256, wrongIss),
		"no exp":               sign(fake.appKey, jwt.SigningMethodRS256, noExp),
		"not a JWT":            "ghs_fake0001",
	} {
		if code := postToken(t, fake, raw); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if fake.minted != 1 {
		t.Fatalf("tokens minted: %d", fake.minted)
	}
}

func TestFakeRefusesUnknownTokens(t *testing.T) {
	fake := newFakeGitHub(t)
	do := func(cred string) int {
		req, _ := http.NewRequest(http.MethodPost, fake.apiURL()+"repos/acme/takehome-ada/check-runs", strings.NewReader(`{"name":"x","head_sha":"1"}`))
		req.Header.Set("Authorization", "token "+cred)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("ghs_made_up_by_someone"); code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", code)
	}
	if code := do(fake.token); code != http.StatusForbidden {
		t.Fatalf("personal token on check runs: %d", code)
	}
	c := fake.newAppClient(t, 0, nil)
	raw, _ := c.app.JWT()
	if code := do(raw); code != http.StatusUnauthorized {
		t.Fatalf("the App's JWT on a repository route: %d", code)
	}
	if len(fake.checkRuns) != 0 {
		t.Fatalf("check runs stored: %v", fake.checkRuns)
	}
}

func TestCheckRunAsApp(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	c := fake.newAppClient(t, 0, nil)
	run := CheckRun{Name: "djgrade/n-plus-one", SHA: shaOpened, Status: "in_progress"}
	id, err := c.CreateCheckRun(ctx, testRepo, run)
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.Conclusion, run.Title, run.Summary = "completed", "success", "done", "all good"
	if err := c.UpdateCheckRun(ctx, testRepo, id, run); err != nil {
		t.Fatal(err)
	}
	// The installation was looked up once, one token minted and reused.
	fake.mu.Lock()
	calls := append([]string(nil), fake.calls...)
	fake.mu.Unlock()
	want := []string{
		"GET repos/acme/takehome-ada/installation",
		"POST app/installations/777/access_tokens",
		"POST repos/acme/takehome-ada/check-runs",
		"PATCH repos/acme/takehome-ada/check-runs/101",
	}
	if !slices.Equal(calls, want) || c.TokensMinted() != 1 {
		t.Fatalf("calls %q, minted %d", calls, c.TokensMinted())
	}

	// A webhook's installation id spares the look-up.
	c2 := fake.newAppClient(t, 0, nil)
	c2.RememberInstallation("acme/other", testInstallation)
	if _, err := c2.CreateCheckRun(ctx, "acme/other", run); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	n := len(fake.calls)
	fake.mu.Unlock()
	if n != len(want)+2 {
		t.Fatalf("calls after a remembered installation: %q", fake.calls[len(want):])
	}

	// An account without the App: told so, nothing written.
	_, err = c.CreateCheckRun(ctx, "someone/else", run)
	if grader.ErrorCode(err) != grader.ENOTFOUND || !strings.Contains(grader.ErrorMessage(err), "not installed on someone") {
		t.Fatalf("not installed: %v", err)
	}
}

func TestInstallationTokenRefreshed(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	clock := &movableClock{}
	c := fake.newAppClient(t, testInstallation, clock.now)
	run := CheckRun{Name: "djgrade/n-plus-one", SHA: shaOpened, Status: "in_progress"}
	if _, err := c.CreateCheckRun(ctx, testRepo, run); err != nil {
		t.Fatal(err)
	}
	// An hour later the token has expired on both sides: djgrade mints a
	// new one before calling, and GitHub refuses nothing.
	fake.advance(time.Hour)
	clock.advance(time.Hour)
	if _, err := c.CreateCheckRun(ctx, testRepo, run); err != nil {
		t.Fatal(err)
	}
	if c.TokensMinted() != 2 || len(fake.refusalsSoFar()) != 0 {
		t.Fatalf("minted %d, refusals %q", c.TokensMinted(), fake.refusalsSoFar())
	}
	// 56 minutes on, the token has 4 left: under the margin, replaced.
	fake.advance(56 * time.Minute)
	clock.advance(56 * time.Minute)
	if _, err := c.CreateCheckRun(ctx, testRepo, run); err != nil {
		t.Fatal(err)
	}
	if c.TokensMinted() != 3 {
		t.Fatalf("minted %d", c.TokensMinted())
	}
	// GitHub drops the token early (revoked, or this machine's clock is
	// behind): the 401 replaces it and the call is sent once more.
	fake.revokeTokens()
	if _, err := c.CreateCheckRun(ctx, testRepo, run); err != nil {
		t.Fatal(err)
	}
	if c.TokensMinted() != 4 || !slices.Equal(fake.refusalsSoFar(), []string{"unknown token"}) || len(fake.checkRuns) != 4 {
		t.Fatalf("minted %d, refusals %q, check runs %d", c.TokensMinted(), fake.refusalsSoFar(), len(fake.checkRuns))
	}
}

func TestAppCredentialsRefused(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewAppClient(fake.apiURL(), AppConfig{AppID: testAppID, PrivateKey: pemOf(other), Installation: testInstallation}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	_, err = c.CreateCheckRun(ctx, testRepo, CheckRun{Name: "x", SHA: shaOpened, Status: "queued"})
	if grader.ErrorCode(err) != grader.EUNAUTHORIZED || !strings.Contains(grader.ErrorMessage(err), "refused the App's credentials") {
		t.Fatalf("wrong key: %v", err)
	}
	// Refused once: a wrong key is not retried.
	if n := len(fake.refusalsSoFar()); n != 1 {
		t.Fatalf("refusals %q", fake.refusalsSoFar())
	}

	for name, cfg := range map[string]AppConfig{
		"no id":        {PrivateKey: pemOf(other)},
		"no key":       {AppID: 1},
		"not PEM":      {AppID: 1, PrivateKey: []byte("-----BEGIN NOTHING-----\nabc\n")},
		"huge":         {AppID: 1, PrivateKey: make([]byte, 1<<20)},
		"installation": {AppID: 1, PrivateKey: pemOf(other), Installation: -3},
	} {
		if _, err := NewAppClient(fake.apiURL(), cfg, nil); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWebhookInstallationUsed: the installation a webhook names is the one
// djgrade answers as; it is not looked up.
func TestWebhookInstallationUsed(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "", "n-plus-one"))
	if code, out := h.deliverSigned("pull_request", "inst-1", "pull_request_opened.json"); code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	h.idle()
	h.fake.mu.Lock()
	calls := append([]string(nil), h.fake.calls...)
	h.fake.mu.Unlock()
	if !slices.Contains(calls, "POST app/installations/777/access_tokens") || slices.ContainsFunc(calls, func(c string) bool { return strings.HasSuffix(c, "/installation") }) {
		t.Fatalf("calls %q", calls)
	}
	if st := h.fake.snapshotStatuses(); len(st) != 1 || st[0].State != StatePending {
		t.Fatalf("statuses %+v", st)
	}
}

// TestInstallationTokenStaysOnTheAPIHost: a request of the App's client to
// another host (a download's redirect) carries no token.
func TestInstallationTokenStaysOnTheAPIHost(t *testing.T) {
	fake := newFakeGitHub(t)
	c := fake.newAppClient(t, testInstallation, nil)
	got := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Get("Authorization") }))
	defer other.Close()
	resp, err := c.gh.Client().Get(other.URL + "/api/v3/repos/acme/x/tarball/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auth := <-got; auth != "" || c.TokensMinted() != 0 {
		t.Fatalf("another host got %q (minted %d)", auth, c.TokensMinted())
	}
}

// TestReinstalledAppLookedUpAgain: an installation id GitHub no longer knows
// (the App was reinstalled) is forgotten, and the next call finds the new one.
func TestReinstalledAppLookedUpAgain(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	c := fake.newAppClient(t, 0, nil)
	c.RememberInstallation(testRepo, 555) // from an old webhook
	run := CheckRun{Name: "djgrade/n-plus-one", SHA: shaOpened, Status: "queued"}
	if _, err := c.CreateCheckRun(ctx, testRepo, run); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("stale installation: %v", err)
	}
	if _, err := c.CreateCheckRun(ctx, testRepo, run); err != nil {
		t.Fatal(err)
	}
	if got := c.InstallationOf(testRepo); got != testInstallation {
		t.Fatalf("installation now %d", got)
	}
}
