package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// The command line is described once, in commands: every command's usage
// line, help and the list of a group's sub-commands are made from this table
// and from the flags the command's own flag set defines (newFlagSet), so
// that what help shows is what the command parses.

// command is one word of the command line: a group (subs) or a leaf (run).
type command struct {
	// name is the full path after "djgrade": "token list".
	name string
	// args is the positional part of the usage line: "PATH", "[ID...]".
	args    string
	summary string
	// about is printed after the usage line by --help.
	about string
	// run parses its own flags with newFlagSet(name, ...) and parse.
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	subs []*command
}

// commands is the root of the table, set in init (its entries' run
// functions look the table up for their help).
var commands *command

func init() {
	commands = &command{subs: []*command{
		{name: "serve", summary: "serve the HTTP API, the dashboard and the graders (creates the store if there is none)", run: runServe},
		{name: "grade", args: "PATH", summary: "grade a project folder, .zip, .tar.gz or .tgz locally, for practice and for exercise authors",
			about: "The built-in catalog is public: its hidden checks are in this binary. Exit 3 when the\nanswer did not pass.", run: runGrade},
		{name: "submit", args: "PATH", summary: "send a project folder, .zip, .tar.gz or .tgz to a djgrade server and wait for its result",
			about: "For candidates: the hidden checks stay on the server. Exit 0 when every hidden check\npassed, 3 when the answer was graded and did not pass, 1 when the server refused it\nor grading failed.", run: runSubmit},
		{name: "exercises", summary: "list, validate and create exercises", subs: []*command{
			{name: "exercises list", summary: "list the exercises: a table, or JSON with --json", run: runExercisesList},
			{name: "exercises validate", args: "[ID...]", summary: "grade every exercise's solutions and wrong answers and check their scores (exit 3 on a miss)", run: runExercisesValidate},
			{name: "exercises new", args: "ID", summary: "scaffold a small, valid exercise in DIR/ID for authors to change into theirs",
				about: "It loads with --exercises DIR and passes \"djgrade exercises validate --exercises DIR ID\".\nThe built-in catalog is public; interviews use a private one (serve --exercises DIR).", run: runExercisesNew},
		}},
		{name: "token", summary: "create, list and revoke API tokens", about: tokenAbout, subs: []*command{
			{name: "token create", summary: "create a token and print its secret once (creates the store if there is none)", about: tokenAbout, run: runTokenCreate},
			{name: "token list", summary: "list the tokens: a table, or JSON with --json", about: tokenAbout, run: runTokenList},
			{name: "token revoke", args: "ID", summary: "revoke a token", about: tokenAbout, run: runTokenRevoke},
		}},
		{name: "image", summary: "build the sandbox image (or the service's own image)", subs: []*command{
			{name: "image build", summary: "build the sandbox image if the one for these inputs is missing; print its tag", run: runImageBuild},
		}},
		{name: "takehome", summary: "take-home assignments on GitHub", subs: []*command{
			{name: "takehome create", summary: "create a candidate's repository from the starter, invite them, and record the take-home in the store", run: runTakeHomeCreate},
		}},
		{name: "backup", args: "FILE", summary: "write a consistent copy of the store to FILE, directly or through the running server", run: runBackup},
		{name: "bench", summary: "measure grading throughput and latency through the real service", run: runBench},
		{name: "version", summary: "print the version of this binary", run: runVersion},
	}}
}

// lookup finds a command by its full name.
func lookup(name string) *command {
	var walk func(c *command) *command
	walk = func(c *command) *command {
		if c.name == name {
			return c
		}
		for _, s := range c.subs {
			if f := walk(s); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(commands)
}

// word is the last word of a command's name: "list" of "token list".
func (c *command) word() string { return c.name[strings.LastIndex(c.name, " ")+1:] }

func (c *command) sub(word string) *command {
	for _, s := range c.subs {
		if s.word() == word {
			return s
		}
	}
	return nil
}

// helpShown is returned when help was asked for: run prints it on stdout
// and exits 0.
type helpShown struct{ text string }

func (h *helpShown) Error() string { return "help requested" }

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

// dispatch finds the command the words of args name and runs it with the
// rest. A group without a sub-command is a usage error that lists its
// sub-commands; "help CMD..." is "CMD... --help".
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "help" {
		if len(args) == 1 {
			return &helpShown{groupHelp(commands)}
		}
		return dispatch(ctx, append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
	}
	cmd := commands
	for cmd.run == nil {
		if len(args) == 0 {
			what := "a command is missing"
			if cmd.name != "" {
				what = cmd.name + " needs a sub-command"
			}
			return &exitError{2, fmt.Sprintf("%s (usage: djgrade %s)\n\n%s", what, strings.TrimSpace(cmd.name+" COMMAND"), groupHelp(cmd))}
		}
		if isHelp(args[0]) {
			return &helpShown{groupHelp(cmd)}
		}
		sub := cmd.sub(args[0])
		if sub == nil {
			return &exitError{2, fmt.Sprintf("unknown command %q\n\n%s", strings.TrimSpace(cmd.name+" "+args[0]), groupHelp(cmd))}
		}
		cmd, args = sub, args[1:]
	}
	return cmd.run(ctx, args, stdout, stderr)
}

// groupHelp lists a group's commands.
func groupHelp(c *command) string {
	var b strings.Builder
	if c == commands {
		b.WriteString("djgrade grades Django and DRF exercises in throwaway Docker containers.\n\n")
		b.WriteString("Usage: djgrade COMMAND [flags] [arguments]\n\nCommands:\n")
	} else {
		fmt.Fprintf(&b, "%s.\n\nUsage: djgrade %s COMMAND [flags] [arguments]\n\nCommands:\n", capitalise(c.summary), c.name)
	}
	width := 0
	for _, s := range c.subs {
		width = max(width, len(s.word()))
	}
	for _, s := range c.subs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, s.word(), s.summary)
	}
	if c.about != "" {
		fmt.Fprintf(&b, "\n%s\n", c.about)
	}
	fmt.Fprintf(&b, "\nRun \"djgrade %s --help\" for a command's flags. Every flag can also be set\n"+
		"with an environment variable named DJGRADE_ and the flag in capitals\n(--data: DJGRADE_DATA); a flag on the command line wins.\n"+
		"Exit codes: 0 success, 1 the operation failed, 2 usage error, 3 graded or\nvalidated, and the answer did not pass.\n",
		strings.TrimSpace(c.name+" COMMAND"))
	return b.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// newFlagSet returns the flag set of the command named name (a full name
// of the table). Its flags may come before or after the positional
// arguments; parse handles --help and the DJGRADE_* fallback.
func newFlagSet(name string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	fs.Usage = func() {}
	fs.SortFlags = false
	fs.SetInterspersed(true)
	return fs
}

// required marks flags as required in the usage line (the command checks
// them, with its own message).
func required(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, annRequired, []string{"true"}); err != nil {
			panic(err)
		}
	}
}

const annRequired = "djgrade-required"

// repeatable is implemented by flag values that may be given many times.
type repeatable interface{ repeatable() }

// valueName is what a flag's value is called in usage: the back-quoted word
// of its usage text, else its type in capitals.
func valueName(f *pflag.Flag) string {
	name, _ := pflag.UnquoteUsage(f)
	switch name {
	case "":
		return ""
	case "int", "uint":
		return "N"
	}
	return strings.ToUpper(name)
}

// usageLine is the command's synopsis: every flag, then its arguments.
func usageLine(fs *pflag.FlagSet) string {
	parts := []string{"djgrade", fs.Name()}
	fs.VisitAll(func(f *pflag.Flag) {
		s := "--" + f.Name
		if f.Shorthand == f.Name {
			s = "-" + f.Shorthand
		}
		if v := valueName(f); v != "" {
			s += " " + v
		}
		if _, ok := f.Annotations[annRequired]; !ok {
			s = "[" + s + "]"
		}
		if _, ok := f.Value.(repeatable); ok {
			s += "..."
		}
		parts = append(parts, s)
	})
	if c := lookup(fs.Name()); c != nil && c.args != "" {
		parts = append(parts, c.args)
	}
	return strings.Join(parts, " ")
}

// leafHelp is a command's --help: usage line, summary, flags.
func leafHelp(fs *pflag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", usageLine(fs))
	if c := lookup(fs.Name()); c != nil {
		fmt.Fprintf(&b, "\n%s.\n", capitalise(c.summary))
		if c.about != "" {
			fmt.Fprintf(&b, "\n%s\n", c.about)
		}
	}
	b.WriteString("\nFlags (each also settable as DJGRADE_<FLAG>, dashes as underscores):\n")
	b.WriteString(flagList(fs))
	return b.String()
}

// flagList lists a flag set's flags for help, one a line, each as the usage
// line spells it, with its text and default, then -h/--help.
func flagList(fs *pflag.FlagSet) string {
	type row struct{ left, right string }
	var rows []row
	fs.VisitAll(func(f *pflag.Flag) {
		left := "--" + f.Name
		switch {
		case f.Shorthand == f.Name:
			left = "-" + f.Name
		case f.Shorthand != "":
			left = "-" + f.Shorthand + ", --" + f.Name
		}
		if v := valueName(f); v != "" {
			left += " " + v
		}
		_, text := pflag.UnquoteUsage(f)
		switch f.DefValue {
		case "", "0", "0s", "false", "[]":
		default:
			if f.Value.Type() == "string" {
				text += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				text += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		rows = append(rows, row{left, text})
	})
	rows = append(rows, row{"-h, --help", "show this help"})
	width := 0
	for _, r := range rows {
		width = max(width, len(r.left))
	}
	width = min(width, 28)
	var b strings.Builder
	for _, r := range rows {
		lines := wrap(r.right, max(40, 96-width))
		if len(r.left) > width {
			fmt.Fprintf(&b, "  %s\n", r.left)
		} else {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, r.left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, "", l)
		}
	}
	return b.String()
}

// wrap breaks s into lines of at most n bytes, at spaces.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// parse parses args, first taking every flag not given from its
// DJGRADE_<NAME> environment variable (dashes become underscores). --help
// (-h) anywhere among the flags shows the command's help; a mistake is a
// usage error (exit 2) that shows the usage line.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return &helpShown{leafHelp(fs)}
		}
		return usageError(fs, err.Error())
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := "DJGRADE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(env)
		if f.Changed || !ok || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = &exitError{2, fmt.Sprintf("%s=%q: %v", env, v, e)}
		}
	})
	return err
}

// usageError is a usage mistake (exit 2) with the command's usage line.
func usageError(fs *pflag.FlagSet, msg string) error {
	return &exitError{2, fmt.Sprintf("%s\nusage: %s\nRun \"djgrade %s --help\" for its flags.", msg, usageLine(fs), fs.Name())}
}

// noArgs refuses positional arguments for a command that takes none.
func noArgs(fs *pflag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError(fs, fmt.Sprintf("%s takes no arguments (got %q)", fs.Name(), fs.Arg(0)))
	}
	return nil
}
