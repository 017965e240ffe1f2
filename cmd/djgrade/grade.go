package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/sandbox"
)

// runGrade grades a folder or an archive locally, through the same sandbox
// and scoring as the service.
func runGrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("grade", stderr)
	exercise := fs.String("exercise", "", "the exercise `ID` (see: djgrade exercises list)")
	asJSON := fs.Bool("json", false, "print the result as JSON for programs")
	public := fs.Bool("public", false, "run only the exercise's public tests (the fast path: no hidden checks, no score)")
	details := fs.Bool("details", false, "also print hidden checks' failure messages (for exercise authors)")
	seed := fs.Int64("seed", 0, "the hidden checks' data `SEED` (a result's \"seed\"), to replay a run; 0 draws a new one")
	dir := catalogFlag(fs)
	required(fs, "exercise")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *seed < 0 {
		return &exitError{2, "--seed must be a positive number (a result's \"seed\")"}
	}
	if *exercise == "" || fs.NArg() != 1 {
		return usageError(fs, "grade needs --exercise ID and exactly one PATH")
	}
	catalog, err := loadCatalog(*dir)
	if err != nil {
		return err
	}
	ex, err := catalog.Exercise(*exercise)
	if err != nil {
		return &exitError{2, fmt.Sprintf("%s (known: %s)", grader.ErrorMessage(err), exerciseIDs(catalog))}
	}
	files, err := readSubmission(fs.Arg(0))
	if err != nil {
		return err
	}

	step := func(msg string) { fmt.Fprintf(stderr, "  · %s\n", msg) }
	fmt.Fprintf(stderr, "djgrade: grading %s against %q\n", fs.Arg(0), ex.ID)
	sb, tag, err := openSandbox(ctx, "", sandbox.PoolOptions{}, stderr)
	if err != nil {
		return err
	}
	defer sb.Close()
	svc := grader.NewService(grader.Config{Sandbox: sb, Catalog: catalog, Image: tag, Seed: *seed})
	start := time.Now()
	if *public {
		return runPublicTests(ctx, svc, ex, files, stdout, *asJSON, func() { step(fmt.Sprintf("done in %s", time.Since(start).Round(100*time.Millisecond))) })
	}
	res, err := svc.Grade(ctx, ex, files, "cli-"+ex.ID, step)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("done in %s", time.Since(start).Round(100*time.Millisecond)))

	if err := writeResult(stdout, ex.ID, res, *asJSON, *details); err != nil {
		return err
	}
	if res.Verdict != grader.VerdictPassed {
		return &exitError{3, ""}
	}
	return nil
}

// runPublicTests runs the public tests of files and prints their outcomes:
// all of it is the candidate's own code talking, so nothing is held back.
// It exits 3 unless every public test passed, like grade.
func runPublicTests(ctx context.Context, svc *grader.Service, ex *grader.Exercise, files []grader.File, stdout io.Writer, asJSON bool, done func()) error {
	run, err := svc.RunPublic(ctx, ex, files, "cli-public-"+ex.ID)
	if err != nil {
		return err
	}
	done()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "\n%s: %s (%s)\n\n", ex.ID, run.Verdict, run.Reason)
		for _, t := range run.Tests {
			fmt.Fprintf(stdout, "  %-8s %s\n", t.Outcome, t.Name)
			if t.Message != "" && t.Outcome != grader.OutcomePassed {
				fmt.Fprintf(stdout, "           %s\n", strings.TrimSpace(strings.SplitN(t.Message, "\n", 2)[0]))
			}
		}
		for _, r := range run.Refused {
			fmt.Fprintf(stdout, "  refused  %s: %s\n", r.Path, r.Reason)
		}
	}
	if run.Verdict != grader.VerdictPassed {
		return &exitError{3, ""}
	}
	return nil
}

// readSubmission reads a project folder or an archive.
func readSubmission(p string) ([]grader.File, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, &exitError{2, err.Error()}
	}
	if info.IsDir() {
		return archive.ReadDir(p, archive.DefaultLimits)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return archive.Read(f, archive.DefaultLimits)
}

func exerciseIDs(c grader.Catalog) string {
	var ids []string
	for _, ex := range c.Exercises() {
		ids = append(ids, ex.ID)
	}
	return strings.Join(ids, ", ")
}

// gradeJSON is what `grade --json` prints: the exercise and the result in
// the one schema of a result (grader.ResultJSON), as the API shows them.
type gradeJSON struct {
	Exercise string `json:"exercise"`
	grader.ResultJSON
}

// writeResult prints what the CLI's audience may see of res, as JSON or as
// a table: without details, no hidden check's message or node id, no judge
// log and only the candidate log's last lines.
func writeResult(w io.Writer, exercise string, res *grader.Result, asJSON, details bool) error {
	aud := grader.AudienceCLI
	if details {
		aud = grader.AudienceCLIDetails
	}
	view := res.View(aud).JSON()
	if !asJSON {
		printResult(w, view)
		return nil
	}
	return writeJSON(w, gradeJSON{Exercise: exercise, ResultJSON: view})
}

// printResult renders a result in the one JSON schema of a result (a CLI
// view of a local run, or the API's answer to `submit`) as a table for
// people; it shows only what its audience was given.
func printResult(w io.Writer, res grader.ResultJSON) {
	fmt.Fprintln(w)
	if len(res.Tests) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tCATEGORY\tOUTCOME\tPOINTS\tQUERIES\tTIME")
		for _, t := range res.Tests {
			points := "-"
			if t.Hidden {
				points = fmt.Sprintf("%d/%d", t.Points, t.MaxPoints)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.2fs\n", clip(t.Name, 70), t.Category, t.Outcome, points, t.Queries, t.Duration)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	score, maxScore, verdict := 0, 0, ""
	if res.Score != nil && res.MaxScore != nil && res.Verdict != nil {
		score, maxScore, verdict = *res.Score, *res.MaxScore, *res.Verdict
	}
	fmt.Fprintf(w, "Score: %d/%d  %s: %s\n", score, maxScore, strings.ToUpper(verdict), res.Reason)
	var cats []string
	for _, c := range res.Categories {
		cats = append(cats, fmt.Sprintf("%s %d/%d", c.Name, c.Score, c.MaxScore))
	}
	fmt.Fprintf(w, "By category: %s\n", strings.Join(cats, ", "))
	for _, r := range res.Refused {
		fmt.Fprintf(w, "Refused: %s (%s)\n", r.Path, r.Reason)
	}
	if len(res.FailedChecks) > 0 && len(res.Tests) == 0 {
		fmt.Fprintf(w, "Failed checks: %s\n", strings.Join(res.FailedChecks, "; "))
	}
	if verdict != string(grader.VerdictPassed) {
		for _, t := range res.Tests {
			if t.Outcome != grader.OutcomePassed && t.Message != "" {
				fmt.Fprintf(w, "\n--- %s (%s)\n%s\n", t.Name, t.Outcome, clipLines(t.Message, 25))
			}
		}
		if len(res.Tests) == 0 && res.Log != "" {
			fmt.Fprintf(w, "\n--- log (last lines)\n%s\n", tailLines(res.Log, grader.CLILogLines))
		}
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

func clipLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
