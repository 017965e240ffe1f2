package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// wantFlags is every leaf command's flags, as a person would list them: a
// command added to the table, or a flag added or removed, must show here.
var wantFlags = map[string][]string{
	"serve": {"addr", "data", "concurrency", "pool", "pool-idle", "log-format", "shutdown-grace", "engine",
		"github-api-url", "github-token", "github-app-id", "github-app-key-file", "github-app-installation", "github-webhook-secret", "github-link-url",
		"webhook-link-url", "webhook-deny-private", "webhook-deny-loopback", "exercises"},
	"grade":              {"exercise", "json", "public", "details", "seed", "exercises"},
	"submit":             {"server", "token", "exercise", "candidate", "wait", "json"},
	"exercises list":     {"json", "exercises"},
	"exercises validate": {"repeat", "parallel", "json", "exercises"},
	"exercises new":      {"dir"},
	"token create":       {"role", "name", "data", "server", "token", "json"},
	"token list":         {"data", "server", "token", "json"},
	"token revoke":       {"data", "server", "token", "json"},
	"image build":        {"rebuild", "no-pull", "service", "tag", "dockerfile"},
	"takehome create":    {"exercise", "candidate-login", "repo", "deadline", "data", "github-api-url", "github-token", "github-app-id", "github-app-key-file", "github-app-installation", "exercises"},
	"backup":             {"data", "server", "token"},
	"bench":              {"exercise", "n", "c", "solution", "plain-runs", "public-gap", "pool", "plain-postgres", "json", "exercises"},
	"version":            {"json"},
}

func allCommands() []*command {
	var out []*command
	var walk func(c *command)
	walk = func(c *command) {
		if c.name != "" {
			out = append(out, c)
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	walk(commands)
	return out
}

func runArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

var flagName = regexp.MustCompile(`(?:^|[\s\[,])--?([a-z][a-z0-9-]*)`)

// helpFlags reads the flags that a leaf's help lists under "Flags" and the
// ones its usage line shows.
func helpFlags(t *testing.T, help string) (listed, inUsage []string) {
	t.Helper()
	usage, rest, ok := strings.Cut(help, "\n")
	if !ok || !strings.HasPrefix(usage, "Usage: djgrade ") {
		t.Fatalf("help does not start with a usage line:\n%s", help)
	}
	for _, m := range flagName.FindAllStringSubmatch(usage, -1) {
		inUsage = append(inUsage, m[1])
	}
	_, flags, ok := strings.Cut(rest, "\nFlags")
	if !ok {
		t.Fatalf("help has no Flags section:\n%s", help)
	}
	for _, line := range strings.Split(flags, "\n")[1:] {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		left := strings.Fields(line)[0]
		if strings.HasSuffix(left, ",") { // -h, --help
			left = strings.Fields(line)[1]
		}
		listed = append(listed, strings.TrimLeft(left, "-"))
	}
	return listed, inUsage
}

// TestHelpEveryCommand walks the command table: --help, -h and "help CMD"
// exit 0 with the help on stdout for every command and group; a leaf's help
// lists exactly its flags and its usage line shows every one of them; a
// group's help lists its sub-commands.
func TestHelpEveryCommand(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range allCommands() {
		words := strings.Fields(c.name)
		var helps []string
		for _, args := range [][]string{append(slices.Clone(words), "--help"), append(slices.Clone(words), "-h"), append([]string{"help"}, words...)} {
			code, stdout, stderr := runArgs(args...)
			if code != 0 || stdout == "" || stderr != "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
				continue
			}
			helps = append(helps, stdout)
		}
		if len(helps) != 3 {
			continue
		}
		if helps[0] != helps[1] || helps[0] != helps[2] {
			t.Errorf("%s: --help, -h and help %s differ", c.name, c.name)
		}
		if c.run == nil {
			for _, s := range c.subs {
				if !strings.Contains(helps[0], "\n  "+s.word()+" ") {
					t.Errorf("%s --help does not list %q:\n%s", c.name, s.word(), helps[0])
				}
			}
			continue
		}
		seen[c.name] = true
		want, ok := wantFlags[c.name]
		if !ok {
			t.Errorf("%s: not in wantFlags", c.name)
			continue
		}
		listed, inUsage := helpFlags(t, helps[0])
		if !slices.Equal(listed, append(slices.Clone(want), "help")) {
			t.Errorf("%s --help lists flags %q, want %q", c.name, listed, want)
		}
		if !slices.Equal(inUsage, want) {
			t.Errorf("%s usage line shows %q, want every flag %q:\n%s", c.name, inUsage, want, helps[0])
		}
		// Help after other flags and after an argument, too.
		if code, _, stderr := runArgs(append(slices.Clone(words), "some-arg", "--help")...); code != 0 {
			t.Errorf("%s some-arg --help: exit %d: %s", c.name, code, stderr)
		}
	}
	for name := range wantFlags {
		if !seen[name] {
			t.Errorf("wantFlags has %q, which the table lacks", name)
		}
	}
}

// TestUsageExitCodes: a group without a sub-command lists them and exits
// 2; an unknown command or flag exits 2 with the usage line.
func TestUsageExitCodes(t *testing.T) {
	for _, c := range allCommands() {
		if c.run != nil {
			continue
		}
		code, stdout, stderr := runArgs(strings.Fields(c.name)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "needs a sub-command") || !strings.Contains(stderr, "\n  "+c.subs[0].word()+" ") {
			t.Errorf("%s: exit %d, stderr %q", c.name, code, stderr)
		}
	}
	if code, _, stderr := runArgs(); code != 2 || !strings.Contains(stderr, "Commands:") {
		t.Errorf("no command: exit %d, %q", code, stderr)
	}
	for _, args := range [][]string{
		{"frobnicate"},
		{"token", "frobnicate"},
		{"token", "list", "--role", "admin"}, // create's flag, not list's
		{"version", "--bogus"},
		{"version", "extra"},
		{"exercises", "list", "stray"},
		{"token", "revoke"},
	} {
		code, _, stderr := runArgs(args...)
		if code != 2 || !strings.Contains(stderr, "djgrade") {
			t.Errorf("%q: exit %d, want 2: %s", args, code, stderr)
		}
	}
	code, _, stderr := runArgs("token", "list", "--role", "admin")
	if !strings.Contains(stderr, "usage: djgrade token list [--data DIR]") {
		t.Errorf("exit %d, the usage line is missing: %s", code, stderr)
	}
}

// TestFlagsAfterArguments: flags may follow positional arguments, for
// every command that takes some.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nowhere")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "revoke", "tok_1", "--data", missing}, 1, "no store at " + filepath.Join(missing, DBName)},
		{[]string{"backup", filepath.Join(dir, "copy.db"), "--data", missing}, 1, "no store at " + filepath.Join(missing, DBName)},
		{[]string{"grade", dir, "--exercise", "no-such-exercise"}, 2, "no-such-exercise"},
		{[]string{"exercises", "validate", "no-such-exercise", "--repeat", "1"}, 2, "no-such-exercise"},
	} {
		code, _, stderr := runArgs(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d with %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, stdout, _ := runArgs("exercises", "list", "--json"); code != 0 || !strings.HasPrefix(stdout, "{") {
		t.Errorf("exercises list --json: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runArgs("version")
	if code != 0 || !strings.HasPrefix(stdout, "djgrade ") || !strings.Contains(stdout, "go1.") {
		t.Fatalf("exit %d, %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runArgs("version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(stdout), &v); code != 0 || err != nil || v.Version == "" || v.Module != "github.com/djgrade/djgrade" || v.Go == "" {
		t.Fatalf("exit %d, %v: %s", code, err, stdout)
	}
}

// TestTokenListNoStore: without a store, token list says so and exits 1,
// creating nothing (not ./data/djgrade.db either); token create makes the
// store; list prints the same table and JSON whether it reads the store or
// asks a server.
func TestTokenListNoStore(t *testing.T) {
	t.Chdir(t.TempDir())
	code, stdout, stderr := runArgs("token", "list")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no store at data/"+DBName) || !strings.Contains(stderr, "djgrade serve") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat("data"); !os.IsNotExist(err) {
		t.Fatalf("token list created ./data: %v", err)
	}
	if code, _, stderr := runArgs("token", "revoke", "x"); code != 1 || !strings.Contains(stderr, "no store") {
		t.Fatalf("revoke: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat("data"); !os.IsNotExist(err) {
		t.Fatalf("token revoke created ./data: %v", err)
	}

	code, created, stderr := runArgs("token", "create", "--role", "interviewer", "--name", "alice", "--json")
	var tok tokenJSON
	if err := json.Unmarshal([]byte(created), &tok); code != 0 || err != nil || tok.Secret == "" || tok.Role != "interviewer" {
		t.Fatalf("create: exit %d, %v, %s %s", code, err, created, stderr)
	}
	if !strings.Contains(stderr, "created a new store") {
		t.Errorf("create did not say it made a store: %q", stderr)
	}
	_, table, _ := runArgs("token", "list")
	code, direct, _ := runArgs("token", "list", "--json")
	var list tokenListJSON
	if err := json.Unmarshal([]byte(direct), &list); code != 0 || err != nil || len(list.Tokens) != 1 || list.Tokens[0].ID != tok.ID || list.Tokens[0].Name != "alice" {
		t.Fatalf("list --json: exit %d, %v: %s", code, err, direct)
	}
	if !strings.HasPrefix(table, "ID") || !strings.Contains(table, tok.ID) || !strings.Contains(table, "alice") {
		t.Fatalf("table:\n%s", table)
	}

	// A server answering what the API answers: the CLI's output is the same.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/tokens" || r.Header.Get("Authorization") != "Bearer admin-secret" {
			http.Error(w, `{"error":{"code":"not_found","message":"no"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(direct))
	}))
	defer srv.Close()
	_, viaTable, _ := runArgs("token", "list", "--server", srv.URL, "--token", "admin-secret")
	_, viaJSON, stderr := runArgs("token", "list", "--server", srv.URL, "--token", "admin-secret", "--json")
	if viaTable != table || viaJSON != direct {
		t.Fatalf("through the server:\n%s\n%s\nwant\n%s\n%s\n%s", viaTable, viaJSON, table, direct, stderr)
	}
}

// TestREADMECommandTableListsEveryFlag: the command table of README.md
// ("The command line") shows, for every leaf command, every flag its
// --help lists (wantFlags, which TestHelpEveryCommand ties to --help), so
// that a flag added to a command cannot be left out of the README.
func TestREADMECommandTableListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `djgrade ([^`]*)`")
	shown := map[string]map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		words := strings.Fields(m[1])
		// The command is the longest run of leading words that names one.
		name := ""
		for i := len(words); i > 0; i-- {
			if _, ok := wantFlags[strings.Join(words[:i], " ")]; ok {
				name = strings.Join(words[:i], " ")
				break
			}
		}
		if name == "" {
			continue
		}
		if shown[name] == nil {
			shown[name] = map[string]bool{}
		}
		for _, f := range flagName.FindAllStringSubmatch(m[1], -1) {
			shown[name][f[1]] = true
		}
	}
	for name, flags := range wantFlags {
		if shown[name] == nil {
			t.Errorf("README's command table has no row for djgrade %s", name)
			continue
		}
		for _, f := range flags {
			if !shown[name][f] {
				t.Errorf("README's row for djgrade %s does not show --%s", name, f)
			}
		}
	}
}
