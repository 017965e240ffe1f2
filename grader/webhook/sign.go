package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// The headers of every delivery.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>", the
	// HMAC keyed with the endpoint's secret over the timestamp, a dot and
	// the raw body (see Sign), as Stripe's Stripe-Signature does.
	HeaderSignature = "Djgrade-Signature"
	// HeaderEventID is the event's id: the same on every delivery and
	// redelivery of an event, for receivers to drop repeats.
	HeaderEventID = "Djgrade-Event-Id"
	// HeaderEventType is the event's type (grader.Outbound*, or EventPing).
	HeaderEventType = "Djgrade-Event"
	// HeaderDelivery is the delivery's id (a redelivery has its own).
	HeaderDelivery = "Djgrade-Delivery"
)

// DefaultTolerance is how old a signature's timestamp Verify accepts by
// default: an attacker replaying a captured delivery later is refused.
const DefaultTolerance = 5 * time.Minute

// Signature returns the hex HMAC-SHA256, keyed with secret, of the
// timestamp in decimal Unix seconds, a ".", and body.
func Signature(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Sign returns the HeaderSignature value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + Signature(secret, ts, body)
}

// Verify checks a HeaderSignature value against the raw body as received,
// as a receiver written in Go would: the timestamp must be within tolerance
// of now (either way) and one v1 signature must match, compared in constant
// time. Several v1 entries are allowed (one per secret while a secret is
// rotated). The error, EINVALID or EUNAUTHORIZED, says what is wrong.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts int64
	var haveTS bool
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return grader.Errorf(grader.EINVALID, "the signature's timestamp is not a number")
			}
			ts, haveTS = n, true
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if !haveTS || len(sigs) == 0 {
		return grader.Errorf(grader.EINVALID, "the signature header needs t=<unix seconds> and v1=<hex>")
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(ts, 0)); d > tolerance || -d > tolerance {
			return grader.Errorf(grader.EUNAUTHORIZED, "the signature's timestamp is %s away from now, beyond %s", d.Round(time.Second), tolerance)
		}
	}
	want := []byte(Signature(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return grader.Errorf(grader.EUNAUTHORIZED, "no signature matches the body")
}
