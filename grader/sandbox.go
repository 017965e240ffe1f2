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

// Job is one graded run: a pair of containers, the judge's and the
// candidate's, that share only a loopback network.
//
// The judge's container holds the judge's workspace (the exercise's
// untouched starter and its hidden checks, never a candidate file), runs
// PostgreSQL and the hidden checks, and writes the report on a stream only
// it can write. The candidate's container holds the candidate's workspace
// and serves it over HTTP; it never holds anything hidden.
type Job struct {
	// ID identifies the run (the submission id); it labels the containers.
	ID string
	// Image is the sandbox image both containers run.
	Image string
	// JudgeWorkspace is a tar stream of the judge's files.
	JudgeWorkspace io.Reader
	// Workspace is a tar stream of the candidate's project.
	Workspace io.Reader
	// Settings is the exercise's Django settings module.
	Settings string
	// Services are what the judge's container runs besides PostgreSQL.
	Services []string
	// Seed randomises the hidden checks' data; a result records it.
	Seed int64
	// Public runs the candidate's public tests in its own container.
	Public bool
	// PublicOnly runs only the candidate's public tests, in the
	// candidate's container alone (no judge, no hidden checks, no
	// server): the fast path for feedback. JudgeWorkspace is not used.
	PublicOnly bool
	// Limits bound the candidate's container; Timeout bounds the whole run.
	Limits Limits
}

// RunVerdict is how a run ended, as the sandbox saw it.
type RunVerdict string

// Run verdicts.
const (
	RunOK           RunVerdict = "ok" // the judge finished (whatever its checks found)
	RunTimeout      RunVerdict = "timeout"
	RunOOM          RunVerdict = "out_of_memory"
	RunOutputLimit  RunVerdict = "output_limit"
	RunProcessLimit RunVerdict = "process_limit"
	// RunCandidateExited: the candidate's container ended before the
	// judge was done (its code killed the agent or exited at import).
	RunCandidateExited RunVerdict = "candidate_exited"
)

// Outcome is what came back from one run. A candidate's crash is an
// Outcome; only an infrastructure failure is an error from Sandbox.Run.
type Outcome struct {
	Verdict RunVerdict
	// JudgeExit is the judge's pytest exit status.
	JudgeExit int
	// Report is the judge's report (see Report), nil if it wrote none.
	Report []byte
	// JudgeLog is the judge's pytest output, capped; staff only.
	JudgeLog []byte
	// CandidateLog is everything the candidate's container wrote (its
	// server, its commands, its public tests), capped at Limits.OutputBytes.
	CandidateLog []byte
	// Public is the candidate container's account of its public tests:
	// the candidate's own code talking, never believed for points.
	Public []byte
	// Truncated is set when a log was cut at its cap.
	Truncated bool
	// Timings of each phase, by name.
	Timings map[string]time.Duration
}

// Sandbox runs a job in isolation.
type Sandbox interface {
	Run(ctx context.Context, job Job) (Outcome, error)
}
