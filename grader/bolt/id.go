package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math/bits"
	"time"
)

// IDLen is the length of a submission id in characters.
const IDLen = 26

// crockford is Crockford's base32 alphabet in lowercase. Its characters are
// in ASCII order, so the text of two ids sorts exactly as their bytes do.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// maxMillis is the largest time a 48-bit millisecond field can hold.
const maxMillis = 1<<48 - 1

// maxBump bounds the random step taken past the previous id when the clock
// has not moved on (or moved back): large enough that the next id cannot be
// guessed from the previous one, small enough never to run out in practice.
const maxBump = 1 << 40

// decodeTable maps a byte to its base32 value, or 0xff if it is not in the
// lowercase alphabet. Upper case and Crockford's aliases (i, l, o) are refused
// on purpose: an id has exactly one spelling, so a lookup either hits the key
// or is not found.
var decodeTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(crockford); i++ {
		t[crockford[i]] = byte(i)
	}
	return t
}()

// id is a submission id as stored: 48 bits of Unix milliseconds then 80
// random bits, big-endian, so that key order in bbolt is creation order.
type id [16]byte

// String encodes x as 26 characters of lowercase Crockford base32. The 128
// bits fill 130 bits of text, so the first character is always 0-7.
func (x id) String() string {
	hi := binary.BigEndian.Uint64(x[:8])
	lo := binary.BigEndian.Uint64(x[8:])
	var b [IDLen]byte
	for i := IDLen - 1; i >= 0; i-- {
		b[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(b[:])
}

// parseID decodes a textual id. It reports false for anything that is not
// exactly the canonical spelling of some id; it never panics, whatever s holds.
func parseID(s string) (id, bool) {
	var x id
	if len(s) != IDLen {
		return x, false
	}
	var hi, lo uint64
	for i := 0; i < IDLen; i++ {
		v := decodeTable[s[i]]
		if v == 0xff || (i == 0 && v > 7) {
			return x, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	binary.BigEndian.PutUint64(x[:8], hi)
	binary.BigEndian.PutUint64(x[8:], lo)
	return x, true
}

// ValidID reports whether s is a well-formed submission id. Callers such as
// the API may use it to refuse a malformed id before asking the store.
func ValidID(s string) bool {
	_, ok := parseID(s)
	return ok
}

// errIDSpace is returned when no id greater than the previous one exists;
// with 48-bit milliseconds that is after the year 10889.
var errIDSpace = errors.New("submission id space exhausted")

// newID returns a fresh id for time now that is strictly greater than last
// (the greatest id stored so far, or nil). Ordinarily that is the time and 80
// fresh random bits; when the clock has not advanced past last (many ids in
// one millisecond, or a clock stepped back) it is last plus a random step, so
// that key order stays creation order without making ids guessable.
func newID(now time.Time, last []byte) (id, error) {
	var x id
	ms := now.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	if ms > maxMillis {
		ms = maxMillis
	}
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(ms))
	copy(x[:6], t[2:])
	// crypto/rand.Read never fails (it crashes the program if the kernel's
	// generator is unusable), so there is no error to handle.
	rand.Read(x[6:])
	if len(last) != len(x) || bytes.Compare(x[:], last) > 0 {
		return x, nil
	}
	var r [8]byte
	rand.Read(r[:])
	step := binary.BigEndian.Uint64(r[:])%(maxBump-1) + 1
	hi := binary.BigEndian.Uint64(last[:8])
	lo := binary.BigEndian.Uint64(last[8:])
	lo, carry := bits.Add64(lo, step, 0)
	hi, carry = bits.Add64(hi, 0, carry)
	if carry != 0 {
		return x, errIDSpace
	}
	binary.BigEndian.PutUint64(x[:8], hi)
	binary.BigEndian.PutUint64(x[8:], lo)
	return x, nil
}
