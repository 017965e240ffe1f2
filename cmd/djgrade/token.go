package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// bootstrapAdmin makes the operator's DJGRADE_ADMIN_TOKEN an admin token of
// the store (its hash only), so that a fresh deployment has someone who can
// issue the other tokens. An empty secret does nothing; a short one is
// refused, because it would be guessable.
func bootstrapAdmin(ctx context.Context, store *bolt.Store, secret string, log *slog.Logger, announce io.Writer) error {
	if secret == "" {
		// A new store with no token at all could never be used: make the
		// first admin token and show its secret this once.
		tokens, err := store.Tokens(ctx)
		if err != nil || len(tokens) > 0 {
			return err
		}
		secret = grader.NewSecret()
		if err := store.CreateToken(ctx, &grader.Token{Name: "first admin", Role: grader.RoleAdmin, Hash: grader.HashSecret(secret)}); err != nil {
			return err
		}
		fmt.Fprintf(announce, "djgrade: a new store: created the first admin token (shown once, keep it):\n\n    %s\n\n", secret)
		return nil
	}
	if len(secret) < grader.MinTokenLen {
		return grader.Errorf(grader.EINVALID, "DJGRADE_ADMIN_TOKEN must be at least %d characters", grader.MinTokenLen)
	}
	if _, err := store.TokenBySecret(ctx, secret); err == nil {
		return nil
	}
	err := store.CreateToken(ctx, &grader.Token{Name: "bootstrap admin", Role: grader.RoleAdmin, Hash: grader.HashSecret(secret)})
	if grader.ErrorCode(err) == grader.ECONFLICT {
		// Stored but revoked: an admin chose to retire it; keep it so.
		log.Warn("DJGRADE_ADMIN_TOKEN was revoked; it stays revoked")
		return nil
	}
	if err == nil {
		log.Info("bootstrap admin token stored (its hash only)")
	}
	return err
}

const tokenUsage = `token create --role admin|interviewer|candidate [--name N] [--data DIR | --server URL --token T]
       djgrade token list [--data DIR | --server URL --token T]
       djgrade token revoke ID [--data DIR | --server URL --token T]

With --data (the default) the command opens the store directly, which
bbolt allows to one process at a time: stop the server first, or pass
--server and an admin --token to go through the running server's API.`

// runToken manages API tokens. A new token's secret is printed once, on
// stdout, and never stored.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" && args[0] != "list" && args[0] != "revoke" {
		return &exitError{2, "usage: djgrade " + tokenUsage}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("token "+sub, tokenUsage, stderr)
	role := fs.String("role", "", "role of the new token: admin, interviewer or candidate")
	name := fs.String("name", "", "a name to recognise the token by")
	data := fs.String("data", "./data", "folder of the store ("+DBName+")")
	server := fs.String("server", "", "URL of a running djgrade (instead of --data)")
	adminToken := fs.String("token", "", "an admin token for --server")
	var id string
	if sub == "revoke" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if sub == "revoke" && id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if sub == "revoke" && id == "" {
		return &exitError{2, "usage: djgrade token revoke ID"}
	}
	if sub == "create" && !grader.Role(*role).Valid() {
		return &exitError{2, "--role must be admin, interviewer or candidate"}
	}
	if *server != "" {
		return tokenViaAPI(ctx, sub, *server, *adminToken, grader.Role(*role), *name, id, stdout)
	}
	store, err := bolt.Open(filepath.Join(*data, DBName))
	if err != nil {
		if grader.ErrorCode(err) == grader.EUNAVAILABLE {
			return fmt.Errorf("%s: stop the server, or use --server URL --token ADMIN_TOKEN", describe(err))
		}
		return err
	}
	defer store.Close()
	switch sub {
	case "create":
		n, err := grader.CleanTokenName(*name)
		if err != nil {
			return err
		}
		secret := grader.NewSecret()
		tok := &grader.Token{Name: n, Role: grader.Role(*role), Hash: grader.HashSecret(secret)}
		if err := store.CreateToken(ctx, tok); err != nil {
			return err
		}
		return printCreated(stdout, tok.ID, string(tok.Role), secret)
	case "list":
		list, err := store.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := "-"
			if t.Revoked() {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	default:
		if _, err := store.RevokeToken(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", id)
		return nil
	}
}

func printCreated(w io.Writer, id, role, secret string) error {
	_, err := fmt.Fprintf(w, "%s\n# id %s, role %s: this secret is shown once; store it now\n", secret, id, role)
	return err
}

// tokenViaAPI does the same through a running server's admin routes.
func tokenViaAPI(ctx context.Context, sub, server, admin string, role grader.Role, name, id string, stdout io.Writer) error {
	if admin == "" {
		return &exitError{2, "--server needs --token (an admin token)"}
	}
	base := strings.TrimRight(server, "/") + "/api/v1/tokens"
	var req *http.Request
	var err error
	switch sub {
	case "create":
		body, _ := json.Marshal(map[string]string{"role": string(role), "name": name})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case "list":
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	default:
		req, err = http.NewRequestWithContext(ctx, http.MethodDelete, base+"/"+id, nil)
	}
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("server answered %s: %s (%s)", res.Status, e.Error.Message, e.Error.Code)
	}
	if sub == "create" {
		var t struct{ ID, Role, Token string }
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		return printCreated(stdout, t.ID, t.Role, t.Token)
	}
	_, err = stdout.Write(append(data, '\n'))
	return err
}
