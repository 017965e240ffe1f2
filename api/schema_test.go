package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestResultSchemaIsTheCLIs: for one stored result, the result fields of
// GET /api/v1/submissions/{id} (staff) are those `djgrade grade --json
// --details` prints (grader.ResultView.JSON of the CLI-details audience,
// whose rules are staff's), key for key and value for value, but for the
// run's output, which the API serves at /logs, and the CLI's "exercise".
// Every key of the submission is a field of grader.ResultJSON or one of the
// submission's own.
func TestResultSchemaIsTheCLIs(t *testing.T) {
	sub := doneSubmission()
	sub.Result.Seed, sub.Result.JudgeLog = 42, "JUDGE-LOG"
	sub.Result.Findings = []grader.Finding{{Path: "shop/views.py", Line: 3, What: "opens a socket"}}
	sub.Result.Refused = sub.Refused
	e := newEnv(t, nil)
	e.g.put(sub)
	res, body := e.get(t, "/api/v1/submissions/"+sub.ID)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var apiDoc map[string]any
	if err := json.Unmarshal(body, &apiDoc); err != nil {
		t.Fatal(err)
	}
	cliJSON, err := json.Marshal(sub.Result.View(grader.AudienceCLIDetails).JSON())
	if err != nil {
		t.Fatal(err)
	}
	var cliDoc map[string]any
	if err := json.Unmarshal(cliJSON, &cliDoc); err != nil {
		t.Fatal(err)
	}
	runOutput := []string{"log", "judge_log", "timings_ms", "exit_code"}
	for _, k := range runOutput {
		if _, ok := cliDoc[k]; !ok {
			t.Errorf("the CLI's view lacks %q (the fixture should hold it): %s", k, cliJSON)
		}
		if _, ok := apiDoc[k]; ok {
			t.Errorf("the API's submission holds %q: %s", k, body)
		}
		delete(cliDoc, k)
	}
	apiResult := map[string]any{}
	for _, k := range resultKeys(t) {
		if v, ok := apiDoc[k]; ok {
			apiResult[k] = v
		}
	}
	if !reflect.DeepEqual(apiResult, cliDoc) {
		t.Errorf("the API's result differs from the CLI's\napi: %v\ncli: %v", apiResult, cliDoc)
	}
	own := map[string]bool{"id": true, "exercise": true, "candidate": true, "status": true, "error": true,
		"created_at": true, "started_at": true, "finished_at": true, "assignment": true, "mode": true, "late": true, "history": true}
	result := map[string]bool{}
	for _, k := range resultKeys(t) {
		result[k] = true
	}
	for k := range apiDoc {
		if !own[k] && !result[k] {
			t.Errorf("the submission's %q is neither its own field nor grader.ResultJSON's", k)
		}
	}
}

// resultKeys are the JSON names of grader.ResultJSON's fields.
func resultKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	rt := reflect.TypeOf(grader.ResultJSON{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("field %s has no JSON name", rt.Field(i).Name)
		}
		keys = append(keys, name)
	}
	return keys
}
