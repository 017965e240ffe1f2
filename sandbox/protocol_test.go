package sandbox

import (
	"strings"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	good := `{"version":1,"nonce":"abc","exit_code":3,"signal":null,"timeout":false,"output_limit":true,"process_limit":false,"oom_kill":false,"stdout":"aGk=","stderr":"","truncated":true,"report":"e30=","error":null,"timings_ms":{"extract":1,"postgres":0,"run":5}}` + "\n"
	e, err := parseEnvelope([]byte("garbage\n{\"version\":1}\n"+good), "abc")
	if err != nil {
		t.Fatal(err)
	}
	if e.ExitCode != 3 || !e.OutputLimit || !e.Truncated || string(e.stdout) != "hi" || string(e.report) != "{}" || e.TimingsMS.Run != 5 {
		t.Fatalf("parsed %+v", e)
	}
	for name, bad := range map[string]string{
		"empty":       "",
		"wrong nonce": strings.Replace(good, `"abc"`, `"abd"`, 1),
		"no nonce":    strings.Replace(good, `"nonce":"abc",`, ``, 1),
		"after":       good + "{}\n",
		"not json":    "hello\n",
		"version":     strings.Replace(good, `"version":1`, `"version":2`, 1),
		"bad base64":  strings.Replace(good, `"aGk="`, `"!!"`, 1),
		"bad report":  strings.Replace(good, `"e30="`, `"%%"`, 1),
		"trailing":    strings.TrimSuffix(good, "\n") + "x",
		"truncated":   good[:40],
		"wrong types": strings.Replace(good, `"exit_code":3`, `"exit_code":"3"`, 1),
	} {
		if _, err := parseEnvelope([]byte(bad), "abc"); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{n: 4}
	for _, s := range []string{"ab", "cd", "e", "fghij", "k", "l"} {
		b.Write([]byte(s))
	}
	if got := string(b.bytes()); got != "ijkl" {
		t.Fatalf("tail %q, want ijkl", got)
	}
	if cap(b.buf) > 16 {
		t.Errorf("buffer grew to %d for n=4", cap(b.buf))
	}
}

func TestCappedBuffer(t *testing.T) {
	c := &cappedBuffer{n: 5}
	for _, s := range []string{"ab", "cde", "fgh"} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if string(c.bytes()) != "abcde" || c.dropped != 3 {
		t.Fatalf("kept %q dropped %d", c.bytes(), c.dropped)
	}
}
