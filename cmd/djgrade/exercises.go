package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

func runExercisesList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("exercises list", stderr)
	asJSON := fs.Bool("json", false, "print JSON for programs")
	dir := catalogFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	catalog, err := loadCatalog(*dir)
	if err != nil {
		return err
	}
	if *asJSON {
		list := grader.ExerciseListJSON{Exercises: []grader.ExerciseJSON{}}
		for _, ex := range catalog.Exercises() {
			list.Exercises = append(list.Exercises, grader.ExerciseSummaryJSON(ex))
		}
		return writeJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tDIFFICULTY\tTIME\tDATABASE\tPOINTS")
	for _, ex := range catalog.Exercises() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", ex.ID, ex.Title, ex.Difficulty, grader.FormatBudget(ex.TimeBudget), ex.Database, ex.MaxScore())
	}
	return tw.Flush()
}

func runExercisesValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("exercises validate", stderr)
	repeat := 1
	parallel := 2
	fs.Var(positiveInt{&repeat}, "repeat", "grade each answer N times; any difference between runs fails")
	fs.Var(positiveInt{&parallel}, "parallel", "grade up to N answers at once")
	asJSON := fs.Bool("json", false, "print JSON for programs")
	dir := catalogFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	catalog, err := loadCatalog(*dir)
	if err != nil {
		return err
	}
	var checks []grader.Check
	ids := fs.Args()
	if len(ids) == 0 {
		for _, ex := range catalog.Exercises() {
			ids = append(ids, ex.ID)
		}
	}
	for _, id := range ids {
		ex, err := catalog.Exercise(id)
		if err != nil {
			return &exitError{2, fmt.Sprintf("%s (known: %s)", grader.ErrorMessage(err), exerciseIDs(catalog))}
		}
		checks = append(checks, grader.Checks(ex)...)
	}
	sb, tag, err := openSandbox(ctx, "", sandbox.PoolOptions{Size: parallel}, stderr)
	if err != nil {
		return err
	}
	defer sb.Close()
	svc := grader.NewService(grader.Config{Sandbox: sb, Catalog: catalog, Image: tag})
	fmt.Fprintf(stderr, "djgrade: validating %d answers of %d exercises, %d run(s) each\n", len(checks), len(ids), repeat)
	n := 0
	rows, err := svc.Validate(ctx, catalog, checks, repeat, parallel, func(r grader.ValidationRow) {
		n++
		mark := "ok"
		if !r.OK {
			mark = "MISS"
		}
		fmt.Fprintf(stderr, "  [%d/%d] %-4s %s %s %s: %v\n", n, len(checks), mark, r.Exercise, r.Kind, r.Name, r.Scores)
	})
	if err != nil {
		return err
	}
	failed, misses := 0, ""
	for _, r := range rows {
		if !r.OK {
			failed++
			misses += fmt.Sprintf("\n  %s %s %s: %s", r.Exercise, r.Kind, r.Name, r.Problem)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EXERCISE\tKIND\tANSWER\tWANT\tSCORES\tVERDICT\tTIME/RUN\tRESULT")
		for _, r := range rows {
			res := "ok"
			if !r.OK {
				res = "MISS: " + r.Problem
			}
			verdict := ""
			if len(r.Verdicts) > 0 {
				verdict = string(r.Verdicts[0])
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d..%d\t%s\t%s\t%.1fs\t%s\n", r.Exercise, r.Kind, r.Name, r.Want.Min, r.Want.Max,
				strings.Trim(fmt.Sprint(r.Scores), "[]"), verdict, r.Took.Seconds(), res)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "\n%d answers checked, %d missed\n", len(rows), failed)
	}
	if failed > 0 {
		return &exitError{3, fmt.Sprintf("%d of %d answers landed outside their range:%s", failed, len(rows), misses)}
	}
	return nil
}
