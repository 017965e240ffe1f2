package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeGitHubConfig starts the real server: the webhook route refuses
// until a secret is set, and a secret without a token does not start.
func TestServeGitHubConfig(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+srv.addr+"/webhooks/github", "application/json", strings.NewReader(`{"zen":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "DJGRADE_GITHUB_WEBHOOK_SECRET") {
		t.Fatalf("no secret: %d %s", resp.StatusCode, body)
	}

	_, err = startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1,
		GitHub: githubConfig{WebhookSecret: "a-long-enough-webhook-secret"}}, io.Discard)
	if err == nil || !strings.Contains(describe(err), "DJGRADE_GITHUB_TOKEN") {
		t.Fatalf("secret without token: %v", err)
	}
	_, err = startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1,
		GitHub: githubConfig{WebhookSecret: "short", Token: "t"}}, io.Discard)
	if err == nil || !strings.Contains(describe(err), "16 characters") {
		t.Fatalf("short secret: %v", err)
	}
}

func TestGitHubFlagsFromEnv(t *testing.T) {
	t.Setenv("DJGRADE_GITHUB_API_URL", "https://ghe.example.com/api/v3/")
	t.Setenv("DJGRADE_GITHUB_TOKEN", "ghp_env")
	t.Setenv("DJGRADE_GITHUB_WEBHOOK_SECRET", "from-the-environment")
	var cfg githubConfig
	fs := newFlagSet("serve", io.Discard)
	addGitHubFlags(fs, &cfg)
	if err := parse(fs, []string{"--github-token", "ghp_flag"}); err != nil {
		t.Fatal(err)
	}
	want := githubConfig{APIURL: "https://ghe.example.com/api/v3/", Token: "ghp_flag", WebhookSecret: "from-the-environment"}
	if cfg != want {
		t.Fatalf("%+v, want %+v", cfg, want)
	}
}

func TestTakeHomeUsage(t *testing.T) {
	t.Setenv("DJGRADE_GITHUB_TOKEN", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"takehome"}, "usage"},
		{[]string{"takehome", "create", "--exercise", "n-plus-one"}, "usage"},
		{[]string{"takehome", "create", "--exercise", "nope", "--candidate-login", "a", "--repo", "o/r"}, `unknown exercise "nope" (known: `},
		{[]string{"takehome", "create", "--exercise", "n-plus-one", "--candidate-login", "a", "--repo", "o/r", "--deadline", "friday"}, "RFC 3339"},
		{[]string{"takehome", "create", "--exercise", "n-plus-one", "--candidate-login", "a", "--repo", "o/r", "--data", t.TempDir()}, "DJGRADE_GITHUB_TOKEN"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), c.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), "usage: djgrade takehome") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2, %q and the usage line", c.args, code, stderr.String(), c.want)
		}
	}
}

func TestGitHubAppFlags(t *testing.T) {
	t.Setenv("DJGRADE_GITHUB_APP_ID", "4242")
	t.Setenv("DJGRADE_GITHUB_APP_INSTALLATION", "777")
	var cfg githubConfig
	fs := newFlagSet("serve", io.Discard)
	addGitHubFlags(fs, &cfg)
	if err := parse(fs, []string{"--github-app-key-file", "/etc/djgrade/app.pem"}); err != nil {
		t.Fatal(err)
	}
	if cfg.AppID != 4242 || cfg.AppInstallation != 777 || cfg.AppKeyFile != "/etc/djgrade/app.pem" || cfg.Token != "" {
		t.Fatalf("%+v", cfg)
	}
}

func TestGitHubClientChoice(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	file := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(file, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []githubConfig{
		{AppID: 4242, AppKeyFile: file},
		{AppID: 4242, AppKey: string(pemKey), AppInstallation: 777},
	} {
		c, err := githubClient(cfg, nil)
		if err != nil || !c.IsApp() {
			t.Fatalf("%+v: %v", cfg, err)
		}
	}
	if c, err := githubClient(githubConfig{Token: "ghp_x"}, nil); err != nil || c.IsApp() {
		t.Fatalf("token: %v", err)
	}
	for _, c := range []struct {
		cfg  githubConfig
		want string
	}{
		{githubConfig{}, "DJGRADE_GITHUB_APP_KEY"},
		{githubConfig{AppID: 4242}, "--github-app-key-file"},
		{githubConfig{AppKeyFile: file}, "--github-app-id"},
		{githubConfig{AppID: 4242, AppKeyFile: file, AppKey: string(pemKey)}, "not both"},
		{githubConfig{AppID: 4242, AppKeyFile: file, Token: "ghp_x"}, "not both"},
		{githubConfig{AppID: 4242, AppKeyFile: filepath.Join(t.TempDir(), "missing.pem")}, "cannot read"},
		{githubConfig{AppID: 4242, AppKey: "not a key"}, "not an RSA private key"},
		{githubConfig{AppID: -1, AppKeyFile: file}, "positive"},
	} {
		if _, err := githubClient(c.cfg, nil); err == nil || !strings.Contains(describe(err), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	// No credentials at all: serve runs without GitHub.
	if c, err := serveGitHubClient(githubConfig{APIURL: "https://api.github.com/"}, nil); c != nil || err != nil {
		t.Fatalf("none: %v %v", c, err)
	}
}
