package sandbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/pytest"
	"github.com/djgrade/djgrade/sandbox"
)

// openPooled returns a sandbox with a pool, closed when the test ends,
// and a check that nothing of its instance is left then.
func openPooled(tb testing.TB, pool sandbox.PoolOptions) *sandbox.Docker {
	tb.Helper()
	app := "djgrade-test-pool"
	d, err := sandbox.New(sandbox.Options{Instance: "test-" + tb.Name(), App: app, Image: testImage, Pool: pool})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		d.Close()
		if n := len(instanceContainers(tb, d, app)); n != 0 {
			tb.Errorf("%d container(s) of the instance remain after Close", n)
		}
	})
	return d
}

func instanceContainers(tb testing.TB, d *sandbox.Docker, app string) []container.Summary {
	tb.Helper()
	list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", sandbox.LabelApp+"="+app),
			filters.Arg("label", sandbox.LabelInstance+"="+d.Instance()),
		),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// waitFor polls cond until it holds, failing the test after a deadline
// long enough for a loaded machine (it bounds a hang, it times nothing).
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A pre-started sandbox serves one submission only: what a run leaves in
// either container (files in the scratch areas, a process in the
// background, rows in PostgreSQL) is gone for the next run, which gets a
// sandbox of its own from the pool.
func TestPoolOneShot(t *testing.T) {
	d := openPooled(t, sandbox.PoolOptions{Size: 2})
	// The first run's candidate leaves files and a process behind; its
	// checks leave a row and a file on the judge's side.
	leave := `import os, subprocess
from django.http import HttpResponse

for p in ("/tmp/left-by-candidate", "/work/left-by-candidate"):
    open(p, "w").write("secret of the first run")
subprocess.Popen(["sleep", "600"], start_new_session=True)

def probe(request):
    return HttpResponse("ok")
`
	leaveChecks := `import pytest
from app.models import Item

@pytest.mark.check("left")
def test_left(app):
    assert app.get("/probe/").status == 200
    Item.objects.create(name="left-by-judge")
    open("/tmp/left-by-judge", "w").write("x")
`
	out := run(t, d, miniJob(t, d, leave, leaveChecks))
	mustPass(t, out, "left")
	waitFor(t, "the pool to hold a sandbox", func() bool { return d.PoolStats().Waiting > 0 })

	// The second run looks for all of it, from both sides.
	look := `import os, subprocess
from django.http import JsonResponse

def probe(request):
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return JsonResponse({
        "files": [p for p in ("/tmp/left-by-candidate", "/work/left-by-candidate") if os.path.exists(p)],
        "sleeping": "sleep 600" in ps,
    })
`
	lookChecks := `import os, pytest
from app.models import Item

@pytest.mark.check("clean")
def test_clean(app):
    r = app.get("/probe/")
    assert r.status == 200, r.body
    assert r.json() == {"files": [], "sleeping": False}, r.body
    assert not Item.objects.filter(name="left-by-judge").exists()
    assert not os.path.exists("/tmp/left-by-judge")
    # The checks run in the pytest process started while the pair waited.
    assert b"djgrade_warm_pytest" in open("/proc/self/cmdline", "rb").read()
    # Taken from the pool, the pair runs with a run's CPU weight (cgroup v1).
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.shares"):
        assert open("/sys/fs/cgroup/cpu/cpu.shares").read().strip() == "1024"
`
	before := d.PoolStats()
	out = run(t, d, miniJob(t, d, look, lookChecks))
	mustPass(t, out, "clean")
	after := d.PoolStats()
	if after.Hits != before.Hits+1 {
		t.Errorf("the second run did not take a pre-started sandbox: %+v then %+v", before, after)
	}
	if _, cold := out.Timings["cold_start"]; cold {
		t.Errorf("the second run started cold: %v", out.Timings)
	}
}

// The pool refills after a run takes from it, never holds more than Size,
// recycles sandboxes that waited MaxIdle, and stops keeping a kind warm
// that nobody used for that long.
func TestPoolRefillAndRecycle(t *testing.T) {
	d := openPooled(t, sandbox.PoolOptions{Size: 1, MaxIdle: 30 * time.Second})
	out := run(t, d, miniJob(t, d, "", "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    assert app.get('/probe/').status == 200\n"))
	mustPass(t, out, "x")
	if st := d.PoolStats(); st.Misses != 1 || st.Hits != 0 {
		t.Fatalf("first run on an empty pool: %+v", st)
	}
	waitFor(t, "a sandbox waiting", func() bool { return d.PoolStats().Waiting == 1 })
	waiting := instanceContainers(t, d, "djgrade-test-pool")
	if len(waiting) != 2 {
		t.Errorf("a waiting pair is %d containers, want 2 (Size 1)", len(waiting))
	}
	// Waiting, it yields the CPU to runs.
	for _, c := range waiting {
		if insp, err := d.Client().ContainerInspect(context.Background(), c.ID); err != nil || insp.HostConfig.CPUShares != 2 {
			t.Errorf("a waiting container's CPU shares: %v, %v", insp.HostConfig, err)
		}
	}
	// Unused, it is recycled after MaxIdle and not replaced.
	waitFor(t, "the waiting sandbox recycled", func() bool {
		st := d.PoolStats()
		return st.Recycled >= 1 && st.Waiting == 0 && st.Starting == 0
	})
	waitFor(t, "its containers removed", func() bool { return len(instanceContainers(t, d, "djgrade-test-pool")) == 0 })
}

// Sandboxes left waiting by a server that died are its instance's: the
// sweep at the next start removes them (and their inits would end them
// after their warm lifetime anyway).
func TestPoolCrashSweep(t *testing.T) {
	app := "djgrade-test-pool-crash"
	instance := "test-" + t.Name()
	crashed, err := sandbox.New(sandbox.Options{Instance: instance, App: app, Image: testImage, Pool: sandbox.PoolOptions{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// A run's kind is what the pool keeps warm; a cancelled run still
	// marks its kind as used.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	crashed.Run(ctx, miniJob(t, crashed, "", "def test_x():\n    pass\n"))
	waitFor(t, "a sandbox waiting", func() bool { return crashed.PoolStats().Waiting == 1 })
	if n := len(instanceContainers(t, crashed, app)); n != 2 {
		t.Fatalf("%d containers waiting, want 2", n)
	}
	// The next start of the same instance sweeps them.
	next, err := sandbox.New(sandbox.Options{Instance: instance, App: app, Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	n, err := next.Sweep(context.Background(), sandbox.SweepOwn)
	if err != nil || n != 2 {
		t.Fatalf("sweep removed %d, %v; want 2", n, err)
	}
	if left := instanceContainers(t, next, app); len(left) != 0 {
		t.Fatalf("%d containers left after the sweep", len(left))
	}
	crashed.Close() // finds them gone, and says nothing
}

// The fast path: the candidate's public tests only, in the candidate's
// container alone (no judge, no network; the project's own SQLite),
// reported as the candidate's own account, from a pre-started single
// after the first run.
func TestRunPublicOnly(t *testing.T) {
	d := openPooled(t, sandbox.PoolOptions{Size: 1})
	tests := grader.File{Path: "tests/test_public.py", Data: []byte(`import pytest
from app.models import Item

def test_ok():
    assert 1

def test_bad():
    assert 1 == 2, 'candidate says no'

def test_long():
    # The assertion comes first in what the candidate reads, however long
    # the report after it.
    assert [1] * 3000 == [2], "the needle"

@pytest.mark.django_db
def test_db():
    Item.objects.create(name="x")
    assert Item.objects.count() == 1

def test_fast_hash():
    # Passwords hash fast in the public tests, as in graded runs.
    from django.contrib.auth.hashers import make_password
    assert make_password("x").startswith("md5$")

def test_warm():
    # The tests run in the pytest process started while the sandbox waited.
    assert b"djgrade_warm_pytest" in open("/proc/self/cmdline", "rb").read()
`)}
	for i := range 2 { // cold, then from the pool
		job := miniJob(t, d, "", "", tests)
		job.PublicOnly, job.JudgeWorkspace = true, nil
		out := run(t, d, job)
		if out.Verdict != grader.RunOK || out.Report != nil {
			t.Fatalf("run %d: verdict %s report %q\n%s", i, out.Verdict, out.Report, out.CandidateLog)
		}
		p := pytestPublic(t, out)
		want := map[string]string{"tests/test_public.py::test_ok": "passed", "tests/test_public.py::test_bad": "failed", "tests/test_public.py::test_long": "failed", "tests/test_public.py::test_db": "passed", "tests/test_public.py::test_fast_hash": "passed", "tests/test_public.py::test_warm": "passed"}
		for id, o := range want {
			if p[id] != o {
				t.Errorf("run %d: %s is %q, want %q (all: %v)\n%s", i, id, p[id], o, p, out.CandidateLog)
			}
		}
		// Each test's body's queries: the create and the count. A failure's
		// message is the assertion and where it failed.
		for _, pt := range pytest.ParsePublic(out.Public).Tests {
			switch strings.TrimPrefix(pt.NodeID, "tests/test_public.py::") {
			case "test_bad":
				if !strings.HasPrefix(pt.Message, "AssertionError: candidate says no") || !strings.Contains(pt.Message, "(at tests/test_public.py:8)") {
					t.Errorf("run %d: test_bad's message %q, want the assertion and its line first", i, pt.Message)
				}
			case "test_long":
				if !strings.HasPrefix(pt.Message, "AssertionError: the needle") || len(pt.Message) > 2048+3 {
					t.Errorf("run %d: test_long's message starts %.80q (%d bytes), want the assertion first, capped", i, pt.Message, len(pt.Message))
				}
			}
			if want := map[string]int{"test_db": 2}[strings.TrimPrefix(pt.NodeID, "tests/test_public.py::")]; pt.Queries != want {
				t.Errorf("run %d: %s ran %d queries, want %d", i, pt.NodeID, pt.Queries, want)
			}
		}
		if i == 0 {
			waitFor(t, "a single waiting", func() bool { return d.PoolStats().Waiting == 1 })
			if n := len(instanceContainers(t, d, "djgrade-test-pool")); n != 1 {
				t.Errorf("a waiting single is %d containers, want 1", n)
			}
		} else if _, cold := out.Timings["cold_start"]; cold {
			t.Errorf("the second public run started cold: %v", out.Timings)
		}
	}
}

// pytestPublic returns the outcome of each public test of a run, by node id.
func pytestPublic(tb testing.TB, out grader.Outcome) map[string]string {
	tb.Helper()
	p := pytest.ParsePublic(out.Public)
	if p == nil {
		tb.Fatalf("no public report %q\n%s", out.Public, out.CandidateLog)
	}
	outcomes := map[string]string{}
	for _, pt := range p.Tests {
		outcomes[pt.NodeID] = pt.Outcome
	}
	return outcomes
}

// When the kinds in use want more than Size, every kind keeps one, the
// one used last first: with Size 1, a public-tests run after a grade has
// its single kept waiting in place of the grade's pair; with Size 2 both
// wait (TestPoolKindsShareSize2).
func TestPoolKindsShareSize(t *testing.T) {
	testPoolKindsShare(t, 1, 1, 1)
}

func TestPoolKindsShareSize2(t *testing.T) {
	testPoolKindsShare(t, 2, 2, 3)
}

func testPoolKindsShare(t *testing.T, size, waiting, containers int) {
	d := openPooled(t, sandbox.PoolOptions{Size: size})
	out := run(t, d, miniJob(t, d, "", "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    assert app.get('/probe/').status == 200\n"))
	mustPass(t, out, "x")
	waitFor(t, "a pair waiting", func() bool {
		return d.PoolStats().Waiting >= 1 && len(instanceContainers(t, d, "djgrade-test-pool")) >= 2
	})
	job := miniJob(t, d, "", "", grader.File{Path: "tests/test_public.py", Data: []byte("def test_ok():\n    assert 1\n")})
	job.PublicOnly, job.JudgeWorkspace = true, nil
	if out := run(t, d, job); out.Verdict != grader.RunOK {
		t.Fatalf("public run: %s\n%s", out.Verdict, out.CandidateLog)
	}
	waitFor(t, fmt.Sprintf("%d waiting in %d containers", waiting, containers), func() bool {
		st := d.PoolStats()
		return st.Waiting == waiting && st.Starting == 0 && len(instanceContainers(t, d, "djgrade-test-pool")) == containers
	})
	if st := d.PoolStats(); size == 1 && st.Recycled < 1 {
		t.Errorf("the pair was not recycled: %+v", st)
	}
}
