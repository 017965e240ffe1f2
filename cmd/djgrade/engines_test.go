package main

import (
	"context"
	"strings"
	"testing"
)

func TestParseEngineSpec(t *testing.T) {
	good := map[string]engineSpec{
		"unix:///var/run/docker.sock":                               {Host: "unix:///var/run/docker.sock", Capacity: 1, TLSVerify: true},
		"unix:///run/d2.sock,capacity=3,cpuset=1-3":                 {Host: "unix:///run/d2.sock", Capacity: 3, TLSVerify: true, CPUSet: "1-3"},
		"tcp://10.0.0.2:2376,tls=/etc/dj/e2":                        {Host: "tcp://10.0.0.2:2376", Capacity: 1, TLSDir: "/etc/dj/e2", TLSVerify: true},
		"tcp://e3:2376,tls=/c,tls-verify=false,capacity=8,cpuset=0": {Host: "tcp://e3:2376", Capacity: 8, TLSDir: "/c", CPUSet: "0"},
		"tcp://e4:2375": {Host: "tcp://e4:2375", Capacity: 1, TLSVerify: true},
	}
	for spec, want := range good {
		got, err := parseEngineSpec(spec)
		if err != nil || got != want {
			t.Errorf("parseEngineSpec(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                    "want unix:///PATH or tcp://HOST:PORT",
		"/var/run/docker.sock":                "want unix:///PATH or tcp://HOST:PORT",
		"http://e:2375":                       "want unix:///PATH or tcp://HOST:PORT",
		"tcp://e":                             "want tcp://HOST:PORT",
		"tcp://:2375":                         "want tcp://HOST:PORT",
		"unix:///s,capacity=0":                "capacity must be",
		"unix:///s,capacity=lots":             "capacity must be",
		"unix:///s,capacity=2,capacity=3":     "given twice",
		"unix:///s,cpus=2":                    "unknown option",
		"unix:///s,capacity":                  "not KEY=VALUE",
		"unix:///s,cpuset=3-1":                "cpuset",
		"unix:///s,cpuset=a":                  "cpuset",
		"tcp://e:2376,tls-verify=false":       "needs tls=DIR",
		"tcp://e:2376,tls=/c,tls-verify=mayb": "true or false",
		"unix:///s,tls=/c":                    "tls is for tcp://",
	}
	for spec, want := range bad {
		_, err := parseEngineSpec(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseEngineSpec(%q): %v, want an error with %q", spec, err, want)
		}
	}
}

// --engine repeats; one value (and DJGRADE_ENGINE) may hold several.
func TestEngineFlag(t *testing.T) {
	var l engineList
	for _, v := range []string{"unix:///a.sock,capacity=2", "tcp://b:2376,tls=/c; tcp://c:2376 unix:///d.sock"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	var hosts []string
	for _, e := range l {
		hosts = append(hosts, e.Host)
	}
	if got := strings.Join(hosts, " "); got != "unix:///a.sock tcp://b:2376 tcp://c:2376 unix:///d.sock" {
		t.Errorf("engines %s", got)
	}
	if err := l.Set("unix:///a.sock"); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a repeated engine: %v", err)
	}
	if err := l.Set(" ; "); err == nil {
		t.Error("an empty engine was accepted")
	}
}

// A bad --engine or DJGRADE_ENGINE is a usage error (exit 2) that names
// the problem, before anything starts.
func TestServeEngineUsageErrors(t *testing.T) {
	var stderr strings.Builder
	if code := run(context.Background(), []string{"serve", "--engine", "tcp://e:2376,capacity=0"}, &strings.Builder{}, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "capacity must be") {
		t.Errorf("stderr %q does not say what is wrong", stderr.String())
	}
	t.Setenv("DJGRADE_ENGINE", "unix:///a.sock;bogus://x")
	stderr.Reset()
	if code := run(context.Background(), []string{"serve"}, &strings.Builder{}, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "DJGRADE_ENGINE") || !strings.Contains(stderr.String(), "bogus://x") {
		t.Errorf("stderr %q does not name DJGRADE_ENGINE and the bad engine", stderr.String())
	}
}
