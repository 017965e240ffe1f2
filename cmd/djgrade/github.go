package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/githubhook"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// githubConfig is the GitHub integration's part of `djgrade serve`.
type githubConfig struct {
	APIURL        string
	Token         string
	WebhookSecret string
	// LinkURL is this server's address as people on GitHub reach it; links
	// from statuses and comments to results start with it.
	LinkURL string
}

// addGitHubFlags adds the GitHub flags to fs (each also DJGRADE_<FLAG>).
func addGitHubFlags(fs *pflag.FlagSet, cfg *githubConfig) {
	fs.StringVar(&cfg.APIURL, "github-api-url", githubhook.DefaultAPIURL, "GitHub REST API base `URL` (GitHub Enterprise: https://HOST/api/v3/)")
	fs.StringVar(&cfg.Token, "github-token", "", "GitHub `TOKEN` that reads repositories and writes statuses, checks and comments (prefer DJGRADE_GITHUB_TOKEN: flags show in ps)")
	fs.StringVar(&cfg.WebhookSecret, "github-webhook-secret", "", "`SECRET` of the GitHub webhook; POST /webhooks/github is refused until it is set (prefer DJGRADE_GITHUB_WEBHOOK_SECRET)")
	fs.StringVar(&cfg.LinkURL, "github-link-url", "", "base `URL` of this server for links from GitHub to results (default http://ADDR)")
}

// githubClient checks the API URL and token and returns a client for them.
func githubClient(apiURL, token string, logger *slog.Logger) (*githubhook.Client, error) {
	if token == "" {
		return nil, grader.Errorf(grader.EINVALID, "a GitHub token is required: set --github-token or DJGRADE_GITHUB_TOKEN")
	}
	return githubhook.NewClient(apiURL, token, logger)
}

// wireGitHub mounts POST /webhooks/github on the API and, when a webhook
// secret is set, makes the service's GitHub submissions answer on GitHub.
// Without a secret the route answers 503 saying what to set. Background work
// ends with ctx.
func wireGitHub(ctx context.Context, cfg githubConfig, addr string, httpAPI *api.Server, svc *grader.Service, store *bolt.Store, catalog grader.Catalog, logger *slog.Logger) error {
	hc := githubhook.Config{Secret: cfg.WebhookSecret, Store: store, Grader: svc, Catalog: catalog, Logger: logger}
	if cfg.WebhookSecret != "" {
		if len(cfg.WebhookSecret) < 16 {
			// GitHub accepts any secret; a short one can be guessed offline
			// from a single signed delivery.
			return grader.Errorf(grader.EINVALID, "the GitHub webhook secret must be at least 16 characters")
		}
		client, err := githubClient(cfg.APIURL, cfg.Token, logger)
		if err != nil {
			return err
		}
		hc.Client = client
		base := strings.TrimSuffix(cfg.LinkURL, "/")
		if base == "" {
			base = "http://" + addr
		} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return grader.Errorf(grader.EINVALID, "--github-link-url %q is not an http(s) URL", cfg.LinkURL)
		}
		hc.ResultURL = func(id string) string { return base + "/api/v1/submissions/" + url.PathEscape(id) }
	}
	githubhook.New(ctx, hc).Register(httpAPI.Echo())
	return nil
}
