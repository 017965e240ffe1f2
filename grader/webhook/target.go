package webhook

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/internal/text"
)

// Policy decides which addresses a delivery may reach. It is checked twice:
// when an endpoint is registered (a URL whose host is an address) and on
// every connection, against the address actually dialled, so that a name
// that resolves (or is re-pointed) to a refused address is refused too.
//
// Whatever the policy, these are always refused: unspecified addresses
// (0.0.0.0, ::), link-local ones (169.254.0.0/16, fe80::/10, where cloud
// metadata services answer, 169.254.169.254 among them), the other known
// metadata addresses (fd00:ec2::254, 100.100.100.200), multicast and
// broadcast. Loopback and private addresses are allowed by default: tests,
// and the hiring-tool bridges that run beside djgrade, listen there.
type Policy struct {
	// DenyLoopback refuses 127.0.0.0/8 and ::1.
	DenyLoopback bool
	// DenyPrivate refuses private addresses (10/8, 172.16/12, 192.168/16,
	// fc00::/7) and carrier-grade NAT (100.64/10).
	DenyPrivate bool
}

var (
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	teredo        = netip.MustParsePrefix("2001::/32")
	ipv4Compat    = netip.MustParsePrefix("::/96")
	metadataAddrs = []netip.Addr{netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
	cgnat         = netip.MustParsePrefix("100.64.0.0/10")
	broadcast     = netip.MustParseAddr("255.255.255.255")
)

// Allowed returns nil if the policy lets a delivery reach addr, else an
// EINVALID error that names the kind of address.
func (p Policy) Allowed(addr netip.Addr) error {
	addr = addr.Unmap()
	if v4, how, ok := embeddedIPv4(addr); ok {
		// The IPv4 address a gateway or tunnel delivers to is the target.
		if err := p.Allowed(v4); err != nil {
			return grader.Errorf(grader.EINVALID, "webhook target %s is %s of %s: %s", addr, how, v4, grader.ErrorMessage(err))
		}
	}
	refuse := func(kind string) error {
		return grader.Errorf(grader.EINVALID, "webhook target %s is a %s address, which deliveries may not reach", addr, kind)
	}
	switch {
	case !addr.IsValid() || addr.IsUnspecified():
		return refuse("unspecified")
	case addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast():
		return refuse("link-local (cloud metadata)")
	case addr.IsMulticast() || addr.IsInterfaceLocalMulticast() || addr == broadcast:
		return refuse("multicast or broadcast")
	case addr.IsLoopback() && p.DenyLoopback:
		return refuse("loopback")
	case (addr.IsPrivate() || cgnat.Contains(addr)) && p.DenyPrivate:
		return refuse("private")
	}
	for _, m := range metadataAddrs {
		if addr == m {
			return refuse("cloud metadata")
		}
	}
	return nil
}

// CheckURL refuses (EINVALID) a URL that deliveries may not use: longer
// than MaxURLLen, not absolute http or https, with a user or password in it
// (secrets belong in the signature, not in a URL that logs show), or whose
// host is an address the policy refuses. A host name is checked when it is
// dialled.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, grader.Errorf(grader.EINVALID, "url is required")
	}
	if len(raw) > MaxURLLen {
		return nil, grader.Errorf(grader.EINVALID, "url is longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, grader.Errorf(grader.EINVALID, "url %q is not a URL", text.Printable(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, grader.Errorf(grader.EINVALID, "url must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, grader.Errorf(grader.EINVALID, "url has no host")
	}
	if u.User != nil {
		return nil, grader.Errorf(grader.EINVALID, "url may not hold a user name or password")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, grader.Errorf(grader.EINVALID, "url may not hold spaces")
	}
	if addr, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := p.Allowed(addr); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// control is the dialer's check of the address about to be connected to.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return grader.Errorf(grader.EINVALID, "webhook target %q is not an address", address)
	}
	return p.Allowed(ap.Addr())
}

// Client returns the HTTP client deliveries go through: every connection
// checked against the policy, no proxy from the environment (the policy
// would check the proxy instead of the target), no redirect followed (a
// 3xx is a failed attempt: a receiver that moved is re-registered), and
// timeout bounding each attempt.
func (p Policy) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: p.control}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for on its
// way there, with the name of the form: NAT64 (64:ff9b::/96, RFC 6052; and
// the local-use 64:ff9b:1::/48 of RFC 8215, read as a /96), 6to4
// (2002::/16), Teredo's client (2001::/32, obfuscated) and the deprecated
// IPv4-compatible ::/96 (:: and ::1 excepted, checked as themselves).
func embeddedIPv4(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	switch {
	case nat64.Contains(a) || nat64Local.Contains(a):
		return last, "the NAT64 form", true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), "the 6to4 form", true
	case teredo.Contains(a):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), "the Teredo form", true
	case ipv4Compat.Contains(a) && !a.IsUnspecified() && !a.IsLoopback():
		return last, "the IPv4-compatible form", true
	}
	return netip.Addr{}, "", false
}
