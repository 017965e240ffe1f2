package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/sandbox"
)

// tinyCatalog writes a one-exercise catalog whose hidden test runs in well
// under a second, so that hundreds of gradings stay affordable in a test.
func tinyCatalog(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"tiny/exercise.yaml": `id: tiny
title: Tiny
summary: Return 42.
version: 1
topics: [python]
difficulty: easy
time_budget: 5m
database: sqlite
editable: [answer.py]
limits: {timeout: 60s}
categories:
  - {name: correctness, points: 1}
checks:
  - {id: tiny, name: answer is 42, category: correctness, points: 1}
starter_score: {min: 0, max: 0}
solutions: [reference]
`,
		"tiny/prompt.md":                     "# Tiny\n\nMake answer() return 42.\n",
		"tiny/rubric.md":                     "# Tiny\n",
		"tiny/starter/answer.py":             "def answer():\n    return 0\n",
		"tiny/starter/pytest.ini":            "[pytest]\nDJANGO_SETTINGS_MODULE = tiny.settings\n",
		"tiny/starter/manage.py":             "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tiny.settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
		"tiny/starter/tiny/__init__.py":      "",
		"tiny/starter/tiny/settings.py":      "SECRET_KEY = 'x'\nALLOWED_HOSTS = ['testserver']\nINSTALLED_APPS = []\nROOT_URLCONF = 'tiny.urls'\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\nUSE_TZ = True\n",
		"tiny/starter/tiny/urls.py":          "from django.http import HttpResponse\nfrom django.urls import path\nfrom answer import answer\n\nurlpatterns = [path('answer/', lambda request: HttpResponse(str(answer())))]\n",
		"tiny/solutions/reference/answer.py": "def answer():\n    return 42\n",
		"tiny/hidden/test_hidden_tiny.py": `import pytest


@pytest.fixture(scope="session", autouse=True)
def served(candidate):
    candidate.serve()


@pytest.mark.check("tiny")
def test_answer(app):
    assert app.get("/answer/").body == b"42"
`,
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildBinary builds djgrade into a temporary folder.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "djgrade")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a `djgrade serve` run as a real process.
type process struct {
	cmd *exec.Cmd
	log *os.File
}

// startProcess runs bin serve with args and waits until /healthz answers.
func startProcess(t testing.TB, bin, addr, logPath string, env []string, args ...string) *process {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: logf}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
		logf.Close()
	})
	deadline := time.Now().Add(3 * time.Minute) // may build the sandbox image
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(logPath)
			t.Fatalf("server did not come up: %v\n%s", err, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postArchive uploads one submission and returns the status and the id of
// an accepted one; err is set when no answer came (the server is down).
func postArchive(base, token string, archive []byte, candidate string) (int, string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("exercise", "tiny")
	mw.WriteField("candidate", candidate)
	fw, _ := mw.CreateFormFile("archive", "answer.zip")
	fw.Write(archive)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/submissions", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", err
	}
	if res.StatusCode != http.StatusAccepted {
		return res.StatusCode, "", nil
	}
	var sub struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &sub); err != nil || sub.ID == "" {
		return res.StatusCode, "", fmt.Errorf("202 without an id: %s", data)
	}
	return res.StatusCode, sub.ID, nil
}

// statusOf reads a submission's status through the API ("" when the server
// does not answer).
func statusOf(base, token, id string) string {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/submissions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var sub struct {
		Status string `json:"status"`
	}
	json.NewDecoder(res.Body).Decode(&sub)
	return sub.Status
}

// TestCrashedServerGradesEveryAcceptedSubmissionOnce is the durable queue's
// proof: a burst of uploads to a real `djgrade serve` process, SIGKILL in
// the middle of it (uploads in flight, gradings running), a restart, and
// then every submission that got a 202 ends with exactly one result.
func TestCrashedServerGradesEveryAcceptedSubmissionOnce(t *testing.T) {
	skipShort(t)
	// Each grading is a pair of containers with PostgreSQL and gunicorn (about
	// 7 s of two cores here), so the burst is sized for a machine like this:
	// enough that the kill lands among uploads in flight, running gradings
	// and finished ones (the kill waits for a third of them and one result).
	const total = 30
	bin := buildBinary(t)
	catalog := tinyCatalog(t)
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	logPath := filepath.Join(t.TempDir(), "serve.log")
	token := "crash-test-admin-token-0123456789"
	env := []string{"DJGRADE_ADMIN_TOKEN=" + token}
	args := []string{"--data", data, "--exercises", catalog, "--concurrency", "4", "--shutdown-grace", "60s"}
	defer func() {
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("server log:\n%s", out)
		}
	}()

	first := startProcess(t, bin, addr, logPath, env, args...)
	archive := zipProject(t, "project", []grader.File{{Path: "answer.py", Data: []byte("def answer():\n    return 42\n")}})

	var (
		mu       sync.Mutex
		accepted []string
		refused  = map[int]int{}
		failed   int // no answer: the server was down
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(accepted) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if count() >= total {
					return
				}
				status, id, err := postArchive(base, token, archive, fmt.Sprintf("worker %d upload %d", w, n))
				mu.Lock()
				switch {
				case err != nil:
					failed++
				case id != "":
					accepted = append(accepted, id)
				case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
					// The token's rate limit or a full queue: the
					// upload was refused whole; try again shortly.
					mu.Unlock()
					time.Sleep(500 * time.Millisecond)
					continue
				default:
					refused[status]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(100 * time.Millisecond) // the server is restarting
				} else {
					time.Sleep(100 * time.Millisecond) // a burst, not a flood
				}
			}
		}()
	}

	// Kill once part of the burst is in and some gradings have finished,
	// so that the kill lands among uploads, running gradings and results.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		mu.Lock()
		bad := len(refused)
		mu.Unlock()
		if bad > 0 {
			close(stop)
			wg.Wait()
			t.Fatalf("uploads refused: %v", refused)
		}
		if n := count(); n >= total/3 {
			mu.Lock()
			probe := accepted[0]
			mu.Unlock()
			if statusOf(base, token, probe) == "done" {
				break
			}
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("no progress before the kill: %d accepted", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	killedAt := count()
	t.Logf("SIGKILL after %d accepted uploads", killedAt)

	second := startProcess(t, bin, addr, logPath, env, args...)
	wg.Wait()
	mu.Lock()
	ids := append([]string(nil), accepted...)
	t.Logf("accepted %d uploads (%d before the kill), %d got no answer, refused %v", len(ids), killedAt, failed, refused)
	mu.Unlock()
	if len(ids) < total {
		t.Fatalf("only %d uploads accepted", len(ids))
	}
	if len(refused) > 0 {
		t.Fatalf("uploads refused: %v", refused)
	}

	// Every accepted submission reaches a final status.
	deadline = time.Now().Add(15 * time.Minute)
	for _, id := range ids {
		for st := statusOf(base, token, id); st != "done"; st = statusOf(base, token, id) {
			if st == "error" || st == "cancelled" || time.Now().After(deadline) {
				t.Fatalf("submission %s ended %q", id, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Stop gracefully, then read the store itself: the file is the truth.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("server after SIGTERM: %v", err)
	}
	store, err := bolt.Open(filepath.Join(data, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	twice := 0
	for _, id := range ids {
		sub, err := store.Submission(ctx, id)
		if err != nil {
			t.Fatalf("accepted %s is lost: %v", id, err)
		}
		if sub.Status != grader.StatusDone || sub.Result == nil || sub.Result.Score != 1 || len(sub.History) != 0 {
			t.Fatalf("submission %s: status %s, result %+v, %d earlier results", id, sub.Status, sub.Result, len(sub.History))
		}
		if sub.Attempts < 1 || sub.Attempts > 2 {
			t.Fatalf("submission %s was started %d times", id, sub.Attempts)
		}
		if sub.Attempts == 2 {
			twice++
		}
	}
	t.Logf("%d submissions were interrupted by the kill and graded again from the start", twice)
	// Nothing is left queued or running, including submissions whose 202
	// was lost in the kill.
	for _, st := range []grader.Status{grader.StatusQueued, grader.StatusRunning} {
		if n, err := store.Count(ctx, st); err != nil || n != 0 {
			t.Fatalf("%d submissions left %s (%v)", n, st, err)
		}
	}

	// No container of this store is left behind.
	if n := containersOfStore(t, store); n != 0 {
		t.Fatalf("%d containers left behind", n)
	}
	logText, _ := os.ReadFile(logPath)
	if !strings.Contains(string(logText), "requeued interrupted submissions") && twice > 0 {
		t.Fatalf("interrupted submissions were graded again without a requeue at start")
	}
}

// TestSIGTERMDrainsOrRequeues stops a real `djgrade serve` with SIGTERM
// while it grades: with a grace period longer than a grading, the running
// ones finish before it exits; with a grace period too short, they are
// cancelled, left running in the store, and graded once after a restart.
func TestSIGTERMDrainsOrRequeues(t *testing.T) {
	skipShort(t)
	bin := buildBinary(t)
	catalog := tinyCatalog(t)
	archive := zipProject(t, "project", []grader.File{{Path: "answer.py", Data: []byte("def answer():\n    return 42\n")}})
	token := "sigterm-test-admin-token-0123456789"
	env := []string{"DJGRADE_ADMIN_TOKEN=" + token}
	for _, tc := range []struct {
		grace    string
		finished bool // the running gradings end before the exit
	}{{"60s", true}, {"1ms", false}} {
		t.Run("grace="+tc.grace, func(t *testing.T) {
			data := t.TempDir()
			addr := freeAddr(t)
			base := "http://" + addr
			logPath := filepath.Join(t.TempDir(), "serve.log")
			defer func() {
				if t.Failed() {
					out, _ := os.ReadFile(logPath)
					t.Logf("server log:\n%s", out)
				}
			}()
			args := []string{"--data", data, "--exercises", catalog, "--concurrency", "2", "--shutdown-grace", tc.grace}
			p := startProcess(t, bin, addr, logPath, env, args...)
			var ids []string
			for i := range 4 {
				status, id, err := postArchive(base, token, archive, fmt.Sprintf("sigterm %d", i))
				if err != nil || id == "" {
					t.Fatalf("upload: %d %v", status, err)
				}
				ids = append(ids, id)
			}
			// Wait until a grading is under way, then SIGTERM.
			deadline := time.Now().Add(time.Minute)
			for statusOf(base, token, ids[0]) != "running" {
				if time.Now().After(deadline) {
					t.Fatal("the first submission never started")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := p.cmd.Wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
			store, err := bolt.Open(filepath.Join(data, DBName))
			if err != nil {
				t.Fatal(err)
			}
			first, err := store.Submission(context.Background(), ids[0])
			store.Close()
			if err != nil {
				t.Fatal(err)
			}
			if tc.finished && first.Status != grader.StatusDone {
				t.Fatalf("with grace %s the running grading ended %s", tc.grace, first.Status)
			}
			if !tc.finished && first.Status != grader.StatusRunning {
				t.Fatalf("with grace %s the cancelled grading is %s, want running", tc.grace, first.Status)
			}

			// The next start grades whatever is left, each once.
			p = startProcess(t, bin, addr, logPath, env, args...)
			for _, id := range ids {
				deadline := time.Now().Add(2 * time.Minute)
				for statusOf(base, token, id) != "done" {
					if time.Now().After(deadline) {
						t.Fatalf("%s not done after the restart", id)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
			store, err = bolt.Open(filepath.Join(data, DBName))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			// A stop that cut a refill or a cold start short leaves
			// nothing on the engine either.
			if n := containersOfStore(t, store); n != 0 {
				t.Fatalf("%d containers of the store left after a graceful stop", n)
			}
			first, _ = store.Submission(context.Background(), ids[0])
			if want := map[bool]int{true: 1, false: 2}[tc.finished]; first.Attempts != want || len(first.History) != 0 {
				t.Fatalf("first submission: %d attempts (want %d), %d earlier results", first.Attempts, want, len(first.History))
			}
		})
	}
}

// containersOfStore counts the containers on the engine labelled with the
// instance of store (the server that used it), asked of the engine
// directly, not through a sandbox.
func containersOfStore(t *testing.T, store *bolt.Store) int {
	t.Helper()
	storeID, err := store.ID()
	if err != nil || storeID == "" {
		t.Fatalf("store id %q: %v", storeID, err)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	left, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelInstance+"=store-"+storeID))})
	if err != nil {
		t.Fatal(err)
	}
	return len(left)
}
