package api

import (
	"net/http"
	"strings"
	"testing"
)

// Files within the snapshot cap are taken however a JSON encoder escapes
// them: Go's writes "<" as six bytes (\u003c), so 300 KiB of a template
// is 1.8 MB of body; only the files' own total decides (413 past it).
func TestLiveSaveBodyFitsEscapedFiles(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	html := strings.Repeat("<p>&</p>\n", 300<<10/9)
	res, body := w.jsonDo(t, "ada", http.MethodPut, "/api/v1/live/"+l.ID+"/files", oneFile("library/serializers.py", html), nil)
	wantStatus(t, "a save of 300 KiB of markup", res, body, http.StatusOK)
	over := strings.Repeat("x", 600<<10)
	res, body = w.jsonDo(t, "ada", http.MethodPut, "/api/v1/live/"+l.ID+"/files", oneFile("library/serializers.py", over), nil)
	wantStatus(t, "a save of 600 KiB", res, body, http.StatusRequestEntityTooLarge)
}
