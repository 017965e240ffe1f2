package sandbox

// The protocol between Run and the two in-container inits
// (sandbox/image/python/djgrade_judge_init.py and djgrade_agent.py document
// the same; keep them in step).
//
// A run is a pair of containers from the same image:
//
//   - The judge: uid 10002, network none, its own pid namespace, entry
//     point djgrade_judge_init.py. Its stdin carries a warm line of JSON
//     (judgeWarm) when the container starts and, when a submission comes,
//     a job line (judgeJob) and a tar of the judge's workspace (the
//     exercise's untouched starter and djgrade_hidden/). On the warm line
//     it starts PostgreSQL on its private socket and on 127.0.0.1:5432,
//     sets the app role's password and starts the checks' pytest importing
//     (djgrade_warm_pytest.py); on the job line it runs the hidden checks
//     and writes the envelope (judgeEnvelope) as the last line of its
//     stdout. Only the judge's processes can write there.
//   - The candidate: uid 10001, network "container:<judge>" (the judge's
//     loopback and nothing else), its own pid, mount and ipc namespaces,
//     entry point djgrade_agent.py. It starts its public tests' pytest
//     importing before it reads anything, then its stdin carries a warm
//     line (candidateWarm), a job line (candidateJob) and a tar of the
//     candidate's workspace. It runs the public tests (on the project's
//     own SQLite; a public-tests run is this container alone, network
//     none, and it ends here); for a grade it then
//     answers the judge on 127.0.0.1:8001 and serves the project on
//     127.0.0.1:8000. Everything it writes is the candidate's: Run counts
//     every byte of its stdout and stderr (pid 1's included) against
//     Limits.OutputBytes and kills it past that; the lines
//     "DJGRADE-PUBLIC <nonce> <base64 JSON>" and "DJGRADE-STATUS <nonce>
//     <JSON>" on its stdout are taken as the candidate container's
//     account of its public tests and of its cgroup counters, believed for
//     nothing that earns a point.
//
// Neither container's engine log is kept (log driver "none"): the streams
// reach only Run, through the attach connection.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

const (
	judgeUser     = "10002:10002"
	judgeEntry    = "/opt/djgrade/python/djgrade_judge_init.py"
	appPort       = 8000
	agentPort     = 8001
	envelopeV     = 2
	maxReport     = 8 << 20
	judgeLogCap   = 1 << 20
	maxPublicLine = 2 << 20
	// initStderrCap bounds the init's diagnostics that Run keeps.
	initStderrCap = 64 << 10
)

// Each container's stdin carries two config lines before its workspace:
// the warm line, written when the container starts (ahead of any
// submission when the pool pre-starts it), and the job line, written with
// the workspace when a submission comes. A cold run writes both at once.

// judgeWarm is the judge's warm line: what it needs to start PostgreSQL.
type judgeWarm struct {
	Nonce       string `json:"nonce"`
	AppPassword string `json:"app_password"`
	// WarmLifetimeS ends a judge whose job line never comes (a server
	// that died with the pair in its pool).
	WarmLifetimeS float64 `json:"warm_lifetime_s"`
}

// judgeJob is the judge's job line.
type judgeJob struct {
	Seed        int64   `json:"seed"`
	TimeoutS    float64 `json:"timeout_s"`
	OutputBytes int64   `json:"output_bytes"`
	Settings    string  `json:"settings"`
	AppPort     int     `json:"app_port"`
	AgentPort   int     `json:"agent_port"`
	// Services the judge starts besides PostgreSQL ("redis").
	Services []string `json:"services"`
}

// candidateWarm is the candidate's warm line.
type candidateWarm struct {
	Nonce string `json:"nonce"`
	// DB is the judge's PostgreSQL as the app's role (empty for a
	// public-tests run, which has no judge).
	DB            map[string]string `json:"db"`
	WarmLifetimeS float64           `json:"warm_lifetime_s"`
}

// candidateJob is the candidate's job line.
type candidateJob struct {
	Settings string `json:"settings"`
	// RedisURL is the broker's URL for the app's Redis user ("" without one).
	RedisURL       string  `json:"redis_url"`
	Public         bool    `json:"public"`
	PublicTimeoutS float64 `json:"public_timeout_s"`
	// PublicOnly: run the public tests, report them and exit (the fast
	// path: no judge, no server).
	PublicOnly bool `json:"public_only"`
	// LifetimeS ends the candidate's container by itself if no grader
	// stops it (a server killed mid-run): the judge's timeout and grace.
	LifetimeS float64 `json:"lifetime_s"`
}

// The protocol is independent of the transport: feed writes a container's
// stdin to any io.Writer, judgeOutput and candidateLog read its stdout and
// stderr from any io.Writer's caller. Run carries them over the engine's
// attach connection (whose multiplexing, stdcopy, is the transport's).

// configLine encodes a container's config line (one of the four line
// types above) with its newline.
func configLine(config any) ([]byte, error) {
	b, err := json.Marshal(config)
	return append(b, '\n'), err
}

// feed writes the rest of a container's stdin after its warm line: the job
// line (with its newline), then the workspace's tar (none if workspace is
// nil). The caller closes w's write side after it, which ends the init's
// read of the workspace.
func feed(w io.Writer, line []byte, workspace io.Reader) error {
	if _, err := w.Write(line); err != nil {
		return err
	}
	if workspace == nil {
		return nil
	}
	_, err := io.Copy(w, workspace)
	return err
}

// judgeOutput is the judge container's two streams as Run keeps them: the
// end of stdout, whose last line is the envelope, and the start of stderr,
// the init's diagnostics for an error message.
type judgeOutput struct {
	stdout *tailBuffer
	stderr *cappedBuffer
}

func newJudgeOutput() *judgeOutput {
	return &judgeOutput{stdout: &tailBuffer{n: judgeStdoutCap}, stderr: &cappedBuffer{n: initStderrCap}}
}

// envelope decodes the envelope of the run with nonce from what stdout kept.
func (j *judgeOutput) envelope(nonce string) (*judgeEnvelope, error) {
	return parseJudgeEnvelope(j.stdout.bytes(), nonce)
}

// judgeEnvelope is the judge init's one line of JSON.
type judgeEnvelope struct {
	Version   int     `json:"version"`
	Nonce     string  `json:"nonce"`
	ExitCode  int     `json:"exit_code"`
	Timeout   bool    `json:"timeout"`
	Report    *string `json:"report"`
	Log       string  `json:"log"`
	Truncated bool    `json:"truncated"`
	Error     *string `json:"error"`
	ErrorKind string  `json:"error_kind"`
	TimingsMS struct {
		Extract  int64 `json:"extract"`
		Postgres int64 `json:"postgres"`
		Checks   int64 `json:"checks"`
	} `json:"timings_ms"`

	report, log []byte
}

// parseJudgeEnvelope decodes the last line of the judge's stdout.
func parseJudgeEnvelope(out []byte, nonce string) (*judgeEnvelope, error) {
	line := bytes.TrimRight(out, "\n")
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if len(line) == 0 {
		return nil, errors.New("no envelope")
	}
	var e judgeEnvelope
	if err := json.Unmarshal(line, &e); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if e.Version != envelopeV {
		return nil, fmt.Errorf("envelope version %d, want %d", e.Version, envelopeV)
	}
	if e.Nonce != nonce {
		return nil, errors.New("envelope of another run")
	}
	var err error
	if e.log, err = base64.StdEncoding.DecodeString(e.Log); err != nil {
		return nil, fmt.Errorf("envelope log: %w", err)
	}
	if e.Report != nil {
		if e.report, err = base64.StdEncoding.DecodeString(*e.Report); err != nil {
			return nil, fmt.Errorf("envelope report: %w", err)
		}
	}
	return &e, nil
}

// judgeStdoutCap bounds what Run keeps of the judge's stdout: the envelope
// with its report and log base64-encoded, and room around it.
const judgeStdoutCap = (maxReport+judgeLogCap)*4/3 + 64<<10

// candidateStatus is the agent's account of the candidate's cgroup.
type candidateStatus struct {
	OOMKills     int64 `json:"oom_kills"`
	PidLimitHits int64 `json:"pid_limit_hits"`
}

// candidateLog is the candidate container's output: every byte of its
// stdout and stderr (whichever process wrote it) counts against cap, and
// over is called once when the count passes it. The protocol lines on
// stdout are taken out of the log. stdcopy writes both streams from one
// goroutine, so no lock is needed.
type candidateLog struct {
	nonce  string
	cap    int64
	over   func()
	log    bytes.Buffer
	n      int64
	fired  bool
	public []byte
	status *candidateStatus
}

// stream is one of the container's two streams, split into lines.
type stream struct {
	l     *candidateLog
	isOut bool
	line  []byte
}

func (l *candidateLog) streams() (stdout, stderr *stream) {
	return &stream{l: l, isOut: true}, &stream{l: l}
}

func (s *stream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.line = append(s.line, p...)
			if len(s.line) > maxPublicLine { // no protocol line is this long
				s.l.keep(s.line)
				s.line = s.line[:0]
			}
			break
		}
		s.line = append(s.line, p[:i+1]...)
		s.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (s *stream) endLine() {
	if !(s.isOut && s.l.protocol(s.line)) {
		s.l.keep(s.line)
	}
	s.line = s.line[:0]
}

// flush keeps a last unterminated line.
func (s *stream) flush() {
	if len(s.line) > 0 {
		s.endLine()
	}
}

// protocol takes a DJGRADE-PUBLIC or DJGRADE-STATUS line of this run (the
// first of each kind only) and reports whether it did.
func (l *candidateLog) protocol(line []byte) bool {
	text := bytes.TrimRight(line, "\n")
	if l.nonce == "" {
		return false
	}
	if body, ok := bytes.CutPrefix(text, []byte("DJGRADE-PUBLIC "+l.nonce+" ")); ok && l.public == nil {
		data, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return false
		}
		l.public = data
		return true
	}
	if body, ok := bytes.CutPrefix(text, []byte("DJGRADE-STATUS "+l.nonce+" ")); ok && l.status == nil {
		var st candidateStatus
		if json.Unmarshal(body, &st) != nil {
			return false
		}
		l.status = &st
		return true
	}
	return false
}

func (l *candidateLog) keep(b []byte) {
	l.n += int64(len(b))
	if room := l.cap - int64(l.log.Len()); room > 0 {
		l.log.Write(b[:min(int64(len(b)), room)])
	}
	if l.n > l.cap && !l.fired {
		l.fired = true
		if l.over != nil {
			l.over()
		}
	}
}

// tailBuffer keeps the last n bytes written (in at most 2n of memory): the
// envelope is the end of the init's stream, whatever came before it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	n   int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.n {
		t.buf = append(t.buf[:0], p[len(p)-t.n:]...)
		return len(p), nil
	}
	if len(t.buf)+len(p) > 2*t.n {
		keep := t.n - len(p)
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) > t.n {
		return append([]byte(nil), t.buf[len(t.buf)-t.n:]...)
	}
	return append([]byte(nil), t.buf...)
}

// cappedBuffer keeps the first n bytes written and counts the rest. It never
// fails a write: the stream must keep draining, or the container would block
// writing and only the outer timeout would end it.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     []byte
	n       int
	dropped int64
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.n - len(c.buf)
	if room >= len(p) {
		c.buf = append(c.buf, p...)
	} else {
		if room > 0 {
			c.buf = append(c.buf, p[:room]...)
		}
		c.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

func (c *cappedBuffer) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}
