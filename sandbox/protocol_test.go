package sandbox

import (
	"bytes"
	"encoding/base64"
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
