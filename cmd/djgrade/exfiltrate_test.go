package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
)

// TestCandidateViewsHoldNothingHidden grades, through the real API and the
// real sandbox, a submission that hunts for the hidden checks wherever its
// code can reach and hex-encodes what it finds into its own public tests'
// failure messages. As the candidate, in practice and in assessment mode,
// the submission's JSON must hold no line of the hidden checks, encoded or
// not: the candidate's container never had them.
func TestCandidateViewsHoldNothingHidden(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 2, AdminToken: e2eAdminToken}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.addr

	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := grader.HiddenFiles(ex)
	if err != nil {
		t.Fatal(err)
	}
	var needles []string
	funcName := regexp.MustCompile(`def (test_\w+)`)
	for _, f := range hidden {
		for _, line := range strings.Split(string(f.Data), "\n") {
			if l := strings.TrimSpace(line); len(l) >= 24 && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "from ") {
				needles = append(needles, l)
			}
		}
		for _, m := range funcName.FindAllStringSubmatch(string(f.Data), -1) {
			needles = append(needles, m[1])
		}
	}
	if len(needles) < 20 {
		t.Fatalf("only %d needles", len(needles))
	}

	var files []grader.File
	root := "testdata/exfiltrate"
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files = append(files, grader.File{Path: filepath.ToSlash(rel), Data: data})
		}
		return err
	})
	archive := zipProject(t, "project", files)

	for _, mode := range []string{grader.ModePractice, grader.ModeAssessment} {
		t.Run(mode, func(t *testing.T) {
			// The interviewer assigns; the candidate submits with its own token.
			body, _ := json.Marshal(map[string]string{"exercise": "n-plus-one", "candidate": "Eve " + mode, "mode": mode})
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/assignments", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
			req.Header.Set("Content-Type", "application/json")
			var asg map[string]any
			doJSON(t, req, http.StatusCreated, &asg)
			token, _ := asg["token"].(string)
			if token == "" {
				t.Fatalf("assignment without a token: %v", asg)
			}

			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			mw.WriteField("exercise", "n-plus-one")
			fw, _ := mw.CreateFormFile("archive", "p.zip")
			fw.Write(archive)
			mw.Close()
			req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/submissions", &form)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			var sub map[string]any
			doJSON(t, req, http.StatusAccepted, &sub)

			var raw []byte
			var got map[string]any
			for deadline := time.Now().Add(4 * time.Minute); ; {
				req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/submissions/"+sub["id"].(string)+"?wait=50s", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				raw = doJSON(t, req, http.StatusOK, &got)
				if got["status"] == "done" || got["status"] == "error" || time.Now().After(deadline) {
					break
				}
			}
			if got["status"] != "done" {
				t.Fatalf("not graded: %s", raw)
			}
			// What the candidate sees, and every hex run in it decoded.
			seen := string(raw)
			for _, h := range regexp.MustCompile(`[0-9a-f]{32,}`).FindAllString(seen, -1) {
				if b, err := hex.DecodeString(h[:len(h)/2*2]); err == nil {
					seen += "\n" + string(b)
				}
			}
			if mode == grader.ModePractice && !strings.Contains(string(raw), "LOOT:") {
				t.Errorf("the public test's message did not come back, so the test proves nothing: %s", raw)
			}
			for _, n := range needles {
				if strings.Contains(seen, n) {
					t.Errorf("the candidate's view holds hidden text %q", n)
				}
			}
			if got["verdict"] == "passed" {
				t.Errorf("a submission whose public tests fail is passed: %s", raw)
			}
		})
	}
}

// doJSON sends req, checks the status and decodes the JSON body into out,
// returning the body.
func doJSON(t *testing.T, req *http.Request, status int, out any) []byte {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, status, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("not JSON: %s", data)
	}
	return data
}
