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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

const usage = `djgrade grades Django and DRF exercises in throwaway Docker containers.

Usage:
  djgrade serve      [--addr 127.0.0.1:8080] [--data ./data] [--concurrency N]
  djgrade grade      --exercise ID [--json] PATH      (PATH: a project folder, .zip, .tar.gz or .tgz)
  djgrade exercises  list [--json]
  djgrade exercises  validate [--repeat N] [--parallel N] [--json] [ID...]
  djgrade token      create --role admin|interviewer|candidate [--name N] [--data DIR | --server URL --token T]
  djgrade token      list|revoke ID [--data DIR | --server URL --token T]
  djgrade image      build [--rebuild] [--no-pull]
  djgrade takehome   create --exercise ID --candidate-login LOGIN --repo OWNER/NAME [--deadline RFC3339]
  djgrade backup     [--data ./data] [--server URL] FILE
  djgrade bench      [--exercise ID]... [-n N] [-c C] [--solution NAME] [--plain-runs K] [--plain-postgres] [--json]

Run "djgrade COMMAND -h" for a command's flags. Every flag can also be set
with an environment variable named DJGRADE_ and the flag in capitals
(--data: DJGRADE_DATA).
`

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
// success, 1 on an error, 2 on a usage mistake, 3 when grading or validation
// found a wrong result.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "grade":
		err = runGrade(ctx, rest, stdout, stderr)
	case "exercises":
		err = runExercises(ctx, rest, stdout, stderr)
	case "takehome":
		err = runTakeHome(ctx, rest, stdout, stderr)
	case "image":
		err = runImage(ctx, rest, stdout, stderr)
	case "backup":
		err = runBackup(ctx, rest, stdout, stderr)
	case "token":
		err = runToken(ctx, rest, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, stdout, stderr)
	default:
		err = &exitError{2, fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
	}
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
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

// newFlagSet returns a flag set whose flags fall back to DJGRADE_* variables
// (see applyEnv), printing its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: djgrade %s\n\nFlags (each also settable as DJGRADE_<FLAG>):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, first taking every flag not given from its
// DJGRADE_<NAME> environment variable (dashes become underscores).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{2, ""}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "DJGRADE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(env)
		if given[f.Name] || !ok || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = &exitError{2, fmt.Sprintf("%s=%q: %v", env, v, e)}
		}
	})
	return err
}

// catalogFlag adds --exercises: a folder to load the catalog from instead of
// the one built into the binary (for exercise authors).
func catalogFlag(fs *flag.FlagSet) *string {
	return fs.String("exercises", "", "load exercises from this folder instead of the built-in catalog")
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

func (p positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 256 {
		return errors.New("must be a whole number from 0 to 256")
	}
	*p.n = n
	return nil
}
