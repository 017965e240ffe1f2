package sandbox_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// An engine that accepts connections and never answers must not hold a
// worker: Run gives up within the setup timeout with an infrastructure error.
func TestRunWedgedEngine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "wedged.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	t.Setenv("DOCKER_API_VERSION", "1.41")
	d, err := sandbox.New(sandbox.Options{SetupTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	_, err = d.Run(context.Background(), grader.Job{ID: "wedged", Image: "any", Settings: "x.settings", Limits: grader.Limits{Timeout: time.Second}})
	took := time.Since(start)
	if grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Fatalf("err %v (code %s), want EUNAVAILABLE", err, grader.ErrorCode(err))
	}
	if took > 10*time.Second {
		t.Fatalf("Run took %s against a wedged engine", took)
	}
	t.Logf("gave up after %s: %v", took.Round(time.Millisecond), err)
}
