package webhook_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/webhook"
)

// IPv6 forms that carry an IPv4 address a gateway translates or tunnels
// to (NAT64, 6to4, IPv4-compatible, Teredo) are the IPv4 address as far as
// the policy goes: 64:ff9b::a9fe:a9fe reaches 169.254.169.254 through a
// NAT64 gateway, and 64:ff9b::a00:1 reaches 10.0.0.1 past DenyPrivate.
func TestWebhookPolicyIPv4InIPv6(t *testing.T) {
	deny := webhook.Policy{DenyPrivate: true, DenyLoopback: true}
	for _, c := range []struct {
		url    string
		policy webhook.Policy
	}{
		{"http://[64:ff9b::a9fe:a9fe]/", webhook.Policy{}},
		{"http://[64:ff9b::169.254.169.254]/", webhook.Policy{}},
		{"http://[2002:a9fe:a9fe::1]/", webhook.Policy{}},
		{"http://[::a9fe:a9fe]/", webhook.Policy{}},
		{"http://[2001:0:4136:e378:8000:63bf:5601:5601]/", webhook.Policy{}}, // Teredo client 169.254.169.254 (obfuscated)
		{"http://[64:ff9b::a00:1]/", deny},
		{"http://[2002:c0a8:101::1]/", deny},
		{"http://[64:ff9b::7f00:1]/", deny},
	} {
		if _, err := c.policy.CheckURL(c.url); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("CheckURL %s: %v, want EINVALID", c.url, err)
		}
		// And at the dial, where a name resolving to it ends up.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, nil)
		res, err := c.policy.Client(5 * time.Second).Do(req)
		cancel()
		if res != nil {
			res.Body.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "may not reach") {
			t.Errorf("dial %s: %v, want the policy's refusal", c.url, err)
		}
	}
	// Public IPv4 behind the same prefixes stays allowed.
	for _, a := range []string{"64:ff9b::808:808", "2002:808:808::1"} {
		if err := deny.Allowed(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}
