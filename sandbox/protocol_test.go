package sandbox

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestParseJudgeEnvelope(t *testing.T) {
	rep := base64.StdEncoding.EncodeToString([]byte(`{"version":2}`))
	good := `{"version":2,"nonce":"n1","exit_code":1,"report":"` + rep + `","log":"","timings_ms":{}}`
	e, err := parseJudgeEnvelope([]byte("noise\n"+good+"\n"), "n1")
	if err != nil || string(e.report) != `{"version":2}` || e.ExitCode != 1 {
		t.Fatalf("%+v %v", e, err)
	}
	for name, out := range map[string]string{
		"other nonce": good,
		"not last":    good + "\ntrailing",
		"empty":       "",
		"bad json":    "{",
	} {
		nonce := "n2"
		if name != "other nonce" {
			nonce = "n1"
		}
		if _, err := parseJudgeEnvelope([]byte(out), nonce); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Every byte the candidate's container writes counts, protocol lines of
// the run are taken out, and the cap fires once.
func TestCandidateLog(t *testing.T) {
	fired := 0
	l := &candidateLog{nonce: "abc", cap: 100, over: func() { fired++ }}
	out, errw := l.streams()
	pub := base64.StdEncoding.EncodeToString([]byte(`{"tests":[]}`))
	out.Write([]byte("hello\nDJGRADE-PUBLIC abc " + pub + "\nDJGRADE-PUBLIC zzz " + pub + "\n"))
	errw.Write([]byte("DJGRADE-STATUS abc {\"oom_kills\":1}\n"))
	out.flush()
	errw.flush()
	if string(l.public) != `{"tests":[]}` {
		t.Errorf("public %q", l.public)
	}
	if l.status != nil {
		t.Errorf("a status line on stderr was taken")
	}
	if !strings.Contains(l.log.String(), "zzz") || strings.Contains(l.log.String(), "PUBLIC abc") {
		t.Errorf("log %q", l.log.String())
	}
	out.Write(bytes.Repeat([]byte("y"), 500))
	out.Write(bytes.Repeat([]byte("y\n"), 500))
	if fired != 1 || l.log.Len() != 100 {
		t.Errorf("fired %d, kept %d", fired, l.log.Len())
	}
	// A line that never ends still counts, in pieces.
	l2 := &candidateLog{nonce: "abc", cap: 1 << 20, over: func() { fired++ }}
	o2, _ := l2.streams()
	o2.Write(bytes.Repeat([]byte("z"), 3<<20))
	if fired != 2 {
		t.Errorf("an endless line did not trip the cap (n=%d)", l2.n)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{n: 4}
	b.Write([]byte("ab"))
	b.Write([]byte("cdef"))
	b.Write([]byte("g"))
	if got := string(b.bytes()); got != "defg" {
		t.Fatalf("got %q", got)
	}
}

func TestCappedBuffer(t *testing.T) {
	b := &cappedBuffer{n: 4}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := string(b.bytes()); got != "abcd" || b.dropped != 3 {
		t.Fatalf("got %q dropped %d", got, b.dropped)
	}
}

// The protocol needs no engine: over two pipes, a stand-in for the judge's
// init reads its config line and workspace as the real one does and
// answers with noise and an envelope, which Run's reader takes back.
func TestProtocolOverPipe(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	workspace := bytes.Repeat([]byte("tar\x00\n\xff"), 50000) // longer than a pipe write, with newlines
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	judgeErr := make(chan error, 1)
	go func() { // the judge's init
		defer stdoutW.Close()
		in := bufio.NewReader(stdinR)
		var warm judgeWarm
		var cfg judgeJob
		for _, into := range []any{&warm, &cfg} {
			line, err := in.ReadBytes('\n')
			if err != nil {
				judgeErr <- err
				return
			}
			if err := json.Unmarshal(line, into); err != nil {
				judgeErr <- err
				return
			}
		}
		ws, err := io.ReadAll(in)
		if err != nil || !bytes.Equal(ws, workspace) {
			judgeErr <- fmt.Errorf("workspace: %d bytes, %v", len(ws), err)
			return
		}
		report := b64([]byte(fmt.Sprintf(`{"seed":%d,"settings":%q}`, cfg.Seed, cfg.Settings)))
		fmt.Fprintf(stdoutW, "pg_ctl: server started\n{\"version\":%d,\"nonce\":%q,\"exit_code\":1,\"report\":%q,\"log\":%q,\"timings_ms\":{\"checks\":7}}\n",
			envelopeV, warm.Nonce, report, b64([]byte("1 failed")))
		judgeErr <- nil
	}()

	warm, err := configLine(judgeWarm{Nonce: "n-123", AppPassword: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	line, err := configLine(judgeJob{Seed: 42, Settings: "shop.settings"})
	if err != nil {
		t.Fatal(err)
	}
	fed := make(chan error, 1)
	go func() {
		// The warm line goes when the container starts, the job line and
		// the workspace when the job comes.
		if _, err := stdinW.Write(warm); err != nil {
			fed <- err
			return
		}
		fed <- feed(stdinW, line, bytes.NewReader(workspace))
		stdinW.Close()
	}()
	out := newJudgeOutput()
	if _, err := io.Copy(out.stdout, stdoutR); err != nil {
		t.Fatal(err)
	}
	if err := <-fed; err != nil {
		t.Fatalf("feed: %v", err)
	}
	if err := <-judgeErr; err != nil {
		t.Fatalf("judge: %v", err)
	}
	env, err := out.envelope("n-123")
	if err != nil {
		t.Fatal(err)
	}
	if string(env.report) != `{"seed":42,"settings":"shop.settings"}` || string(env.log) != "1 failed" ||
		env.ExitCode != 1 || env.TimingsMS.Checks != 7 {
		t.Fatalf("envelope %+v report %q log %q", env, env.report, env.log)
	}
	if _, err := out.envelope("n-other"); err == nil {
		t.Fatal("another run's envelope was accepted")
	}
}

// feed stops at the first failed write and says so: a container that went
// away mid-workspace must not hang its feeder.
func TestFeedClosedReader(t *testing.T) {
	r, w := io.Pipe()
	go func() {
		in := bufio.NewReader(r)
		in.ReadBytes('\n')
		r.CloseWithError(errors.New("container gone"))
	}()
	err := feed(w, []byte("{}\n"), bytes.NewReader(make([]byte, 1<<20)))
	if err == nil || !strings.Contains(err.Error(), "container gone") {
		t.Fatalf("feed: %v", err)
	}
	// Without a workspace only the line goes.
	var buf bytes.Buffer
	line, _ := configLine(map[string]int{"a": 1})
	if err := feed(&buf, line, nil); err != nil || buf.String() != "{\"a\":1}\n" {
		t.Fatalf("feed %q %v", buf.String(), err)
	}
}

// The candidate's protocol lines are found whatever the transport's chunks:
// here a pipe carrying the agent's stdout a few bytes at a time.
func TestCandidateLogOverPipe(t *testing.T) {
	pub := base64.StdEncoding.EncodeToString([]byte(`{"passed":3}`))
	agent := "booting\nDJGRADE-STATUS n9 {\"oom_kills\":0,\"pid_limit_hits\":2}\nDJGRADE-PUBLIC n9 " + pub + "\ntail without newline"
	r, w := io.Pipe()
	go func() {
		for i := 0; i < len(agent); i += 5 {
			w.Write([]byte(agent[i:min(i+5, len(agent))]))
		}
		w.Close()
	}()
	l := &candidateLog{nonce: "n9", cap: 1 << 20}
	out, _ := l.streams()
	if _, err := io.Copy(out, r); err != nil {
		t.Fatal(err)
	}
	out.flush()
	if string(l.public) != `{"passed":3}` || l.status == nil || l.status.PidLimitHits != 2 {
		t.Fatalf("public %q status %+v", l.public, l.status)
	}
	if got := l.log.String(); got != "booting\ntail without newline" {
		t.Fatalf("log %q", got)
	}
}
