package sandbox

// The protocol between Run and the in-container init
// (sandbox/image/python/djgrade_init.py documents the same; keep both in step):
//
//   - Container environment: DJGRADE_REPORT_PATH (relative to /work, may be
//     empty), DJGRADE_OUTPUT_BYTES (cap on each of the command's stdout and
//     stderr), DJGRADE_TIMEOUT_S (the inner timeout of the command; Run
//     enforces a larger outer one), DJGRADE_POSTGRES=1 when the job wants a
//     database, plus Job.Env. The container's Cmd is Job.Command.
//   - stdin carries first a line with the run's nonce (random hex), then a
//     line with the length in bytes of Job.Private (decimal, 0 when there is
//     none, at most grader.MaxPrivateBytes), then exactly that many bytes,
//     then the workspace as a tar stream; the init unpacks it into /work,
//     refusing absolute paths, "..", links and devices, and the report's
//     folder (or the report and its .sig when the report path has no
//     folder): a report cannot exist before the command starts. Then it
//     closes stdin.
//   - The private bytes stay in the init's memory (it is non-dumpable). When
//     there are any, the command inherits the read end of a pipe as file
//     descriptor 3 (and DJGRADE_PRIVATE_FD=3); a thread of the init writes
//     the bytes into it and closes it. The write end is never inherited.
//   - With DJGRADE_POSTGRES=1 the init starts PostgreSQL on a unix socket in
//     /tmp and exports DJGRADE_DB_ENGINE, _HOST, _PORT, _NAME and _USER.
//   - The command runs in its own process group, output through pipes, killed
//     at the inner timeout or when either stream goes over its cap.
//   - The init's stdout is exactly one line of JSON, the envelope below,
//     written last and preceded by a newline; the command's own output is
//     inside it, base64-encoded, and so are the report and the file at the
//     report path + ".sig" (report_sig), each read without following links
//     or opening anything but a regular file. The container's stderr is
//     diagnostics.
//
// The command runs as the same uid as the engine's tini (pid 1), whose stdout
// is the container's stdout as well, so it can write lines there through
// /proc/1/fd/1. It cannot forge the envelope: the envelope must carry the
// nonce, which only the init ever saw (it left stdin before the command
// started), and it is the last line, written after the init killed every
// other process of the uid. Run keeps the tail of the stream, so flooding it
// cannot push the envelope out either.

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Environment variables of the protocol.
const (
	// EnvReportPath is the report file, relative to /work.
	EnvReportPath = "DJGRADE_REPORT_PATH"
	// EnvOutputBytes caps each of the command's stdout and stderr.
	EnvOutputBytes = "DJGRADE_OUTPUT_BYTES"
	// EnvTimeout is the inner timeout of the command, in seconds.
	EnvTimeout = "DJGRADE_TIMEOUT_S"
	// EnvPostgres, set to 1, starts PostgreSQL before the command.
	EnvPostgres = "DJGRADE_POSTGRES"
	// EnvPrivateFD is set by the init, for the command, to the descriptor
	// that carries Job.Private (always 3).
	EnvPrivateFD = "DJGRADE_PRIVATE_FD"
)

// SignatureSuffix is appended to the report path to name the file whose
// bytes come back as Outcome.ReportSignature.
const SignatureSuffix = ".sig"

// maxSignatureBytes is the init's cap on the signature file; an HMAC-SHA256
// in hex is 64 bytes.
const maxSignatureBytes = 1 << 10

// envelopeVersion is the envelope version this package reads.
const envelopeVersion = 1

// maxReportBytes is the init's cap on the report file.
const maxReportBytes = 8 << 20

// envelope is the init's one line of JSON.
type envelope struct {
	Version      int     `json:"version"`
	Nonce        string  `json:"nonce"`
	ExitCode     int     `json:"exit_code"`
	Signal       *int    `json:"signal"`
	Timeout      bool    `json:"timeout"`
	OutputLimit  bool    `json:"output_limit"`
	ProcessLimit bool    `json:"process_limit"`
	OOMKill      bool    `json:"oom_kill"`
	Stdout       string  `json:"stdout"`
	Stderr       string  `json:"stderr"`
	Truncated    bool    `json:"truncated"`
	Report       *string `json:"report"`
	ReportSig    *string `json:"report_sig"`
	Error        *string `json:"error"`
	ErrorKind    string  `json:"error_kind"`
	TimingsMS    struct {
		Extract  int64 `json:"extract"`
		Postgres int64 `json:"postgres"`
		Run      int64 `json:"run"`
	} `json:"timings_ms"`

	// Decoded forms of the base64 fields.
	stdout, stderr, report, reportSig []byte
}

// parseEnvelope decodes the envelope from the container's stdout: its last
// line, which must be one JSON object carrying nonce. Anything else means
// the init did not finish its job.
func parseEnvelope(out []byte, nonce string) (*envelope, error) {
	line := bytes.TrimRight(out, "\n")
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if len(line) == 0 {
		return nil, errors.New("no envelope")
	}
	var e envelope
	if err := json.Unmarshal(line, &e); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if e.Version != envelopeVersion {
		return nil, fmt.Errorf("envelope version %d, want %d", e.Version, envelopeVersion)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(e.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("envelope has the wrong nonce")
	}
	var err error
	if e.stdout, err = base64.StdEncoding.DecodeString(e.Stdout); err != nil {
		return nil, fmt.Errorf("envelope stdout: %w", err)
	}
	if e.stderr, err = base64.StdEncoding.DecodeString(e.Stderr); err != nil {
		return nil, fmt.Errorf("envelope stderr: %w", err)
	}
	if e.Report != nil {
		if e.report, err = base64.StdEncoding.DecodeString(*e.Report); err != nil {
			return nil, fmt.Errorf("envelope report: %w", err)
		}
	}
	if e.ReportSig != nil {
		if e.reportSig, err = base64.StdEncoding.DecodeString(*e.ReportSig); err != nil {
			return nil, fmt.Errorf("envelope report_sig: %w", err)
		}
	}
	return &e, nil
}

// envelopeCap bounds the container's stdout that Run keeps: the envelope of
// a run whose output and report are at their caps, base64-encoded, with room
// for the JSON around them. Anything longer is not a well-formed envelope.
func envelopeCap(outputBytes int64) int64 {
	return (2*outputBytes+maxReportBytes+maxSignatureBytes)*4/3 + 64<<10
}
