package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/djgrade/djgrade/sandbox"
)

// testImage is the sandbox image every test runs; TestMain builds it once
// (EnsureImage caches by tag, so only a first run on a machine is slow).
var testImage string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	d, err := sandbox.New(sandbox.Options{Instance: "test-main"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	t := time.Now()
	testImage, err = d.EnsureImage(ctx, sandbox.BuildOptions{}, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ensure image:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "image %s ensured in %s\n", testImage, time.Since(t).Round(time.Millisecond))
	return m.Run()
}
