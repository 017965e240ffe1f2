package api

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// The rest of Grader for the in-memory fake of api_test.go.

func (g *fakeGrader) Create(ctx context.Context, req grader.SubmitRequest) (*grader.Submission, error) {
	sub, err := g.Submit(ctx, req.Exercise, req.Candidate, req.Files)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	stored := g.subs[sub.ID]
	stored.Owner, stored.Assignment, stored.Late = req.Owner, req.Assignment, req.Late
	cp := *stored
	return &cp, nil
}

func (g *fakeGrader) ListSubmissions(ctx context.Context, f grader.SubmissionFilter) ([]*grader.Submission, error) {
	return nil, grader.Errorf(grader.ENOTIMPL, "not in the fake")
}

func (g *fakeGrader) SubmissionFiles(ctx context.Context, id string) ([]grader.File, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.files[id], nil
}

func (g *fakeGrader) Cancel(ctx context.Context, id string) (*grader.Submission, error) {
	return nil, grader.Errorf(grader.ENOTIMPL, "not in the fake")
}

func (g *fakeGrader) Regrade(ctx context.Context, id string) (*grader.Submission, error) {
	return nil, grader.Errorf(grader.ENOTIMPL, "not in the fake")
}

// Subscribe gives a channel on which the fake never sends.
func (g *fakeGrader) Subscribe(string) (<-chan grader.Event, func()) {
	return make(chan grader.Event), func() {}
}

// newAuthStore opens a bbolt store in a temporary folder holding one token
// of the role, and returns it with the token's secret.
func newAuthStore(t *testing.T, role grader.Role) (*bolt.Store, string) {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, addToken(t, store, role, string(role))
}

// addToken stores a new token and returns its secret.
func addToken(t *testing.T, store grader.AuthStore, role grader.Role, name string) string {
	t.Helper()
	secret := grader.NewSecret()
	if err := store.CreateToken(context.Background(), &grader.Token{Name: name, Role: role, Hash: grader.HashSecret(secret)}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// withBearer adds the token to requests that carry no Authorization.
func withBearer(h http.Handler, secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+secret)
		}
		h.ServeHTTP(w, r)
	})
}
