package api

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI parses and validates api/openapi.yaml with kin-openapi, a
// real OpenAPI 3 validator, and fails the test on any error.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// TestOpenAPIValid validates the document and checks what clients and
// generators rely on: servers, a unique operationId and tags on every
// operation, and the errors every authenticated route can answer.
func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if len(doc.Servers) == 0 {
		t.Error("openapi.yaml lists no servers")
	}
	ids := map[string]string{}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", prev, where, op.OperationID)
			} else {
				ids[op.OperationID] = where
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s has no tags", where)
			}
			for _, st := range wantStatuses(method, path, op) {
				if op.Responses.Value(st) == nil {
					t.Errorf("%s does not list status %s", where, st)
				}
			}
		}
	}
}

// wantStatuses are the statuses that the middleware and handlers of every
// route of its kind can answer, whatever the handler: a route behind a
// token answers 401 and 429, a staff or admin route 403, a route with an
// id 404, a route that reads a body 413 (and 415 for a JSON one), a route
// that validates input 400.
func wantStatuses(method, path string, op *openapi3.Operation) []string {
	var out []string
	open := op.Security != nil && len(*op.Security) == 0
	if !open {
		out = append(out, "401", "429")
	}
	if strings.Contains(path, "{id}") {
		out = append(out, "404")
	}
	if op.RequestBody != nil {
		out = append(out, "400", "413")
		if op.RequestBody != nil && op.RequestBody.Value != nil && op.RequestBody.Value.Content.Get("application/json") != nil &&
			len(op.RequestBody.Value.Content) == 1 {
			out = append(out, "415")
		}
	}
	staff := strings.Contains(op.Summary, "staff only") || strings.Contains(op.Summary, "admin only")
	if staff {
		out = append(out, "403")
	}
	return out
}
