package githubhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// routeServer is djgrade's API, running on a real bbolt file, with the
// take-home route prepared as the GitHub App of the fake.
type routeServer struct {
	url   string
	store *bolt.Store
	fake  *fakeGitHub
	// secrets by role
	secrets map[grader.Role]string
}

func newRouteServer(t *testing.T, takeHomes bool) *routeServer {
	t.Helper()
	fake := newFakeGitHub(t)
	// The App is installed on the organisation acme only.
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	catalog, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	svc := grader.NewService(grader.Config{Store: store, Auth: store, Catalog: catalog, Concurrency: 1})
	cfg := api.Config{Grader: svc, Catalog: catalog, Auth: store}
	if takeHomes {
		cfg.TakeHomes = NewTakeHomes(fake.newAppClient(t, 0, nil), store)
	}
	srv := api.New(cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	rs := &routeServer{url: hs.URL, store: store, fake: fake, secrets: map[grader.Role]string{}}
	for _, role := range []grader.Role{grader.RoleAdmin, grader.RoleInterviewer, grader.RoleCandidate} {
		secret := grader.NewSecret()
		if err := store.CreateToken(context.Background(), &grader.Token{Name: string(role), Role: role, Hash: grader.HashSecret(secret)}); err != nil {
			t.Fatal(err)
		}
		rs.secrets[role] = secret
	}
	return rs
}

func (rs *routeServer) post(t *testing.T, role grader.Role, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rs.url+"/api/v1/takehomes", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+rs.secrets[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%d: not JSON: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, out, resp.Header
}

func (rs *routeServer) assignments(t *testing.T) []*grader.Assignment {
	t.Helper()
	list, err := rs.store.Assignments(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestTakeHomeRoute(t *testing.T) {
	rs := newRouteServer(t, true)
	deadline := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	code, out, hdr := rs.post(t, grader.RoleInterviewer, `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/takehome-ada","candidate":"Ada Lovelace","deadline":"`+deadline+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("%d %v", code, out)
	}
	asg, _ := out["assignment"].(map[string]any)
	if out["repo"] != "acme/takehome-ada" || out["url"] != "https://github.com/acme/takehome-ada" || out["invited"] != "ada-l" ||
		asg["exercise"] != "n-plus-one" || asg["candidate"] != "Ada Lovelace" || asg["mode"] != grader.ModeAssessment || asg["deadline"] != deadline ||
		hdr.Get("Location") != "/api/v1/assignments/"+asg["id"].(string) {
		t.Fatalf("answer %v, Location %q", out, hdr.Get("Location"))
	}
	// Made on GitHub as the App's installation: in the organisation,
	// private, the starter committed, the candidate invited.
	f := rs.fake
	f.mu.Lock()
	repoBody, org, invite := f.repos["acme/takehome-ada"], f.repoOrg["acme/takehome-ada"], f.invites["acme/takehome-ada ada-l"]
	head := f.refs["acme/takehome-ada refs/heads/main"]
	calls := append([]string(nil), f.calls...)
	f.mu.Unlock()
	if org != "acme" || repoBody["private"] != true || invite != "push" || !strings.HasPrefix(head, "c0mm") {
		t.Fatalf("on GitHub: repo %v under %q, invite %q, head %q", repoBody, org, invite, head)
	}
	for _, c := range calls {
		if c == "GET user" {
			t.Fatalf("an installation token has no user: %q", calls)
		}
	}
	// Registered: the webhook grades the repository's pushes under it.
	got, err := rs.store.RepoAssignment(context.Background(), "ACME/takehome-ada")
	if err != nil || got.ID != asg["id"] || got.CreatedBy == "" {
		t.Fatalf("bound assignment %+v %v", got, err)
	}

	// The same repository again: 409 before GitHub is called.
	f.mu.Lock()
	n := len(f.calls)
	f.mu.Unlock()
	code, out, _ = rs.post(t, grader.RoleInterviewer, `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/takehome-ada"}`)
	if code != http.StatusConflict || errorCode(out) != "conflict" || len(f.calls) != n {
		t.Fatalf("again: %d %v", code, out)
	}
}

func TestTakeHomeRouteRefusals(t *testing.T) {
	rs := newRouteServer(t, true)
	for _, c := range []struct {
		name, body string
		role       grader.Role
		status     int
		says       string
	}{
		{"candidate", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/x"}`, grader.RoleCandidate, 403, ""},
		{"unknown exercise", `{"exercise":"nope","github_login":"ada-l","repo":"acme/x"}`, grader.RoleInterviewer, 400, "unknown exercise"},
		{"no login", `{"exercise":"n-plus-one","repo":"acme/x"}`, grader.RoleInterviewer, 400, "github_login is required"},
		{"bad login", `{"exercise":"n-plus-one","github_login":"ada l","repo":"acme/x"}`, grader.RoleInterviewer, 400, "not a GitHub login"},
		{"no repo", `{"exercise":"n-plus-one","github_login":"ada-l"}`, grader.RoleInterviewer, 400, "repo is required"},
		{"bad repo", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/a b"}`, grader.RoleInterviewer, 400, "not a repository name"},
		{"no owner", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"takehome"}`, grader.RoleInterviewer, 400, "owner/name"},
		{"past deadline", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/x","deadline":"2001-01-01T00:00:00Z"}`, grader.RoleInterviewer, 400, "deadline"},
		{"bad deadline", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/x","deadline":"friday"}`, grader.RoleInterviewer, 400, "RFC 3339"},
		{"unknown field", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/x","private":false}`, grader.RoleInterviewer, 400, ""},
		// The App is not installed on someone-else: said so, as 400.
		{"not installed", `{"exercise":"n-plus-one","github_login":"ada-l","repo":"someone-else/x"}`, grader.RoleInterviewer, 400, "not installed on the organisation someone-else"},
	} {
		code, out, _ := rs.post(t, c.role, c.body)
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != c.status || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %d %q", c.name, code, msg)
		}
	}
	if a := rs.assignments(t); len(a) != 0 {
		t.Fatalf("a refused request stored %+v", a)
	}
	rs.fake.mu.Lock()
	defer rs.fake.mu.Unlock()
	if len(rs.fake.repos) != 0 {
		t.Fatalf("a refused request made %v", rs.fake.repos)
	}
}

func TestTakeHomeRouteNotConfigured(t *testing.T) {
	rs := newRouteServer(t, false)
	code, out, _ := rs.post(t, grader.RoleInterviewer, `{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/x"}`)
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "--github-app-id") {
		t.Fatalf("%d %v", code, out)
	}
}
