package sandbox_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/pytest"
	"github.com/djgrade/djgrade/sandbox"
)

// MustOpen returns a sandbox for one test, closed when the test ends.
func MustOpen(tb testing.TB) *sandbox.Docker {
	tb.Helper()
	d, err := sandbox.New(sandbox.Options{Instance: "test-" + tb.Name(), Image: testImage})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// jobID returns an id unique to the test and registers a check that no
// container labelled with it is left when the test ends.
func jobID(tb testing.TB, d *sandbox.Docker) string {
	tb.Helper()
	id := fmt.Sprintf("%s-%d", tb.Name(), time.Now().UnixNano())
	tb.Cleanup(func() {
		if n := countJobContainers(tb, d, id); n != 0 {
			tb.Errorf("%d container(s) labelled %s=%s remain", n, sandbox.LabelJob, id)
		}
	})
	return id
}

func countJobContainers(tb testing.TB, d *sandbox.Docker, id string) int {
	tb.Helper()
	list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+id)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return len(list)
}

// tarOf returns a tar stream of the files, in the order given.
func tarOf(tb testing.TB, files ...grader.File) *bytes.Buffer {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		tw.Write(f.Data)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf
}

// The mini project: one Django app whose views.py each test writes, and a
// judge whose hidden checks each test writes. The view is the candidate's
// code; the checks are the judge's.
var miniStarter = []grader.File{
	{Path: "pytest.ini", Data: []byte("[pytest]\nDJANGO_SETTINGS_MODULE = mini.settings\n")},
	{Path: "manage.py", Data: []byte("import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mini.settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n")},
	{Path: "mini/__init__.py"},
	{Path: "mini/settings.py", Data: []byte(`SECRET_KEY = "x"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "app"]
ROOT_URLCONF = "mini.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
`)},
	{Path: "mini/urls.py", Data: []byte("from django.urls import path\nfrom app import views\nurlpatterns = [path('probe/', views.probe)]\n")},
	{Path: "app/__init__.py"},
	{Path: "app/models.py", Data: []byte("from django.db import models\n\nclass Item(models.Model):\n    name = models.CharField(max_length=50)\n")},
	{Path: "app/migrations/__init__.py"},
	{Path: "app/migrations/0001_initial.py", Data: []byte(`from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.CreateModel(name="Item", fields=[
        ("id", models.BigAutoField(primary_key=True, serialize=False)),
        ("name", models.CharField(max_length=50))])]
`)},
	{Path: "app/views.py", Data: []byte("from django.http import HttpResponse\n\ndef probe(request):\n    return HttpResponse('ok')\n")},
}

// miniConftest migrates and serves the candidate's project once.
const miniConftest = `import pytest

@pytest.fixture(scope="session", autouse=True)
def served(candidate):
    r = candidate.manage("migrate", "--noinput")
    assert r.ok, r.output
    candidate.serve()
`

// miniJob is a job over the mini project: views is the candidate's
// app/views.py, checks the judge's djgrade_hidden/test_hidden_mini.py.
func miniJob(tb testing.TB, d *sandbox.Docker, views, checks string, extra ...grader.File) grader.Job {
	tb.Helper()
	var cand []grader.File
	for _, f := range miniStarter {
		if f.Path == "app/views.py" && views != "" {
			f.Data = []byte(views)
		}
		cand = append(cand, f)
	}
	cand = append(cand, extra...)
	judge := append(append([]grader.File(nil), miniStarter...),
		grader.File{Path: "djgrade_hidden/conftest.py", Data: []byte(miniConftest)},
		grader.File{Path: "djgrade_hidden/test_hidden_mini.py", Data: []byte(checks)})
	return grader.Job{
		ID:             jobID(tb, d),
		JudgeWorkspace: tarOf(tb, judge...),
		Workspace:      tarOf(tb, cand...),
		Settings:       "mini.settings",
		Seed:           7,
		Limits:         grader.Limits{Timeout: 60 * time.Second},
	}
}

func run(tb testing.TB, d *sandbox.Docker, job grader.Job) grader.Outcome {
	tb.Helper()
	out, err := d.Run(context.Background(), job)
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	tb.Logf("verdict=%s judge exit=%d timings=%v", out.Verdict, out.JudgeExit, out.Timings)
	return out
}

// reportOf decodes the judge's report of a run.
func reportOf(tb testing.TB, out grader.Outcome) pytest.Report {
	tb.Helper()
	var r pytest.Report
	if err := json.Unmarshal(out.Report, &r); err != nil {
		tb.Fatalf("report %q: %v\njudge log:\n%s\ncandidate log:\n%s", out.Report, err, out.JudgeLog, out.CandidateLog)
	}
	return r
}

// check returns the report's check with the id, failing the test if it is missing.
func check(tb testing.TB, r pytest.Report, id string) pytest.Check {
	tb.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	tb.Fatalf("report has no check %q: %+v", id, r)
	return pytest.Check{}
}

func fmtQueries(q *int) string {
	if q == nil {
		return "none"
	}
	return fmt.Sprint(*q)
}

func mustPass(tb testing.TB, out grader.Outcome, ids ...string) pytest.Report {
	tb.Helper()
	r := reportOf(tb, out)
	for _, id := range ids {
		if c := check(tb, r, id); c.Outcome != grader.OutcomePassed {
			tb.Errorf("check %s: %s\n%s\ncandidate log:\n%s", id, c.Outcome, c.Message, out.CandidateLog)
		}
	}
	return r
}

// The judge reaches the candidate's project over HTTP, seeds the shared
// database through the trusted models, and gets its report back.
func TestRunPair(t *testing.T) {
	d := MustOpen(t)
	views := `from django.http import JsonResponse
from app.models import Item

def probe(request):
    return JsonResponse({"names": sorted(i.name for i in Item.objects.all())})
`
	checks := `import pytest
from app.models import Item
from djgrade_judge import seed

@pytest.mark.check("served")
def test_served(app):
    Item.objects.create(name="b")
    Item.objects.create(name="a")
    r = app.get("/probe/")
    assert r.status == 200 and r.json() == {"names": ["a", "b"]}, r.body
    # The server keeps when each transaction committed (track_commit_timestamp).
    from django.db import connection
    with connection.cursor() as cur:
        cur.execute("SELECT count(pg_xact_commit_timestamp(xmin)) FROM app_item")
        assert cur.fetchone()[0] == 2

@pytest.mark.check("seeded")
def test_seed():
    assert seed() == 7
`
	out := run(t, d, miniJob(t, d, views, checks))
	if out.Verdict != grader.RunOK {
		t.Fatalf("verdict %s", out.Verdict)
	}
	r := mustPass(t, out, "served", "seeded")
	if r.Seed != 7 {
		t.Errorf("report seed %d", r.Seed)
	}
	if !strings.Contains(string(out.CandidateLog), "Applying app.0001_initial") {
		t.Errorf("candidate log lacks the migration:\n%s", out.CandidateLog)
	}
	if strings.Contains(string(out.CandidateLog), "test_hidden_mini") {
		t.Errorf("the candidate's log names a hidden file")
	}
}

// Statements are counted by PostgreSQL for the app's role: a raw DB-API
// cursor, another thread and a second connection all count, and the
// judge's own statements do not.
func TestRunCountsEveryStatementOfTheApp(t *testing.T) {
	d := MustOpen(t)
	views := `import threading
import psycopg2
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from app.models import Item

def probe(request):
    list(Item.objects.all())                       # 1: the ORM
    connection.ensure_connection()
    cur = connection.connection.cursor()           # 2: the raw DB-API cursor
    cur.execute("SELECT count(*) FROM app_item")
    cur.close()
    def other():
        from django.db import connection as c      # 3: another thread's connection
        with c.cursor() as k:
            k.execute("SELECT 1")
        c.close()
    t = threading.Thread(target=other); t.start(); t.join()
    db = settings.DATABASES["default"]             # 4, 5: a second connection, two statements in one call
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"])
    conn.autocommit = True
    with conn.cursor() as k:
        k.execute("SELECT 2; SELECT 3")
    conn.close()
    return HttpResponse("ok")
`
	checks := `import pytest
from app.models import Item

@pytest.mark.check("counted")
def test_counted(app, app_queries):
    Item.objects.create(name="x")
    with app_queries() as q:
        r = app.get("/probe/")
        list(Item.objects.all())   # the judge's own: not counted
    assert r.status == 200, r.body
    assert q.count == 5, q.describe()
`
	out := run(t, d, miniJob(t, d, views, checks))
	r := mustPass(t, out, "counted")
	if c := check(t, r, "counted"); c.Queries == nil || *c.Queries != 5 {
		t.Errorf("report queries %s, want 5", fmtQueries(c.Queries))
	}
}

// The candidate's container shares the judge's loopback and nothing else:
// no outside network, no judge process, file or database superuser.
func TestRunCandidateCannotReachTheJudge(t *testing.T) {
	d := MustOpen(t)
	views := `import json, os, socket
from django.http import JsonResponse
import psycopg2

def probe(request):
    seen = {}
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        seen["net"] = "reached"
    except OSError as e:
        seen["net"] = "unreachable"
    cmds = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                cmds.append(open("/proc/%s/cmdline" % p, "rb").read().decode("utf-8", "replace"))
            except OSError:
                pass
    seen["judge_procs"] = [c for c in cmds if "judge" in c or "postgres" in c]
    seen["files"] = []
    for p in ("/tmp/judge", "/tmp/pg", "/opt/djgrade/pgtemplate", "/work/djgrade_hidden"):
        try:
            os.listdir(p)
            seen["files"].append(p)
        except OSError:
            pass
    seen["superuser"] = []
    for user in ("judge", "postgres"):
        try:
            psycopg2.connect(host="127.0.0.1", port=5432, user=user, dbname="djgrade", password="", connect_timeout=3).close()
            seen["superuser"].append(user)
        except psycopg2.Error:
            pass
    return JsonResponse(seen)
`
	checks := `import pytest

@pytest.mark.check("isolated")
def test_isolated(app):
    r = app.get("/probe/")
    assert r.status == 200, r.body
    assert r.json() == {"net": "unreachable", "judge_procs": [], "files": [], "superuser": []}
`
	out := run(t, d, miniJob(t, d, views, checks))
	mustPass(t, out, "isolated")
}

// Output counts whoever writes it: a process writing to pid 1's stdout
// (which the engine would otherwise log) ends the run as output_limit,
// and the log kept stays within the cap.
func TestRunOutputFloodThroughPid1(t *testing.T) {
	d := MustOpen(t)
	views := `import os
chunk = b"x" * 65536
with open("/proc/1/fd/1", "wb", buffering=0) as f:
    while True:
        f.write(chunk)
`
	job := miniJob(t, d, views, "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    assert app.get('/probe/').status == 200\n")
	job.Limits.OutputBytes = 256 << 10
	start := time.Now()
	out := run(t, d, job)
	if out.Verdict != grader.RunOutputLimit {
		t.Fatalf("verdict %s, want output_limit", out.Verdict)
	}
	if len(out.CandidateLog) > 256<<10 {
		t.Errorf("kept %d bytes of log, cap 256 KiB", len(out.CandidateLog))
	}
	// An unstopped flood would have run into the job's time limit: the
	// verdict above, not the wall clock, is the proof.
	t.Logf("flood stopped after %s", time.Since(start).Round(time.Millisecond))
}

// A judge that runs past the time limit is a timeout, however slow the
// candidate's answers are.
func TestRunTimeout(t *testing.T) {
	d := MustOpen(t)
	views := "import time\nfrom django.http import HttpResponse\n\ndef probe(request):\n    time.sleep(600)\n    return HttpResponse('late')\n"
	checks := "import pytest\n\n@pytest.mark.check(\"slow\")\ndef test_slow(app):\n    for _ in range(10):\n        app.get('/probe/', timeout=60)\n"
	job := miniJob(t, d, views, checks)
	job.Limits.Timeout = 12 * time.Second
	start := time.Now()
	out := run(t, d, job)
	if out.Verdict != grader.RunTimeout {
		t.Fatalf("verdict %s, want timeout", out.Verdict)
	}
	// Without the limit the checks would wait 10 × 60 s; the bound is far
	// from both, so a slow machine does not fail it.
	if el := time.Since(start); el > 5*time.Minute {
		t.Errorf("took %s", el)
	}
}

func TestRunOOM(t *testing.T) {
	d := MustOpen(t)
	views := "hog = []\nwhile True:\n    hog.append(bytearray(32 << 20))\n"
	job := miniJob(t, d, views, "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    app.get('/probe/')\n")
	job.Limits.MemoryBytes = 256 << 20
	out := run(t, d, job)
	if out.Verdict != grader.RunOOM {
		t.Fatalf("verdict %s, want out_of_memory\n%s", out.Verdict, out.CandidateLog)
	}
}

func TestRunProcessLimit(t *testing.T) {
	d := MustOpen(t)
	views := "import os, time\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n            time.sleep(60)\n            os._exit(0)\n    except OSError:\n        break\n"
	job := miniJob(t, d, views, "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    app.get('/probe/')\n")
	job.Limits.Pids = 64
	out := run(t, d, job)
	if out.Verdict != grader.RunProcessLimit {
		t.Fatalf("verdict %s, want process_limit", out.Verdict)
	}
}

// Both containers run without an engine log, as their own users, on a
// read-only root; the candidate's shares the judge's network namespace.
func TestRunContainerConfig(t *testing.T) {
	d := MustOpen(t)
	views := "import time\nfrom django.http import HttpResponse\n\ndef probe(request):\n    return HttpResponse('ok')\n"
	checks := "import pytest, time\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    time.sleep(8)\n    assert app.get('/probe/').status == 200\n"
	job := miniJob(t, d, views, checks)
	seen := make(chan map[string]container.InspectResponse, 1)
	done := make(chan struct{})
	go func() {
		got := map[string]container.InspectResponse{}
		// Until both are seen or the run is over, however slow the machine.
		for {
			select {
			case <-done:
				seen <- got
				return
			default:
			}
			list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
				All: true, Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+job.ID))})
			// Each container is kept from the first inspection that
			// worked: one may be listed before it can be inspected.
			for _, c := range list {
				role := c.Labels[sandbox.LabelRole]
				if _, ok := got[role]; ok || err != nil {
					continue
				}
				if insp, err := d.Client().ContainerInspect(context.Background(), c.ID); err == nil {
					got[role] = insp
				}
			}
			if len(got) == 2 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		seen <- got
	}()
	run(t, d, job)
	close(done)
	got := <-seen
	judge, cand := got[sandbox.RoleJudge], got[sandbox.RoleCandidate]
	if judge.ContainerJSONBase == nil || cand.ContainerJSONBase == nil {
		t.Fatalf("did not see both containers: %v", got)
	}
	for role, c := range got {
		if c.HostConfig.LogConfig.Type != "none" {
			t.Errorf("%s: log driver %q, want none", role, c.HostConfig.LogConfig.Type)
		}
		if !c.HostConfig.ReadonlyRootfs {
			t.Errorf("%s: root is writable", role)
		}
	}
	if judge.Config.User != "10002:10002" || cand.Config.User != sandbox.SandboxUser {
		t.Errorf("users: judge %q candidate %q", judge.Config.User, cand.Config.User)
	}
	if string(judge.HostConfig.NetworkMode) != "none" || string(cand.HostConfig.NetworkMode) != "container:"+judge.ID {
		t.Errorf("network: judge %q candidate %q", judge.HostConfig.NetworkMode, cand.HostConfig.NetworkMode)
	}
}

// The public tests run in the candidate's container, on SQLite, and come
// back as the candidate container's account.
func TestRunPublicTests(t *testing.T) {
	d := MustOpen(t)
	tests := grader.File{Path: "tests/test_public.py", Data: []byte("def test_ok():\n    assert 1\n\ndef test_bad():\n    assert 1 == 2, 'candidate says no'\n")}
	job := miniJob(t, d, "", "import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    assert app.get('/probe/').status == 200\n", tests)
	job.Public = true
	out := run(t, d, job)
	mustPass(t, out, "x")
	outcomes := pytestPublic(t, out)
	if len(outcomes) != 2 || outcomes["tests/test_public.py::test_ok"] != "passed" || outcomes["tests/test_public.py::test_bad"] != "failed" {
		t.Errorf("public outcomes %v", outcomes)
	}
}

func TestRunCancel(t *testing.T) {
	d := MustOpen(t)
	// The check would sleep 15 minutes: a cancel that is not honoured
	// shows as minutes, far past the bound below, on any machine.
	job := miniJob(t, d, "", "import pytest, time\n\n@pytest.mark.check(\"x\")\ndef test_x():\n    time.sleep(900)\n")
	job.Limits.Timeout = 20 * time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 100 {
			if countJobContainers(t, d, job.ID) == 2 {
				time.Sleep(time.Second)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := d.Run(ctx, job)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Minute {
		t.Errorf("cancel took %s", el)
	}
	if n := countJobContainers(t, d, job.ID); n != 0 {
		t.Fatalf("%d containers remain after cancel", n)
	}
}

func TestRunConcurrent(t *testing.T) {
	d := MustOpen(t)
	var wg sync.WaitGroup
	errs := make(chan string, 2)
	for i := range 2 {
		views := fmt.Sprintf("from django.http import HttpResponse\n\ndef probe(request):\n    return HttpResponse('%d')\n", i)
		checks := fmt.Sprintf("import pytest\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    assert app.get('/probe/').body == b'%d'\n", i)
		job := miniJob(t, d, views, checks)
		job.ID += fmt.Sprint(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := d.Run(context.Background(), job)
			if err != nil {
				errs <- fmt.Sprintf("job %d: %v", i, err)
				return
			}
			var r pytest.Report
			if json.Unmarshal(out.Report, &r) != nil || len(r.Checks) != 1 || r.Checks[0].Outcome != grader.OutcomePassed {
				errs <- fmt.Sprintf("job %d: report %s", i, out.Report)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestRunImageMissing(t *testing.T) {
	d := MustOpen(t)
	job := miniJob(t, d, "", "")
	job.Image = "djgrade-sandbox:doesnotexist"
	_, err := d.Run(context.Background(), job)
	if code := grader.ErrorCode(err); code != grader.EINTERNAL {
		t.Fatalf("err %v (code %q), want %s", err, code, grader.EINTERNAL)
	}
}

func TestSweep(t *testing.T) {
	// Its own app label: a sweep must not reach other tests' or servers'
	// containers on the same engine.
	app := fmt.Sprintf("djgrade-test-%d", time.Now().UnixNano())
	mine, err := sandbox.New(sandbox.Options{Instance: "test-sweep-mine", App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	other, err := sandbox.New(sandbox.Options{Instance: "test-sweep-other", App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	id := jobID(t, mine)
	create := func(instance string) {
		_, err := mine.Client().ContainerCreate(ctx, &container.Config{
			Image:  testImage,
			Cmd:    []string{"true"},
			Labels: map[string]string{sandbox.LabelApp: app, sandbox.LabelJob: id, sandbox.LabelInstance: instance},
		}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
	}
	create(mine.Instance())
	create(other.Instance())
	create(other.Instance())
	// A container of the real app, which neither sweep may touch.
	_, err = mine.Client().ContainerCreate(ctx, &container.Config{
		Image:  testImage,
		Cmd:    []string{"true"},
		Labels: map[string]string{sandbox.LabelApp: sandbox.AppName, sandbox.LabelJob: id + "-real"},
	}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if n := countJobContainers(t, mine, id+"-real"); n != 1 {
			t.Errorf("the other app's container was swept")
		}
		list, _ := mine.Client().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+id+"-real"))})
		for _, c := range list {
			mine.Client().ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}()
	// A second sandbox with mine's instance id: a restarted server of the
	// same store, sweeping what its crashed predecessor left.
	restarted, err := sandbox.New(sandbox.Options{Instance: mine.Instance(), App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	if n, err := restarted.Sweep(ctx, sandbox.SweepOwn); err != nil || n != 1 {
		t.Fatalf("Sweep(SweepOwn) = %d, %v; want the 1 of its own instance", n, err)
	}
	if n := countJobContainers(t, mine, id); n != 2 {
		t.Fatalf("%d containers left, want the other instance's 2", n)
	}
	create(mine.Instance())
	if n, err := mine.Sweep(ctx, sandbox.SweepOthers); err != nil || n != 2 {
		t.Fatalf("Sweep(SweepOthers) = %d, %v; want the 2 of the other instance", n, err)
	}
	if n := countJobContainers(t, mine, id); n != 1 {
		t.Fatalf("%d containers left, want mine only", n)
	}
	if n, err := mine.Sweep(ctx, sandbox.SweepAll); err != nil || n != 1 {
		t.Fatalf("Sweep(SweepAll) = %d, %v", n, err)
	}
}

// The app's role owns the tables its migrations made; once migrated, the
// judge takes the schema away: a rule the candidate's code added is found
// and dropped, and the app may no longer change the schema.
func TestRunFreezeSchema(t *testing.T) {
	d := MustOpen(t)
	views := `from django.db import connection, ProgrammingError
from django.http import HttpResponse

def probe(request):
    sql = {"rule": "CREATE RULE hide AS ON INSERT TO app_item DO INSTEAD NOTHING",
           "alter": "ALTER TABLE app_item ADD COLUMN sneaky int"}[request.GET["step"]]
    try:
        with connection.cursor() as c:
            c.execute(sql)
        return HttpResponse("done")
    except ProgrammingError:
        return HttpResponse("denied")
`
	checks := `import pytest
from djgrade_judge import freeze_schema
from app.models import Item

@pytest.mark.check("frozen")
def test_frozen(app):
    assert app.get("/probe/?step=rule").body == b"done"   # the app owns its tables
    with pytest.raises(AssertionError, match="rule hide on app_item"):
        freeze_schema()
    Item.objects.create(name="kept")   # the rule is gone
    assert Item.objects.count() == 1
    freeze_schema()                     # and nothing is left to complain of
    assert app.get("/probe/?step=alter").body == b"denied"
    assert app.get("/probe/?step=rule").body == b"denied"
`
	out := run(t, d, miniJob(t, d, views, checks))
	mustPass(t, out, "frozen")
}

// A statement that fails never reaches pg_stat_statements, yet its error
// text can carry data out: the judge counts failures from the server's
// log, per statement, for the app's role only.
func TestRunCountsFailedStatements(t *testing.T) {
	d := MustOpen(t)
	views := `import psycopg2
from django.conf import settings
from django.http import HttpResponse

def probe(request):
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"])
    conn.autocommit = True
    found = []
    for i in range(3):
        with conn.cursor() as k:
            try:
                k.execute("SELECT CAST((SELECT count(*) FROM app_item)::text || '|x' AS integer)")
            except psycopg2.Error as e:
                found.append(str(e).split('"')[1])
    with conn.cursor() as k:
        k.execute("SELECT 1")
    conn.close()
    return HttpResponse(",".join(found))
`
	checks := `import pytest
from django.db import connection
from app.models import Item

@pytest.mark.check("counted")
def test_counted(app, app_queries):
    Item.objects.create(name="x")
    with app_queries() as q:
        r = app.get("/probe/")
        with pytest.raises(Exception):
            with connection.cursor() as c:
                c.execute("SELECT 1/0")   # the judge's own error: not counted
    assert r.body == b"1|x,1|x,1|x", r.body
    assert q.count == 4, q.describe()
`
	out := run(t, d, miniJob(t, d, views, checks))
	mustPass(t, out, "counted")
}

// A candidate that ends its own container (here: every process of its
// uid, the agent too) ends the run at once, as an error of the project,
// not after the judge has waited out the time limit.
func TestRunCandidateEndsItsContainer(t *testing.T) {
	d := MustOpen(t)
	views := "import os, signal\nfrom django.http import HttpResponse\n\ndef probe(request):\n    os.kill(-1, signal.SIGKILL)\n    return HttpResponse('gone')\n"
	// The judge would sleep 15 minutes after the candidate is gone.
	checks := "import pytest, time\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    try:\n        app.get('/probe/')\n    except AssertionError:\n        pass\n    time.sleep(900)\n"
	job := miniJob(t, d, views, checks)
	job.Limits.Timeout = 20 * time.Minute
	start := time.Now()
	out := run(t, d, job)
	if out.Verdict != grader.RunCandidateExited {
		t.Fatalf("verdict %s, want %s", out.Verdict, grader.RunCandidateExited)
	}
	if el := time.Since(start); el > 5*time.Minute {
		t.Errorf("took %s", el)
	}
}

// Statements that never finish are in neither pg_stat_statements nor the
// ERROR lines: a client that hangs up mid-result fails the measured block,
// and SQL-running built-ins (query_to_xml) are not the app's to call.
func TestRunCutStatementsAreNotInvisible(t *testing.T) {
	d := MustOpen(t)
	views := `import os, socket
import psycopg2
from django.conf import settings
from django.http import HttpResponse

def probe(request):
    db = settings.DATABASES["default"]
    if request.GET.get("step") == "xml":
        c = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"])
        try:
            with c.cursor() as k:
                k.execute("SELECT query_to_xml('SELECT 1', true, false, '')")
            return HttpResponse("xml allowed")
        except psycopg2.Error as e:
            return HttpResponse("xml denied")
        finally:
            c.close()
    c = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"])
    c.autocommit = True
    cur = c.cursor()
    class Sink:
        n = 0
        def write(self, data):
            Sink.n += len(data)
            if Sink.n > 1 << 16:
                raise RuntimeError("enough")
    try:
        cur.copy_expert("COPY (SELECT repeat('x', 8000) FROM generate_series(1, 100000)) TO STDOUT", Sink(), size=8192)
    except RuntimeError:
        pass
    socket.socket(fileno=os.dup(c.fileno())).shutdown(socket.SHUT_RDWR)
    c.close()
    return HttpResponse("cut")
`
	checks := `import pytest

@pytest.mark.check("cut")
def test_cut(app, app_queries):
    with pytest.raises(AssertionError, match="connection to the database was cut"):
        with app_queries():
            assert app.get("/probe/").body == b"cut"

@pytest.mark.check("xml")
def test_xml(app):
    assert app.get("/probe/?step=xml").body == b"xml denied"
`
	out := run(t, d, miniJob(t, d, views, checks))
	mustPass(t, out, "cut", "xml")
}

// An exercise with services: [redis] gets a broker in the judge's
// container: the candidate's project publishes to it as "app" through the
// URL it is given, cannot administer it (reconfigure it, write files
// through it, watch or wipe it, reach it as the default user), and the
// judge reads what it sent with a password of its own. Without the
// service there is no broker and no URL.
func TestRunRedisService(t *testing.T) {
	d := MustOpen(t)
	views := `import os
from django.conf import settings
from django.http import JsonResponse
import redis

def probe(request):
    url = os.environ.get("DJGRADE_REDIS_URL", "")
    seen = {"url": bool(url), "broker_is_url": getattr(settings, "CELERY_BROKER_URL", None) == url and bool(url)}
    if not url:
        try:
            redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
            seen["reachable"] = True
        except redis.RedisError:
            seen["reachable"] = False
        return JsonResponse(seen)
    r = redis.Redis.from_url(url, socket_timeout=5)
    r.lpush("orders", "order-1")
    from celery import Celery
    Celery("probe", broker=settings.CELERY_BROKER_URL).send_task("orders.tasks.confirm", args=[42])
    seen["refused"] = []
    for cmd in (("CONFIG", "SET", "dir", "/tmp"), ("CONFIG", "GET", "*"), ("FLUSHALL",), ("KEYS", "*"),
                ("DEBUG", "SLEEP", "0"), ("SAVE",), ("SHUTDOWN", "NOSAVE"), ("ACL", "LIST"), ("CLIENT", "LIST"),
                ("MONITOR",), ("REPLICAOF", "127.0.0.1", "1"), ("MODULE", "LIST")):
        try:
            r.execute_command(*cmd)
        except redis.RedisError:
            seen["refused"].append(cmd[0])
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
        seen["default_user"] = True
    except redis.RedisError:
        seen["default_user"] = False
    return JsonResponse(seen)
`
	checks := `import os
import pytest
import redis

@pytest.mark.check("broker")
def test_broker(app):
    r = app.get("/probe/")
    assert r.status == 200, r.body
    seen = r.json()
    url = os.environ.get("DJGRADE_REDIS_URL")
    if url is None:
        assert seen == {"url": False, "broker_is_url": False, "reachable": False}, seen
        return
    assert seen["url"] and seen["broker_is_url"], seen
    assert sorted(seen["refused"]) == sorted(["CONFIG", "CONFIG", "FLUSHALL", "KEYS", "DEBUG", "SAVE", "SHUTDOWN",
        "ACL", "CLIENT", "MONITOR", "REPLICAOF", "MODULE"]), seen
    assert seen["default_user"] is False, seen
    judge = redis.Redis.from_url(url)
    assert judge.lrange("orders", 0, -1) == [b"order-1"]
    import json
    sent = [json.loads(m) for m in judge.lrange("celery", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in sent] == [("orders.tasks.confirm", "[42]")], sent
    assert judge.config_get("maxmemory")["maxmemory"] == str(64 << 20)
`
	for _, services := range [][]string{{grader.ServiceRedis}, nil} {
		job := miniJob(t, d, views, checks)
		job.Services = services
		out := run(t, d, job)
		if out.Verdict != grader.RunOK {
			t.Fatalf("services %v: verdict %s\n%s", services, out.Verdict, out.JudgeLog)
		}
		mustPass(t, out, "broker")
	}
}

// A failed check's message is its own words first and pytest's comparison
// as details: never the hidden test's source or its module's name. An
// exception that is not an assertion says its type.
func TestRunCheckMessages(t *testing.T) {
	d := MustOpen(t)
	checks := `import pytest

@pytest.mark.check("worded")
def test_worded(app):
    status = app.get('/probe/').status
    assert status == 418, "GET /probe/ answered %d, expected 418 (I'm a teapot)" % status

@pytest.mark.check("bare")
def test_bare(app):
    secret_local_name = [1, 2, 3]
    assert len(secret_local_name) == 4

@pytest.mark.check("crash")
def test_crash(app):
    {}["no-such-key"]

@pytest.mark.check("failed")
def test_failed(app):
    pytest.fail("the backfill left 3 orders without an email", pytrace=False)

@pytest.mark.check("json")
def test_json(app):
    from djgrade_judge import first_difference
    saw, want = {"count": 2, "results": [{"id": 1}, {"id": 2}]}, {"count": 2, "results": [{"id": 9}, {"id": 2}]}
    assert saw == want, first_difference(saw, want, "page 1 of /books/")
`
	r := reportOf(t, run(t, d, miniJob(t, d, "", checks)))
	worded := check(t, r, "worded")
	if !strings.HasPrefix(worded.Message, "GET /probe/ answered 200, expected 418 (I'm a teapot)") || !strings.Contains(worded.Message, "Details:") {
		t.Errorf("worded check's message:\n%s", worded.Message)
	}
	bare := check(t, r, "bare")
	if !strings.HasPrefix(bare.Message, "the check's condition did not hold") || !strings.Contains(bare.Message, "assert 3 == 4") {
		t.Errorf("bare check's message:\n%s", bare.Message)
	}
	crash := check(t, r, "crash")
	if !strings.HasPrefix(crash.Message, "KeyError: ") {
		t.Errorf("crashing check's message:\n%s", crash.Message)
	}
	js := check(t, r, "json")
	if !strings.HasPrefix(js.Message, "page 1 of /books/: results[0].id is 1, expected 9") {
		t.Errorf("json check's message:\n%s", js.Message)
	}
	failed := check(t, r, "failed")
	if failed.Message != "the backfill left 3 orders without an email" {
		t.Errorf("pytest.fail check's message:\n%s", failed.Message)
	}
	for _, c := range []pytest.Check{worded, bare, crash, js, failed} {
		if c.Outcome != grader.OutcomeFailed {
			t.Errorf("%s: outcome %s, want failed", c.ID, c.Outcome)
		}
		for _, leak := range []string{"def test_", "djgrade_hidden", ".py:", "@pytest.mark"} {
			if strings.Contains(c.Message, leak) {
				t.Errorf("%s: message holds %q:\n%s", c.ID, leak, c.Message)
			}
		}
	}
}
