package grader

import (
	"context"
	"io"
	"time"
)

// Limits bound one sandboxed run. A zero field means "use the default".
type Limits struct {
	// Timeout is the wall-clock limit, after which the container is killed.
	Timeout time.Duration `json:"timeout"`
	// MemoryBytes is the memory limit; swap is not allowed.
	MemoryBytes int64 `json:"memory_bytes"`
	// CPUs is the number of CPUs the run may use (may be fractional).
	CPUs float64 `json:"cpus"`
	// Pids is the maximum number of processes and threads.
	Pids int64 `json:"pids"`
	// OpenFiles is the RLIMIT_NOFILE soft and hard limit.
	OpenFiles int64 `json:"open_files"`
	// ScratchBytes is the size of the writable scratch area (workspace and /tmp).
	ScratchBytes int64 `json:"scratch_bytes"`
	// OutputBytes caps stdout and stderr (each); more is an output-limit verdict.
	OutputBytes int64 `json:"output_bytes"`
}

// DefaultLimits suit a Django test run of an interview exercise.
var DefaultLimits = Limits{
	Timeout:      120 * time.Second,
	MemoryBytes:  768 << 20,
	CPUs:         1,
	Pids:         256,
	OpenFiles:    1024,
	ScratchBytes: 256 << 20,
	OutputBytes:  1 << 20,
}

// MaxLimits are the upper bounds an exercise manifest cannot exceed.
var MaxLimits = Limits{
	Timeout:      10 * time.Minute,
	MemoryBytes:  4 << 30,
	CPUs:         2,
	Pids:         1024,
	OpenFiles:    8192,
	ScratchBytes: 2 << 30,
	OutputBytes:  8 << 20,
}

// WithDefaults returns l with every zero field taken from DefaultLimits.
func (l Limits) WithDefaults() Limits { return DefaultLimits.Override(l) }

// Override returns l with every non-zero field of o in its place.
func (l Limits) Override(o Limits) Limits {
	if o.Timeout > 0 {
		l.Timeout = o.Timeout
	}
	if o.MemoryBytes > 0 {
		l.MemoryBytes = o.MemoryBytes
	}
	if o.CPUs > 0 {
		l.CPUs = o.CPUs
	}
	if o.Pids > 0 {
		l.Pids = o.Pids
	}
	if o.OpenFiles > 0 {
		l.OpenFiles = o.OpenFiles
	}
	if o.ScratchBytes > 0 {
		l.ScratchBytes = o.ScratchBytes
	}
	if o.OutputBytes > 0 {
		l.OutputBytes = o.OutputBytes
	}
	return l
}

// Job is one run in the sandbox.
type Job struct {
	// ID identifies the run (the submission id); it labels the container.
	ID string
	// Image is the sandbox image to run.
	Image string
	// Workspace is a tar stream unpacked into the working directory before
	// Command runs.
	Workspace io.Reader
	// Command runs in the workspace as the unprivileged sandbox user.
	Command []string
	// Env is extra environment for Command, as KEY=VALUE.
	Env []string
	// ReportPath is a path relative to the workspace whose contents, if the
	// command wrote it, come back as Outcome.Report.
	ReportPath string
	// Postgres starts a private PostgreSQL server inside the container before
	// Command and exports its settings as DJGRADE_DB_* environment variables.
	Postgres bool
	// Private are bytes Command reads from an inherited pipe, file descriptor
	// 3 (named by DJGRADE_PRIVATE_FD), and nowhere else: they are never
	// written to disk, to the environment or to the workspace. Grade sends the
	// run's report key and the hidden tests' sources this way. At most
	// MaxPrivateBytes; nil means Command gets no descriptor 3.
	Private []byte
	Limits  Limits
}

// MaxPrivateBytes caps Job.Private: the init holds it in memory.
const MaxPrivateBytes = 4 << 20

// RunVerdict is how the sandboxed process ended, as the sandbox saw it.
type RunVerdict string

// Run verdicts.
const (
	RunOK           RunVerdict = "ok" // exited by itself (with any exit code)
	RunTimeout      RunVerdict = "timeout"
	RunOOM          RunVerdict = "out_of_memory"
	RunOutputLimit  RunVerdict = "output_limit"
	RunProcessLimit RunVerdict = "process_limit"
)

// Outcome is what came back from one run. A candidate's crash is an
// Outcome; only an infrastructure failure is an error from Sandbox.Run.
type Outcome struct {
	ExitCode int
	Verdict  RunVerdict
	// Stdout and Stderr are the command's output, each capped at Limits.OutputBytes.
	Stdout, Stderr []byte
	// Truncated is set when output was cut at the cap.
	Truncated bool
	// Report holds the file at Job.ReportPath, or nil if it was not written.
	Report []byte
	// ReportSignature holds the file at Job.ReportPath + ".sig" (the
	// plugin's HMAC of Report), or nil if it was not written. Like Report it
	// comes from the candidate's side of the sandbox: only a check against
	// the run's key makes it mean anything.
	ReportSignature []byte
	// Timings of each phase, by name (create, attach, start, extract,
	// postgres, command, run, collect, remove).
	Timings map[string]time.Duration
}

// Sandbox runs a workspace in isolation.
type Sandbox interface {
	Run(ctx context.Context, job Job) (Outcome, error)
}
