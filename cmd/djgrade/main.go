// Command djgrade grades Django and Django REST Framework exercises in
// throwaway Docker containers. It serves the HTTP API (serve), grades a
// folder or archive locally (grade), lists and validates the exercise catalog
// (exercises), and builds the sandbox image (image build).
//
// Every flag can also be set by an environment variable (DJGRADE_<NAME>); a
// flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a process exit code with a message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run executes one command line and returns the process exit code: 0 on
// success (and for --help), 1 when the operation failed, 2 on a usage
// mistake, 3 when grading or validation found a wrong result.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	var help *helpShown
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "djgrade:", ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintln(stderr, "djgrade:", describe(err))
		return 1
	}
}

// describe renders an error for people: the application message, with the
// cause when there is one.
func describe(err error) string {
	var e grader.CodedError
	if errors.As(err, &e) {
		if cause := errors.Unwrap(e); cause != nil {
			return e.ErrorMessage() + ": " + cause.Error()
		}
		return e.ErrorMessage()
	}
	return err.Error()
}

// catalogFlag adds --exercises: a folder to load the catalog from instead of
// the one built into the binary (for exercise authors).
func catalogFlag(fs *pflag.FlagSet) *string {
	return fs.String("exercises", "", "load exercises from this `DIR` instead of the built-in catalog")
}

func loadCatalog(dir string) (*exercises.Catalog, error) {
	if dir == "" {
		return exercises.Embedded()
	}
	return exercises.Load(os.DirFS(dir))
}

// openSandbox connects to the Docker Engine and makes sure the sandbox
// image exists, building it (with progress on progress) when it does not.
// pool says how many sandboxes to keep started ahead of demand (see
// sandbox.PoolOptions; Size 0 starts each one when its run comes).
func openSandbox(ctx context.Context, instance string, pool sandbox.PoolOptions, progress io.Writer) (*sandbox.Docker, string, error) {
	sb, err := sandbox.New(sandbox.Options{Instance: instance, Pool: pool})
	if err != nil {
		return nil, "", err
	}
	if err := sb.Ping(ctx); err != nil {
		sb.Close()
		return nil, "", err
	}
	tag, err := sb.EnsureImage(ctx, sandbox.BuildOptions{}, progress)
	if err != nil {
		sb.Close()
		return nil, "", err
	}
	return sb, tag, nil
}

// positiveInt is a flag.Value for an int that must be at least 1, or 0 for "default".
type positiveInt struct{ n *int }

func (p positiveInt) String() string {
	if p.n == nil {
		return "0"
	}
	return strconv.Itoa(*p.n)
}

// Type names the value in help.
func (p positiveInt) Type() string { return "int" }

func (p positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 256 {
		return errors.New("must be a whole number from 0 to 256")
	}
	*p.n = n
	return nil
}
