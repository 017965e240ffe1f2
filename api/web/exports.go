package web

import (
	"net/http"

	"github.com/djgrade/djgrade/api"
)

// The pages' downloads of the result exports: the same tables as the API's
// /api/v1/exercises/{id}/results.csv and the rest (api.Exports builds
// them, with the same filters and cap), under /ui so that the session
// cookie reaches them; the API takes only bearer tokens. Staff only, as
// every page of the dashboard's: a candidate gets the 404 of a page that
// does not exist.

func (h *Handler) exports() *api.Exports {
	return &api.Exports{Grader: h.cfg.Grader, Catalog: h.cfg.Catalog, Auth: h.cfg.Auth, Columns: h.cfg.ExportColumns}
}

// exportResults answers an exercise's (or, with assignment, an
// assignment's) results in the format.
func (h *Handler) exportResults(format string, assignment bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := api.ParseExportQuery(r.URL.Query())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		table := h.exports().ExerciseTable
		if assignment {
			table = h.exports().AssignmentTable
		}
		t, err := table(r.Context(), r.PathValue("id"), q)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if err := api.WriteTable(w, r.URL, t, format); err != nil {
			h.fail(w, r, err)
		}
	}
}
