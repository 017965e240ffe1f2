package sandbox_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// TestRunPrivateChannel checks that Job.Private reaches the command on
// descriptor 3, whole (1 MiB, more than a pipe holds, so the init must feed
// it from a thread), and nowhere else: not in the environment, not in /work
// or /tmp, and the command holds no descriptor beyond 0-3 (no write end).
func TestRunPrivateChannel(t *testing.T) {
	d := MustOpen(t)
	marker := "PRIVATEMARK" + hex.EncodeToString([]byte(t.Name()))
	private := bytes.Repeat([]byte(marker+"\n"), (1<<20)/(len(marker)+1))
	sum := sha256.Sum256(private)
	out := run(t, d, grader.Job{
		Command: sh(`echo "fd=$DJGRADE_PRIVATE_FD"
echo "fds=$(ls /proc/$$/fd | sort -n | tr '\n' ' ')"
sha256sum <&3 | cut -d' ' -f1
exec 3<&-
echo "env=$(env | grep -c ` + marker + `)"
echo "files=$(grep -rl ` + marker + ` /work /tmp 2>/dev/null | wc -l)"`),
		Workspace: tarOf(t, grader.File{Path: "app/x.py", Data: []byte("x = 1\n")}),
		Private:   private,
		Limits:    grader.Limits{Timeout: 30 * time.Second},
	})
	got := string(out.Stdout)
	// The shell's own listing of /proc/$$/fd shows 0-3 and the descriptor
	// ls itself opened for the folder; 255 is where bash keeps its script,
	// dash has none.
	for _, want := range []string{"fd=3\n", "fds=0 1 2 3 ", hex.EncodeToString(sum[:]) + "\n", "env=0\n", "files=0\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("stdout lacks %q:\n%s\nstderr %s", want, got, out.Stderr)
		}
	}
	if fds := strings.SplitN(strings.SplitN(got, "fds=", 2)[1], "\n", 2)[0]; strings.Count(fds, " ") > 5 {
		t.Errorf("the command holds too many descriptors: %q", fds)
	}
}

// TestRunWithoutPrivate checks that a job without private bytes gives the
// command no descriptor 3 and no DJGRADE_PRIVATE_FD, even when the job's own
// environment tries to set one.
func TestRunWithoutPrivate(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{
		Command: sh(`echo "fd=[$DJGRADE_PRIVATE_FD]"; if { true <&3; } 2>/dev/null; then echo open; else echo closed; fi`),
		Env:     []string{"DJGRADE_PRIVATE_FD=3"},
		Limits:  grader.Limits{Timeout: 30 * time.Second},
	})
	if got := string(out.Stdout); got != "fd=[]\nclosed\n" {
		t.Fatalf("stdout %q stderr %q", got, out.Stderr)
	}
}

// TestRunPrivateNeverRead checks that a command that never reads a private
// block larger than a pipe's buffer still ends at once: the init's writer
// must not hold up the run.
func TestRunPrivateNeverRead(t *testing.T) {
	d := MustOpen(t)
	start := time.Now()
	out := run(t, d, grader.Job{
		Command: sh("echo done"),
		Private: bytes.Repeat([]byte("x"), 2<<20),
		Limits:  grader.Limits{Timeout: 20 * time.Second},
	})
	if out.Verdict != grader.RunOK || string(out.Stdout) != "done\n" {
		t.Fatalf("verdict %s stdout %q stderr %q", out.Verdict, out.Stdout, out.Stderr)
	}
	if took := out.Timings["command"]; took > 5*time.Second {
		t.Fatalf("the command took %s (run %s)", took, time.Since(start))
	}
}

// TestRunPrivateTooLarge checks the cap on Job.Private.
func TestRunPrivateTooLarge(t *testing.T) {
	d := MustOpen(t)
	_, err := d.Run(t.Context(), grader.Job{ID: "too-large", Command: sh("true"), Private: make([]byte, grader.MaxPrivateBytes+1)})
	if grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("err %v, want %s", err, grader.ETOOLARGE)
	}
}

// TestRunReportFolderReserved checks that the workspace cannot carry a
// report (the init refuses the report's folder), and that the signature
// file written by the command comes back.
func TestRunReportFolderReserved(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{
		Command: sh(`ls -A .djgrade 2>/dev/null; test -e .djgrade && echo present
mkdir -p .djgrade && printf '{"version":1}' > .djgrade/report.json && printf 'abc' > .djgrade/report.json.sig`),
		Workspace: tarOf(t,
			grader.File{Path: ".djgrade/report.json", Data: []byte(`{"forged":true}`)},
			grader.File{Path: ".djgrade/report.json.sig", Data: []byte("forged")},
			grader.File{Path: "app/x.py", Data: []byte("x = 1\n")}),
		ReportPath: grader.ReportPath,
		Limits:     grader.Limits{Timeout: 30 * time.Second},
	})
	if len(out.Stdout) != 0 {
		t.Fatalf("a report from the workspace reached the command: %q", out.Stdout)
	}
	if string(out.Report) != `{"version":1}` || string(out.ReportSignature) != "abc" {
		t.Fatalf("report %q signature %q", out.Report, out.ReportSignature)
	}
}
