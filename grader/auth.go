package grader

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader/internal/text"
)

// Role is what an API token may do.
type Role string

// Roles. An admin manages tokens and may do everything an interviewer may;
// an interviewer sees every submission and result and creates assignments;
// a candidate submits to the exercises it was assigned and sees only its
// own submissions.
const (
	RoleAdmin       Role = "admin"
	RoleInterviewer Role = "interviewer"
	RoleCandidate   Role = "candidate"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleInterviewer || r == RoleCandidate
}

// Staff reports whether r sees every submission (admin or interviewer).
func (r Role) Staff() bool { return r == RoleAdmin || r == RoleInterviewer }

// TokenPrefix starts every secret djgrade issues, so that a leaked token is
// recognisable to secret scanners and to people.
const TokenPrefix = "djg_"

// MinTokenLen is the shortest secret accepted for a bootstrap token given by
// an operator (DJGRADE_ADMIN_TOKEN); issued secrets are much longer.
const MinTokenLen = 24

// Token is an API token as stored: never the secret, only its SHA-256.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// RevokedAt is set once the token is revoked; it then authenticates nothing.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the token was revoked.
func (t *Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// NewSecret returns a fresh token secret: TokenPrefix and 32 random bytes
// in unpadded URL-safe base64.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret returns the SHA-256 of a secret. A fast hash is enough: issued
// secrets carry 256 random bits, so there is nothing to brute-force.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// NewRecordID returns a random id with the prefix ("tok_", "asg_").
func NewRecordID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Assignment modes.
const (
	// ModePractice shows the candidate public-test details.
	ModePractice = "practice"
	// ModeAssessment shows category scores and names of failed checks only.
	ModeAssessment = "assessment"
)

// Assignment binds a candidate token to an exercise, a mode and an
// optional deadline.
type Assignment struct {
	ID       string `json:"id"`
	Exercise string `json:"exercise"`
	// Candidate is the candidate's name, recorded on every submission made
	// under the assignment.
	Candidate string `json:"candidate"`
	// Token is the id of the candidate's token.
	Token string `json:"token"`
	Mode  string `json:"mode"`
	// Deadline, if set, marks later submissions late (they are still graded).
	Deadline  time.Time `json:"deadline,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy is the id of the token that created it.
	CreatedBy string `json:"created_by"`
	// Live is the id of the live session the assignment was made for:
	// its submission comes from the session's submit only.
	Live string `json:"live,omitempty"`

	// Timed assessments (timed.go). TimeLimit, if set, is how long the
	// candidate has from OpenedAt, the first time they opened the
	// assignment (set once, by the store). AfterTime says what happens to
	// a submission after the end (AfterLate or AfterRefuse; empty is
	// late), Counts which attempt counts (CountsLatest or CountsBest).
	TimeLimit time.Duration `json:"time_limit,omitempty"`
	OpenedAt  time.Time     `json:"opened_at,omitzero"`
	AfterTime string        `json:"after_time,omitempty"`
	Counts    string        `json:"counts,omitempty"`
	// RevokedAt and RevokedBy (a staff token's id) are set once when
	// staff revoke it: it then refuses every submission.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
	// Extensions are the extensions given, oldest first.
	Extensions []Extension `json:"extensions,omitempty"`
}

// DeadlineExample is the example of a deadline that errors quote.
const DeadlineExample = "2026-12-31T17:00:00Z"

// ParseDeadline reads an assignment's deadline given as text: an RFC 3339
// date and time (DeadlineExample), which must be after now. Anything else is
// an EINVALID error that says, in words, what was expected.
func ParseDeadline(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "deadline %q is not a date and time in RFC 3339 format, such as %s (UTC) or 2026-12-31T18:00:00+01:00",
			text.Printable(clipDeadline(s)), DeadlineExample)
	}
	return t.UTC(), CheckDeadline(t, now)
}

// CheckDeadline refuses (EINVALID) a deadline that is not after now: an
// assignment whose every submission would be late is a mistake.
func CheckDeadline(t, now time.Time) error {
	if !t.After(now) {
		return Errorf(EINVALID, "deadline %s is in the past; give a date and time after now (%s)",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func clipDeadline(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// AuthStore keeps tokens and assignments.
type AuthStore interface {
	// CreateToken stores t (Hash set by the caller), assigning ID and
	// CreatedAt. A hash that is already stored is ECONFLICT.
	CreateToken(ctx context.Context, t *Token) error
	// TokenBySecret returns the unrevoked token whose hash is the secret's,
	// or EUNAUTHORIZED. Implementations compare hashes in constant time.
	TokenBySecret(ctx context.Context, secret string) (*Token, error)
	// Token returns the token with the id, or ENOTFOUND.
	Token(ctx context.Context, id string) (*Token, error)
	// Tokens returns every token, oldest first.
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes the token with the id (ENOTFOUND if none).
	RevokeToken(ctx context.Context, id string) (*Token, error)
	// CreateAssignment stores a, assigning ID and CreatedAt.
	CreateAssignment(ctx context.Context, a *Assignment) error
	// Assignment returns the assignment with the id, or ENOTFOUND.
	Assignment(ctx context.Context, id string) (*Assignment, error)
	// Assignments returns assignments, newest first; token, if not empty,
	// keeps only those of that candidate token.
	Assignments(ctx context.Context, token string) ([]*Assignment, error)

	// Timed assessments (timed.go). OpenAssignment sets OpenedAt to at if
	// it is not set yet, atomically (the first open wins), and returns the
	// assignment as stored. RevokeAssignment revokes it (Assignment.Revoke)
	// and ExtendAssignment records an extension (Assignment.Extend, whose
	// error stores nothing). Each is ENOTFOUND for an unknown id.
	OpenAssignment(ctx context.Context, id string, at time.Time) (*Assignment, error)
	RevokeAssignment(ctx context.Context, id, by string, at time.Time) (*Assignment, error)
	ExtendAssignment(ctx context.Context, id string, e Extension) (*Assignment, error)
}

// CleanTokenName trims and checks a token's or assignment's free-text name.
func CleanTokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	return CleanCandidate(name)
}
