package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// submissionAnswer is the API's submission (api/submissions.go): its own
// fields around the one schema of a result.
type submissionAnswer struct {
	ID        string `json:"id"`
	Exercise  string `json:"exercise"`
	Candidate string `json:"candidate"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	Late      bool   `json:"late,omitempty"`
	grader.ResultJSON
}

// maxPoll is the longest ?wait= one request asks for; the API caps it at 60s.
const maxPoll = 60 * time.Second

// runSubmit sends a folder or an archive to a server and waits for its
// result: the candidate's way to be graded without the hidden checks on
// their machine.
func runSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("submit", stderr)
	server := fs.String("server", "", "`URL` of the djgrade server")
	token := fs.String("token", "", "your API `TOKEN` (a candidate's, or staff's to try an exercise)")
	exercise := fs.String("exercise", "", "the exercise `ID` you were assigned")
	candidate := fs.String("candidate", "", "the candidate's `NAME` (staff tokens only; a candidate's submission takes its assignment's name)")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for the result; 0 prints the submission id and returns")
	asJSON := fs.Bool("json", false, "print the API's JSON of the submission for programs")
	required(fs, "server", "token", "exercise")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *server == "" || *token == "" || *exercise == "" || fs.NArg() != 1 {
		return usageError(fs, "submit needs --server URL, --token TOKEN, --exercise ID and exactly one PATH")
	}
	if *wait < 0 {
		return usageError(fs, "--wait must not be negative")
	}
	base, err := url.Parse(strings.TrimRight(*server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageError(fs, fmt.Sprintf("--server %q is not an http(s) URL", *server))
	}
	name, archiveData, err := packSubmission(fs.Arg(0))
	if err != nil {
		return err
	}
	c := &apiClient{base: base.String(), token: *token, http: &http.Client{}}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("exercise", *exercise)
	if *candidate != "" {
		_ = mw.WriteField("candidate", *candidate)
	}
	part, err := mw.CreateFormFile("archive", name)
	if err != nil {
		return err
	}
	if _, err := part.Write(archiveData); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	var sub submissionAnswer
	if err := c.do(ctx, http.MethodPost, "/api/v1/submissions", mw.FormDataContentType(), &body, 2*time.Minute, &sub); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "djgrade: submitted %s (%d bytes) to %s as %s: %s\n", fs.Arg(0), len(archiveData), c.base, sub.ID, sub.Status)
	if !*asJSON {
		fmt.Fprintf(stdout, "submission %s\n", sub.ID)
	}
	if *wait == 0 {
		if *asJSON {
			return writeJSON(stdout, sub)
		}
		return nil
	}

	start := time.Now()
	deadline := start.Add(*wait)
	last := sub.Status
	for !grader.Status(sub.Status).Final() {
		left := time.Until(deadline)
		if left <= 0 {
			return &exitError{1, fmt.Sprintf("submission %s is still %s after %s; it stays on the server: run djgrade submit again later or GET %s/api/v1/submissions/%s", sub.ID, sub.Status, *wait, c.base, sub.ID)}
		}
		poll := min(left, maxPoll).Round(time.Second)
		if poll < time.Second {
			poll = time.Second
		}
		path := "/api/v1/submissions/" + url.PathEscape(sub.ID) + "?wait=" + poll.String()
		var cur submissionAnswer // fresh: fields the answer omits are not kept from the last one
		if err := c.do(ctx, http.MethodGet, path, "", nil, poll+30*time.Second, &cur); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("stopped waiting; submission %s stays on the server", sub.ID)
			}
			return err
		}
		sub = cur
		if sub.Status != last {
			fmt.Fprintf(stderr, "  · %s after %s\n", sub.Status, time.Since(start).Round(100*time.Millisecond))
			last = sub.Status
		} else if !grader.Status(sub.Status).Final() {
			fmt.Fprintf(stderr, "  · still %s after %s\n", sub.Status, time.Since(start).Round(time.Second))
		}
	}

	if *asJSON {
		if err := writeJSON(stdout, sub); err != nil {
			return err
		}
	} else if sub.Status == string(grader.StatusDone) {
		printResult(stdout, sub.ResultJSON)
		if sub.Late {
			fmt.Fprintln(stdout, "Late: submitted after the assignment's deadline")
		}
	}
	switch {
	case grader.Status(sub.Status) != grader.StatusDone:
		msg := sub.Error
		if msg == "" {
			msg = sub.Reason
		}
		return &exitError{1, fmt.Sprintf("submission %s ended %s: %s", sub.ID, sub.Status, msg)}
	case sub.Verdict == nil || *sub.Verdict != string(grader.VerdictPassed):
		return &exitError{3, ""}
	}
	return nil
}

// packSubmission returns the archive to upload: a folder packed as a zip
// (with the same reader, and limits, as `grade`), or an archive as it is.
func packSubmission(p string) (name string, data []byte, err error) {
	info, err := os.Stat(p)
	if err != nil {
		return "", nil, &exitError{2, err.Error()}
	}
	if !info.IsDir() {
		data, err := os.ReadFile(p)
		return filepath.Base(p), data, err
	}
	files, err := archive.ReadDir(p, archive.DefaultLimits)
	if err != nil {
		return "", nil, err
	}
	if len(files) == 0 {
		return "", nil, &exitError{1, fmt.Sprintf("%s holds no files to submit", p)}
	}
	var buf bytes.Buffer
	if err := archive.WriteZip(&buf, files); err != nil {
		return "", nil, err
	}
	return "submission.zip", buf.Bytes(), nil
}

// apiClient calls a djgrade server's API with a Bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

// do sends one request and decodes a 2xx answer into out; any other answer
// is an error with the API's own message and code.
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return apiError(res, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the server's answer to %s %s is not the expected JSON: %v", method, path, err)
	}
	return nil
}

// apiError is a failed API answer in words: the status, and the API's
// {"error": {"code", "message"}} when the body has it.
func apiError(res *http.Response, data []byte) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(data, &e); err != nil || e.Error.Message == "" {
		return errors.New("server answered " + res.Status + ": " + strings.TrimSpace(string(clipBytes(data, 200))))
	}
	return fmt.Errorf("server answered %s: %s (%s)", res.Status, e.Error.Message, e.Error.Code)
}

func clipBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
