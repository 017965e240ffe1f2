package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// pathBackup is the admin-only route that streams a consistent copy of the
// live store: bbolt's file lock is exclusive, so while serve runs, only the
// server itself can read the file.
const pathBackup = api.PathAdmin + "/backup"

// runBackup is `djgrade backup FILE`: a consistent copy of the store. When
// no process holds the store it is opened directly; when a server holds it,
// the copy is fetched from the server's backup route with an admin token.
// Either way the copy is opened as a store before it is put in place.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := fs.String("data", "./data", "`DIR` of the store ("+DBName+")")
	server := fs.String("server", "http://127.0.0.1:8080", "the running server to ask when the store is in use (a `URL`)")
	token := fs.String("token", "", "an admin `TOKEN` for the server (default: $DJGRADE_ADMIN_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "backup needs exactly one FILE")
	}
	dest := fs.Arg(0)
	if *token == "" {
		*token = os.Getenv("DJGRADE_ADMIN_TOKEN")
	}
	start := time.Now()
	how, err := backupDirect(filepath.Join(*data, DBName), dest)
	if grader.ErrorCode(err) == grader.EUNAVAILABLE {
		// The file is locked: a server has it open.
		how, err = backupFromServer(ctx, *server, *token, dest)
	}
	if err != nil {
		return err
	}
	info, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "djgrade: backup of %d bytes written to %s (%s) in %s\n", info.Size(), dest, how, time.Since(start).Round(time.Millisecond))
	return nil
}

// backupDirect copies the store at path into dest when no process holds it.
// It fails with EUNAVAILABLE when one does, and never creates a store where
// there was none.
func backupDirect(path, dest string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", grader.Wrap(err, grader.ENOTFOUND, "no store at %s", path)
	}
	s, err := bolt.Open(path)
	if err != nil {
		return "", err
	}
	defer s.Close()
	if err := s.BackupFile(dest); err != nil {
		return "", err
	}
	return "store opened directly", verifyBackup(dest)
}

// backupFromServer streams the store from a running server's backup route
// into a temporary file beside dest, checks that it opens as a store, and
// renames it into place.
func backupFromServer(ctx context.Context, base, token, dest string) (_ string, err error) {
	if token == "" {
		return "", grader.Errorf(grader.EUNAUTHORIZED,
			"the store is in use by a server; an admin token (--token or DJGRADE_ADMIN_TOKEN) is needed to back it up through %s", base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+pathBackup, nil)
	if err != nil {
		return "", grader.Wrap(err, grader.EINVALID, "bad --server %q", base)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", grader.Wrap(err, grader.EUNAVAILABLE, "the store is in use, and the server at %s does not answer", base)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return "", grader.Errorf(grader.EUNAVAILABLE, "the server refused the backup: %s %s", res.Status, strings.TrimSpace(string(msg)))
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp*")
	if err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "create backup file")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, res.Body)
	if err != nil {
		return "", grader.Wrap(err, grader.EUNAVAILABLE, "backup stream broke after %d bytes", n)
	}
	// A stream cut short by the server (it died mid-way) still ends
	// cleanly for chunked encoding; the length header catches it.
	if want, perr := strconv.ParseInt(res.Header.Get("X-Backup-Size"), 10, 64); perr == nil && want != n {
		return "", grader.Errorf(grader.EUNAVAILABLE, "backup stream ended after %d of %d bytes", n, want)
	}
	if err := tmp.Sync(); err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "write backup file")
	}
	if err := tmp.Close(); err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "write backup file")
	}
	if err := verifyBackup(tmp.Name()); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "move backup into place")
	}
	return "streamed from the server at " + base, nil
}

// verifyBackup opens a copy as a store: a backup that does not open is no
// backup. Opening also runs migrations, which a current copy does not need.
func verifyBackup(path string) error {
	s, err := bolt.Open(path)
	if err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "the copy at %s does not open as a store", path)
	}
	if err := s.Ping(context.Background()); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// mountBackup adds the backup route to the server: an admin streams a
// consistent copy of the store, taken in one read transaction (writers carry
// on meanwhile). X-Backup-Size lets the client notice a cut stream. The
// API's authentication and admin check guard it: the store is the only
// authority on tokens, so the bootstrap DJGRADE_ADMIN_TOKEN, once revoked
// there, is refused here too.
func mountBackup(s *api.Server, store *bolt.Store) {
	s.AdminGET("/backup", func(c echo.Context) error {
		return store.Snapshot(func(size int64, write func(io.Writer) error) error {
			h := c.Response().Header()
			h.Set(echo.HeaderContentType, "application/octet-stream")
			h.Set("Content-Disposition", `attachment; filename="djgrade.db"`)
			h.Set("X-Backup-Size", strconv.FormatInt(size, 10))
			c.Response().WriteHeader(http.StatusOK)
			return write(c.Response())
		})
	})
}
