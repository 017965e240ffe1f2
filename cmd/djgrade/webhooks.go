package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/webhook"
)

// webhookConfig is the outbound webhooks' part of `djgrade serve`.
type webhookConfig struct {
	// LinkURL is this server's address as hiring tools' users reach it;
	// the links in events start with it.
	LinkURL      string
	DenyPrivate  bool
	DenyLoopback bool
}

// addWebhookFlags adds the outbound webhook flags to fs (each also
// DJGRADE_<FLAG>).
func addWebhookFlags(fs *pflag.FlagSet, cfg *webhookConfig) {
	fs.StringVar(&cfg.LinkURL, "webhook-link-url", "", "base `URL` of this server for the links in outbound webhook events (default http://ADDR)")
	fs.BoolVar(&cfg.DenyPrivate, "webhook-deny-private", false, "refuse outbound webhooks to private addresses (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10); link-local and metadata addresses are always refused")
	fs.BoolVar(&cfg.DenyLoopback, "webhook-deny-loopback", false, "refuse outbound webhooks to loopback addresses (allowed by default, for hiring-tool bridges beside djgrade)")
}

// webhookLinkBase is the base of the links in events: --webhook-link-url,
// else http://ADDR.
func webhookLinkBase(cfg webhookConfig, addr string) (string, error) {
	base := strings.TrimSuffix(cfg.LinkURL, "/")
	if base == "" {
		return "http://" + addr, nil
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", grader.Errorf(grader.EINVALID, "--webhook-link-url %q is not an http(s) URL", cfg.LinkURL)
	}
	return base, nil
}

// newOutbox makes the outbound webhooks' outbox over the store and points
// the service's events at it, with links based on addr unless the
// configuration names a base URL. Its dispatcher is started by the caller.
func newOutbox(cfg webhookConfig, addr string, svc *grader.Service, store *bolt.Store, logger *slog.Logger) (*webhook.Outbox, error) {
	base, err := webhookLinkBase(cfg, addr)
	if err != nil {
		return nil, err
	}
	outbox := webhook.New(webhook.Config{
		Store:  store,
		Policy: webhook.Policy{DenyPrivate: cfg.DenyPrivate, DenyLoopback: cfg.DenyLoopback},
		Logger: logger,
	})
	svc.Outbox, svc.OutboundLinkURL = outbox, base
	return outbox, nil
}

// runOutbox runs the dispatcher until ctx ends and closes done.
func runOutbox(ctx context.Context, outbox *webhook.Outbox, done chan<- struct{}, logger *slog.Logger) {
	defer close(done)
	if err := outbox.Run(ctx); err != nil {
		logger.Error("webhook dispatcher stopped", "err", err)
	}
}
