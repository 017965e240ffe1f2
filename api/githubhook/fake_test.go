package githubhook

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// fakeGitHub is an httptest server speaking the REST routes djgrade uses,
// under a non-empty base path as GitHub Enterprise does (/api/v3/). It
// checks the token on every API call and records what it was sent.
type fakeGitHub struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	calls     []string // "METHOD path" of every API call, in order
	statuses  []fakeStatus
	checkRuns map[int64]map[string]any
	checkLog  []string // "create <id> <status>" / "update <id> <status> <conclusion>"
	comments  map[int64]*fakeComment
	nextID    int64
	tarballs  map[string][]byte // "owner/repo@sha" -> tar.gz
	pulls     map[string]int    // "owner/repo:owner:branch" -> open pull request
	// failNext answers the next n status calls with 502 (retry tests).
	failNext int
	// failChecks answers every check run call 502 while set (GitHub down).
	failChecks bool
	// checkCalls counts the check run calls answered, failed ones too.
	checkCalls int

	// The GitHub App (see app_test.go): its id, its public key's pair,
	// the installations (id -> owner account, lower case), the tokens
	// issued (token -> installation and expiry) and the fake's clock
	// offset, which tests move forward to expire tokens.
	appID         int64
	appKey        *rsa.PrivateKey
	installations map[int64]string
	instTokens    map[string]fakeInstToken
	minted        int
	skew          time.Duration
	// refusals records why credentials were refused, in order.
	refusals []string

	// take-home
	user      string
	repos     map[string]map[string]any // "owner/name" -> create body
	repoOrg   map[string]string         // "owner/name" -> org path used ("" for user)
	trees     map[string][]map[string]any
	commits   map[string]map[string]any
	refs      map[string]string // "owner/name refs/heads/x" -> sha
	invites   map[string]string // "owner/name login" -> permission
	downloads int
}

type fakeStatus struct {
	Repo, SHA                              string
	State, Context, Description, TargetURL string
}

type fakeComment struct {
	ID    int64
	Repo  string
	PR    int
	Body  string
	Edits int
}

// apiBase is the path prefix of the fake's REST API.
const apiBase = "/api/v3/"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{
		t: t, token: "ghp_test_token_0123456789",
		appID: testAppID, appKey: testAppKey(t), installations: map[int64]string{testInstallation: "acme"}, instTokens: map[string]fakeInstToken{},
		checkRuns: map[int64]map[string]any{}, comments: map[int64]*fakeComment{}, nextID: 100,
		tarballs: map[string][]byte{}, pulls: map[string]int{}, user: "interviewer-bob",
		repos: map[string]map[string]any{}, repoOrg: map[string]string{}, trees: map[string][]map[string]any{},
		commits: map[string]map[string]any{}, refs: map[string]string{}, invites: map[string]string{},
	}
	mux := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, repo string)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+apiBase+path, func(w http.ResponseWriter, r *http.Request) {
			p := strings.TrimPrefix(r.URL.Path, apiBase)
			owner := r.PathValue("owner")
			if owner == "" {
				owner = r.PathValue("org")
			}
			if status, msg := f.authorize(r, p, owner); status != 0 {
				writeJSON(w, status, map[string]any{"message": msg})
				return
			}
			f.mu.Lock()
			f.calls = append(f.calls, r.Method+" "+p)
			f.mu.Unlock()
			repo := r.PathValue("owner") + "/" + r.PathValue("repo")
			h(w, r, repo)
		})
	}
	api("GET repos/{owner}/{repo}/tarball/{sha}", func(w http.ResponseWriter, r *http.Request, repo string) {
		sha := r.PathValue("sha")
		f.mu.Lock()
		_, ok := f.tarballs[repo+"@"+sha]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		// GitHub redirects to a short-lived, pre-signed codeload URL.
		w.Header().Set("Location", f.srv.URL+"/codeload/"+repo+"/legacy.tar.gz/"+sha+"?token=signed-"+sha)
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /codeload/{owner}/{repo}/legacy.tar.gz/{sha}", func(w http.ResponseWriter, r *http.Request) {
		sha := r.PathValue("sha")
		if r.URL.Query().Get("token") != "signed-"+sha {
			http.Error(w, "bad download token", http.StatusForbidden)
			return
		}
		f.mu.Lock()
		data := f.tarballs[r.PathValue("owner")+"/"+r.PathValue("repo")+"@"+sha]
		f.downloads++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(data)
	})
	api("GET repos/{owner}/{repo}/pulls", func(w http.ResponseWriter, r *http.Request, repo string) {
		q := r.URL.Query()
		if q.Get("state") != "open" || q.Get("head") == "" {
			f.t.Errorf("pulls listed with %v", q)
		}
		f.mu.Lock()
		n := f.pulls[repo+":"+q.Get("head")]
		f.mu.Unlock()
		var list []map[string]any
		if n != 0 {
			list = append(list, map[string]any{"number": n, "state": "open"})
		}
		writeJSON(w, http.StatusOK, list)
	})
	api("POST repos/{owner}/{repo}/statuses/{sha}", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]string
		f.decode(r, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failNext > 0 {
			f.failNext--
			writeJSON(w, http.StatusBadGateway, map[string]any{"message": "Server Error"})
			return
		}
		switch body["state"] {
		case "pending", "success", "failure", "error":
		default:
			f.t.Errorf("status with state %q", body["state"])
		}
		if len(body["description"]) > 140 {
			f.t.Errorf("status description over 140 bytes: %q", body["description"])
		}
		f.statuses = append(f.statuses, fakeStatus{repo, r.PathValue("sha"), body["state"], body["context"], body["description"], body["target_url"]})
		writeJSON(w, http.StatusCreated, body)
	})
	api("POST repos/{owner}/{repo}/check-runs", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]any
		f.decode(r, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.checkCalls++
		if f.failChecks {
			writeJSON(w, http.StatusBadGateway, map[string]any{"message": "Server Error"})
			return
		}
		if body["name"] == "" || body["head_sha"] == "" {
			f.t.Errorf("check run without name or head_sha: %v", body)
		}
		f.nextID++
		f.checkRuns[f.nextID] = body
		f.checkLog = append(f.checkLog, fmt.Sprintf("create %d %v", f.nextID, body["status"]))
		writeJSON(w, http.StatusCreated, map[string]any{"id": f.nextID, "name": body["name"], "head_sha": body["head_sha"]})
	})
	api("PATCH repos/{owner}/{repo}/check-runs/{id}", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]any
		f.decode(r, &body)
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.checkCalls++
		if f.failChecks {
			writeJSON(w, http.StatusBadGateway, map[string]any{"message": "Server Error"})
			return
		}
		if _, ok := f.checkRuns[id]; !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		f.checkRuns[id] = body
		f.checkLog = append(f.checkLog, fmt.Sprintf("update %d %v %v", id, body["status"], body["conclusion"]))
		writeJSON(w, http.StatusOK, map[string]any{"id": id})
	})
	api("GET repos/{owner}/{repo}/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request, repo string) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		f.mu.Lock()
		defer f.mu.Unlock()
		var list []map[string]any
		for _, c := range f.comments {
			if c.Repo == repo && c.PR == n {
				list = append(list, map[string]any{"id": c.ID, "body": c.Body})
			}
		}
		writeJSON(w, http.StatusOK, list)
	})
	api("POST repos/{owner}/{repo}/issues/{n}/comments", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]string
		f.decode(r, &body)
		n, _ := strconv.Atoi(r.PathValue("n"))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.nextID++
		f.comments[f.nextID] = &fakeComment{ID: f.nextID, Repo: repo, PR: n, Body: body["body"]}
		writeJSON(w, http.StatusCreated, map[string]any{"id": f.nextID, "body": body["body"]})
	})
	api("PATCH repos/{owner}/{repo}/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]string
		f.decode(r, &body)
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		defer f.mu.Unlock()
		c, ok := f.comments[id]
		if !ok || c.Repo != repo {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		c.Body = body["body"]
		c.Edits++
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "body": c.Body})
	})

	// Take-home preparation.
	api("GET user", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, map[string]any{"login": f.user, "id": 7001})
	})
	createRepo := func(w http.ResponseWriter, r *http.Request, owner string) {
		var body map[string]any
		f.decode(r, &body)
		full := owner + "/" + fmt.Sprint(body["name"])
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.repos[full]; ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Repository creation failed.", "errors": []map[string]any{{"message": "name already exists on this account"}}})
			return
		}
		f.repos[full] = body
		f.repoOrg[full] = r.PathValue("org")
		f.refs[full+" refs/heads/main"] = "aaaa000000000000000000000000000000000000"
		writeJSON(w, http.StatusCreated, map[string]any{"name": body["name"], "full_name": full, "default_branch": "main", "private": body["private"]})
	}
	api("POST user/repos", func(w http.ResponseWriter, r *http.Request, _ string) { createRepo(w, r, f.user) })
	api("POST orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request, _ string) { createRepo(w, r, r.PathValue("org")) })
	api("GET repos/{owner}/{repo}/git/ref/{ref...}", func(w http.ResponseWriter, r *http.Request, repo string) {
		f.mu.Lock()
		sha, ok := f.refs[repo+" refs/"+r.PathValue("ref")]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ref": "refs/" + r.PathValue("ref"), "object": map[string]any{"sha": sha, "type": "commit"}})
	})
	api("POST repos/{owner}/{repo}/git/trees", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body struct {
			BaseTree string           `json:"base_tree"`
			Tree     []map[string]any `json:"tree"`
		}
		f.decode(r, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.nextID++
		sha := fmt.Sprintf("tree%036d", f.nextID)
		f.trees[sha] = body.Tree
		writeJSON(w, http.StatusCreated, map[string]any{"sha": sha})
	})
	api("POST repos/{owner}/{repo}/git/commits", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]any
		f.decode(r, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.nextID++
		sha := fmt.Sprintf("c0mm%036d", f.nextID)
		f.commits[sha] = body
		writeJSON(w, http.StatusCreated, map[string]any{"sha": sha})
	})
	api("PATCH repos/{owner}/{repo}/git/refs/{ref...}", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]any
		f.decode(r, &body)
		f.mu.Lock()
		defer f.mu.Unlock()
		key := repo + " refs/" + r.PathValue("ref")
		if _, ok := f.refs[key]; !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Reference does not exist"})
			return
		}
		f.refs[key] = fmt.Sprint(body["sha"])
		writeJSON(w, http.StatusOK, map[string]any{"ref": "refs/" + r.PathValue("ref"), "object": map[string]any{"sha": body["sha"]}})
	})
	api("PUT repos/{owner}/{repo}/collaborators/{login}", func(w http.ResponseWriter, r *http.Request, repo string) {
		var body map[string]string
		f.decode(r, &body)
		f.mu.Lock()
		f.invites[repo+" "+r.PathValue("login")] = body["permission"]
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "permissions": body["permission"]})
	})
	f.appRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.t.Errorf("fake GitHub: unexpected %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is the URL djgrade is configured with.
func (f *fakeGitHub) apiURL() string { return f.srv.URL + apiBase }

func (f *fakeGitHub) decode(r *http.Request, v any) {
	data, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(data, v); err != nil {
		f.t.Errorf("%s %s: body is not JSON: %s", r.Method, r.URL.Path, data)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serveCommit makes the fake serve files as repo's tarball at sha, wrapped
// in one folder as GitHub's tarballs are.
func (f *fakeGitHub) serveCommit(repo, sha string, files []grader.File) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	wrapper := strings.ReplaceAll(repo, "/", "-") + "-" + sha[:7] + "/"
	tw.WriteHeader(&tar.Header{Name: wrapper, Typeflag: tar.TypeDir, Mode: 0o755})
	for _, file := range files {
		tw.WriteHeader(&tar.Header{Name: wrapper + file.Path, Mode: 0o644, Size: int64(len(file.Data)), Typeflag: tar.TypeReg})
		tw.Write(file.Data)
	}
	tw.Close()
	gz.Close()
	f.mu.Lock()
	f.tarballs[repo+"@"+sha] = buf.Bytes()
	f.mu.Unlock()
}

func (f *fakeGitHub) snapshotStatuses() []fakeStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeStatus(nil), f.statuses...)
}

func (f *fakeGitHub) commentsOn(repo string, pr int) []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeComment
	for _, c := range f.comments {
		if c.Repo == repo && c.PR == pr {
			out = append(out, *c)
		}
	}
	return out
}
