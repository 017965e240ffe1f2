package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
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
	// The GitHub App: its id, its private key (a PEM file, or the PEM
	// itself from DJGRADE_GITHUB_APP_KEY, never a flag: flags show in ps)
	// and, optionally, the one installation to use.
	AppID           int64
	AppKeyFile      string
	AppKey          string
	AppInstallation int64
}

// envAppKey is the environment variable that may hold the App's PEM.
const envAppKey = "DJGRADE_GITHUB_APP_KEY"

// addGitHubFlags adds the GitHub flags to fs (each also DJGRADE_<FLAG>).
func addGitHubFlags(fs *pflag.FlagSet, cfg *githubConfig) {
	fs.StringVar(&cfg.APIURL, "github-api-url", githubhook.DefaultAPIURL, "GitHub REST API base `URL` (GitHub Enterprise: https://HOST/api/v3/)")
	addGitHubAuthFlags(fs, cfg)
	fs.StringVar(&cfg.WebhookSecret, "github-webhook-secret", "", "`SECRET` of the GitHub webhook; POST /webhooks/github is refused until it is set (prefer DJGRADE_GITHUB_WEBHOOK_SECRET)")
	fs.StringVar(&cfg.LinkURL, "github-link-url", "", "base `URL` of this server for links from GitHub to results (default http://ADDR)")
}

// addGitHubAuthFlags adds the credentials' flags: a GitHub App or a token.
func addGitHubAuthFlags(fs *pflag.FlagSet, cfg *githubConfig) {
	fs.StringVar(&cfg.Token, "github-token", "", "GitHub personal `TOKEN` that reads repositories and writes statuses and comments (check runs need a GitHub App); prefer DJGRADE_GITHUB_TOKEN: flags show in ps")
	fs.Int64Var(&cfg.AppID, "github-app-id", 0, "the GitHub App's `ID`, to authenticate as the App (check runs); with --github-app-key-file or "+envAppKey)
	fs.StringVar(&cfg.AppKeyFile, "github-app-key-file", "", "`FILE` of the GitHub App's private key (the .pem GitHub generates); or put the PEM itself in "+envAppKey)
	fs.Int64Var(&cfg.AppInstallation, "github-app-installation", 0, "the App installation `ID` to use when a call's repository owner is not known from a webhook (default: looked up per owner)")
}

// readAppKey returns the App's private key from its file or cfg.AppKey.
func readAppKey(cfg githubConfig) ([]byte, error) {
	switch {
	case cfg.AppKeyFile != "" && cfg.AppKey != "":
		return nil, grader.Errorf(grader.EINVALID, "the GitHub App's key is given twice: set --github-app-key-file or %s, not both", envAppKey)
	case cfg.AppKey != "":
		return []byte(cfg.AppKey), nil
	case cfg.AppKeyFile == "":
		return nil, grader.Errorf(grader.EINVALID, "--github-app-id needs the App's private key: --github-app-key-file FILE or %s", envAppKey)
	}
	f, err := os.Open(cfg.AppKeyFile)
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "cannot read --github-app-key-file %s", cfg.AppKeyFile)
	}
	defer f.Close()
	// A key is a few KiB: reading more would only be a mistake (a wrong
	// path to a big file).
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "cannot read --github-app-key-file %s", cfg.AppKeyFile)
	}
	return data, nil
}

// githubCredentials reports whether cfg names any GitHub credentials.
func githubCredentials(cfg githubConfig) bool {
	return cfg.Token != "" || cfg.AppID != 0 || cfg.AppKeyFile != "" || cfg.AppKey != "" || cfg.AppInstallation != 0
}

// githubClient checks the API URL and the credentials (a GitHub App, or a
// personal token) and returns a client for them.
func githubClient(cfg githubConfig, logger *slog.Logger) (*githubhook.Client, error) {
	app := cfg.AppID != 0 || cfg.AppKeyFile != "" || cfg.AppKey != "" || cfg.AppInstallation != 0
	switch {
	case app && cfg.Token != "":
		return nil, grader.Errorf(grader.EINVALID, "set a GitHub App (--github-app-id) or a token (--github-token), not both")
	case app:
		if cfg.AppID == 0 {
			return nil, grader.Errorf(grader.EINVALID, "the GitHub App's id is missing: set --github-app-id (DJGRADE_GITHUB_APP_ID)")
		}
		key, err := readAppKey(cfg)
		if err != nil {
			return nil, err
		}
		return githubhook.NewAppClient(cfg.APIURL, githubhook.AppConfig{AppID: cfg.AppID, PrivateKey: key, Installation: cfg.AppInstallation}, logger)
	case cfg.Token == "":
		return nil, grader.Errorf(grader.EINVALID, "GitHub credentials are required: a GitHub App (--github-app-id with --github-app-key-file or %s) or a token (--github-token or DJGRADE_GITHUB_TOKEN)", envAppKey)
	}
	return githubhook.NewClient(cfg.APIURL, cfg.Token, logger)
}

// takeHomesFor is the take-home route's service: nil (the route answers
// 503) without GitHub credentials.
func takeHomesFor(client *githubhook.Client, store *bolt.Store) api.TakeHomes {
	if client == nil {
		return nil
	}
	return githubhook.NewTakeHomes(client, store)
}

// serveGitHubClient is the client `djgrade serve` uses: nil when no
// credentials are configured.
func serveGitHubClient(cfg githubConfig, logger *slog.Logger) (*githubhook.Client, error) {
	if !githubCredentials(cfg) {
		return nil, nil
	}
	return githubClient(cfg, logger)
}

// wireGitHub mounts POST /webhooks/github on the API and, when a webhook
// secret is set, makes the service's GitHub submissions answer on GitHub.
// Without a secret the route answers 503 saying what to set. Background work
// ends with ctx.
func wireGitHub(ctx context.Context, cfg githubConfig, client *githubhook.Client, addr string, httpAPI *api.Server, svc *grader.Service, store *bolt.Store, catalog grader.Catalog, logger *slog.Logger) error {
	hc := githubhook.Config{Secret: cfg.WebhookSecret, Store: store, Grader: svc, Catalog: catalog, Logger: logger}
	if cfg.WebhookSecret != "" {
		if len(cfg.WebhookSecret) < 16 {
			// GitHub accepts any secret; a short one can be guessed offline
			// from a single signed delivery.
			return grader.Errorf(grader.EINVALID, "the GitHub webhook secret must be at least 16 characters")
		}
		if client == nil {
			_, err := githubClient(cfg, logger)
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
