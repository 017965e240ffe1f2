package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

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

const tokenAbout = `Without --server the command opens the store in --data directly, which
bbolt allows to one process at a time: stop the server first, or pass
--server URL and an admin --token to go through the running server's API.
Either way the output is the same.`

// storeFlags are the flags of the token commands that say where the store
// is: a folder (--data) or a running server (--server, --token).
type storeFlags struct{ data, server, token *string }

func addStoreFlags(fs *pflag.FlagSet) storeFlags {
	return storeFlags{
		data:   fs.String("data", "./data", "`DIR` of the store ("+DBName+")"),
		server: fs.String("server", "", "`URL` of a running djgrade to go through (instead of --data)"),
		token:  fs.String("token", "", "an admin `TOKEN` for --server"),
	}
}

// openStore opens the store of the token and take-home commands. Without
// create, a store that does not exist is an error that says how to make
// one, rather than a new empty store in a mistyped folder.
func openStore(data string, create bool, stderr io.Writer) (*bolt.Store, error) {
	path := filepath.Join(data, DBName)
	_, statErr := os.Stat(path)
	if errors.Is(statErr, os.ErrNotExist) && !create {
		return nil, &exitError{1, fmt.Sprintf("there is no store at %s: start the server once to create it (djgrade serve --data %s), pass --data DIR for the folder of an existing store, or --server URL --token ADMIN_TOKEN for a running server", path, data)}
	}
	store, err := bolt.Open(path)
	if err != nil {
		if grader.ErrorCode(err) == grader.EUNAVAILABLE {
			return nil, fmt.Errorf("%s: stop the server, or use --server URL --token ADMIN_TOKEN", describe(err))
		}
		return nil, err
	}
	if statErr != nil {
		fmt.Fprintf(stderr, "djgrade: created a new store at %s\n", path)
	}
	return store, nil
}

// runTokenCreate issues a token. Its secret is printed once, on stdout, and
// never stored. It creates the store when there is none (to make the first
// admin token before the first serve).
func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token create", stderr)
	role := fs.String("role", "", "`ROLE` of the new token: admin, interviewer or candidate")
	name := fs.String("name", "", "a `NAME` to recognise the token by")
	at := addStoreFlags(fs)
	asJSON := fs.Bool("json", false, "print the new token as JSON (the API's shape, secret in \"token\")")
	required(fs, "role")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if !grader.Role(*role).Valid() {
		return usageError(fs, "--role must be admin, interviewer or candidate")
	}
	var tok tokenJSON
	if *at.server != "" {
		body, _ := json.Marshal(map[string]string{"role": *role, "name": *name})
		if err := tokenViaAPI(ctx, http.MethodPost, "", body, at, &tok); err != nil {
			return err
		}
	} else {
		n, err := grader.CleanTokenName(*name)
		if err != nil {
			return err
		}
		store, err := openStore(*at.data, true, stderr)
		if err != nil {
			return err
		}
		defer store.Close()
		secret := grader.NewSecret()
		t := &grader.Token{Name: n, Role: grader.Role(*role), Hash: grader.HashSecret(secret)}
		if err := store.CreateToken(ctx, t); err != nil {
			return err
		}
		tok = tokenView(t)
		tok.Secret = secret
	}
	if *asJSON {
		return writeJSON(stdout, tok)
	}
	return printCreated(stdout, tok.ID, tok.Role, tok.Secret)
}

// runTokenList lists the tokens, from the store or through a server.
func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token list", stderr)
	at := addStoreFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON for programs (the API's shape: {\"tokens\": [...]})")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	out := tokenListJSON{Tokens: []tokenJSON{}}
	if *at.server != "" {
		if err := tokenViaAPI(ctx, http.MethodGet, "", nil, at, &out); err != nil {
			return err
		}
	} else {
		store, err := openStore(*at.data, false, stderr)
		if err != nil {
			return err
		}
		defer store.Close()
		list, err := store.Tokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range list {
			out.Tokens = append(out.Tokens, tokenView(t))
		}
	}
	if *asJSON {
		return writeJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
	for _, t := range out.Tokens {
		revoked := "-"
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, t.CreatedAt.Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

// runTokenRevoke revokes a token, in the store or through a server.
func runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token revoke", stderr)
	at := addStoreFlags(fs)
	asJSON := fs.Bool("json", false, "print the revoked token as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "token revoke needs exactly one token ID")
	}
	id := fs.Arg(0)
	var tok tokenJSON
	if *at.server != "" {
		if err := tokenViaAPI(ctx, http.MethodDelete, "/"+url.PathEscape(id), nil, at, &tok); err != nil {
			return err
		}
	} else {
		store, err := openStore(*at.data, false, stderr)
		if err != nil {
			return err
		}
		defer store.Close()
		t, err := store.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		tok = tokenView(t)
	}
	if *asJSON {
		return writeJSON(stdout, tok)
	}
	fmt.Fprintf(stdout, "revoked %s\n", tok.ID)
	return nil
}

// tokenJSON is a token as the API shows it (api/tokens.go): never its
// hash; Secret only in the answer that created it. The CLI prints the same
// shape whether it read the store or asked a server.
type tokenJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	Secret    string     `json:"token,omitempty"`
}

type tokenListJSON struct {
	Tokens []tokenJSON `json:"tokens"`
}

func tokenView(t *grader.Token) tokenJSON {
	v := tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedAt: t.CreatedAt.UTC()}
	if t.Revoked() {
		r := t.RevokedAt.UTC()
		v.RevokedAt = &r
	}
	return v
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printCreated(w io.Writer, id, role, secret string) error {
	_, err := fmt.Fprintf(w, "%s\n# id %s, role %s: this secret is shown once; store it now\n", secret, id, role)
	return err
}

// tokenViaAPI does the same through a running server's admin routes,
// decoding the answer into out.
func tokenViaAPI(ctx context.Context, method, suffix string, body []byte, at storeFlags, out any) error {
	if *at.token == "" {
		return &exitError{2, "--server needs --token (an admin token)"}
	}
	c := &apiClient{base: strings.TrimRight(*at.server, "/"), token: *at.token, http: http.DefaultClient}
	var rd io.Reader
	contentType := ""
	if body != nil {
		rd, contentType = bytes.NewReader(body), "application/json"
	}
	return c.do(ctx, method, "/api/v1/tokens"+suffix, contentType, rd, 30*time.Second, out)
}
