package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// The pages of live-coding sessions (grader.LiveService): the interviewer's
// list, start form, watch page and playback under /ui/live, and the
// candidate's editor under /ui/l/{id} with the JSON endpoints its script
// (static/editor.js, static/live.js) calls. A session's candidate page
// answers only the session's candidate token; every other token, staff
// included, gets the same 404 as a page that does not exist.

// liveBodyMax caps the body of the editor's JSON posts: the files of one
// snapshot at grader.LiveMaxSnapshotBytes, each byte escaped as JSON at
// worst ("\u0001" is six bytes), with room for the field names.
const liveBodyMax = 6*grader.LiveMaxSnapshotBytes + 64<<10

// errLiveTooLarge refuses a post over liveBodyMax.
var errLiveTooLarge = grader.Errorf(grader.ETOOLARGE, "the files are over the limit of %s together",
	archive.FormatBytes(grader.LiveMaxSnapshotBytes))

// errNoLive answers every live page of a server without a LiveService.
var errNoLive = grader.Errorf(grader.EUNAVAILABLE, "this server does not run live sessions")

// maxLiveID bounds a session id in a path.
const maxLiveID = 128

func (h *Handler) live() (grader.LiveService, error) {
	if h.cfg.Live == nil {
		return nil, errNoLive
	}
	return h.cfg.Live, nil
}

// liveJSON reports whether r is one of the live routes that answer JSON
// (the editor's endpoints, the watch page's diff and the playback's
// snapshots, a note posted by script); their errors are JSON too.
func liveJSON(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case isLiveAction(r):
		return true
	case strings.HasPrefix(p, Prefix+"/l/"):
		return strings.HasSuffix(p, "/files")
	case strings.HasPrefix(p, Prefix+"/live/"):
		return strings.HasSuffix(p, "/diff") || strings.Contains(p, "/snapshots/") ||
			r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "application/json")
	}
	return false
}

// liveErrorJSON is the body of a live JSON route's error: the API's shape.
type liveErrorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// notFoundLive is the answer for a session that does not exist or is not
// the caller's.
var notFoundLive = grader.Errorf(grader.ENOTFOUND, "there is no such page")

// staffLive returns the path's session for staff.
func (h *Handler) staffLive(r *http.Request) (grader.LiveService, *grader.LiveSession, error) {
	svc, err := h.live()
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxLiveID {
		return nil, nil, notFoundLive
	}
	l, err := svc.Live(r.Context(), id)
	if err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			return nil, nil, notFoundLive
		}
		return nil, nil, err
	}
	return svc, l, nil
}

// ownLive returns the path's session if the caller is its candidate: the
// one token that may open it. Anyone else, staff too, gets notFoundLive.
func (h *Handler) ownLive(r *http.Request) (grader.LiveService, *grader.LiveSession, error) {
	svc, err := h.live()
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxLiveID {
		return nil, nil, notFoundLive
	}
	l, err := svc.Live(r.Context(), id)
	if err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			return nil, nil, notFoundLive
		}
		return nil, nil, err
	}
	s := sessionOf(r)
	if s == nil || s.Token == nil || s.Token.ID != l.CandidateToken {
		return nil, nil, notFoundLive
	}
	// The token's rate, the API's (shared): the pages are no way around
	// the API's limits.
	if err := h.cfg.Limits.Allow(s.Token.ID); err != nil {
		return nil, nil, err
	}
	return svc, l, nil
}

// --- The interviewer's pages.

type liveListData struct {
	Rows      []liveRow
	Exercises []*grader.Exercise
	Created   *createdLive
	Error     string
	Form      liveForm
	MaxLimit  int
}

type liveRow struct {
	L     *grader.LiveSession
	State string
}

type liveForm struct {
	Exercise, Candidate, Mode, Limit string
}

type createdLive struct {
	L     *grader.LiveSession
	Link  string
	Token string
}

func (h *Handler) liveList(w http.ResponseWriter, r *http.Request) {
	h.renderLiveList(w, r, http.StatusOK, liveListData{Form: liveForm{Mode: grader.ModePractice, Limit: strconv.Itoa(int(grader.LiveDefaultLimit.Minutes()))}})
}

func (h *Handler) renderLiveList(w http.ResponseWriter, r *http.Request, status int, d liveListData) {
	svc, err := h.live()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := svc.ListLive(r.Context(), "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.cfg.Now()
	for _, l := range list {
		d.Rows = append(d.Rows, liveRow{L: l, State: l.State(now)})
	}
	d.Exercises = h.cfg.Catalog.Exercises()
	d.MaxLimit = int(grader.LiveMaxLimit.Minutes())
	h.render(w, r, status, "live", &page{Title: "Live sessions", Nav: "live", Data: d})
}

// liveStart starts a session and shows the candidate's link and token
// once, as createAssignment does.
func (h *Handler) liveStart(w http.ResponseWriter, r *http.Request) {
	svc, err := h.live()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form := liveForm{
		Exercise: r.PostFormValue("exercise"), Candidate: r.PostFormValue("candidate"),
		Mode: r.PostFormValue("mode"), Limit: strings.TrimSpace(r.PostFormValue("limit")),
	}
	bad := func(msg string) {
		h.renderLiveList(w, r, http.StatusBadRequest, liveListData{Form: form, Error: msg})
	}
	var limit time.Duration
	if form.Limit != "" {
		n, err := strconv.Atoi(form.Limit)
		if err != nil || n < 1 || n > int(grader.LiveMaxLimit.Minutes()) {
			bad("The time limit is a whole number of minutes, from 1 to " + strconv.Itoa(int(grader.LiveMaxLimit.Minutes())) + ".")
			return
		}
		limit = time.Duration(n) * time.Minute
	}
	l, secret, err := svc.StartLive(r.Context(), grader.LiveStart{
		Exercise: form.Exercise, Candidate: form.Candidate, Mode: form.Mode, Limit: limit, CreatedBy: sessionOf(r).Token.ID,
	})
	if err != nil {
		if grader.ErrorCode(err) == grader.EINVALID {
			bad(grader.ErrorMessage(err))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Info("web: live session started", "live", l.ID, "exercise", l.Exercise, "by", l.CreatedBy)
	created := &createdLive{L: l, Link: h.baseURL(r) + Prefix + "/l/" + url.PathEscape(l.ID), Token: secret}
	h.renderLiveList(w, r, http.StatusCreated, liveListData{Created: created, Form: liveForm{Mode: form.Mode, Limit: form.Limit}})
}

// feedItem is one line of the watch page's activity: a save, a run, the
// submit or the end.
type feedItem struct {
	At   time.Time
	Kind string
	Text string
	Run  *grader.LiveRun
}

type liveWatchData struct {
	L       *grader.LiveSession
	Ex      *grader.Exercise
	State   string
	Now     time.Time
	Diffs   []fileDiff
	Changed int // files of Diffs that differ from the starter
	Current []grader.File
	Runs    []*grader.LiveRun // newest first, the latest MaxRuns
	MaxRuns int
	Feed    []feedItem // newest first
	Notes   []*grader.LiveNote
	Sub     *grader.Submission
	MaxNote int
}

// liveWatch is the interviewer's view of a session: the countdown, the
// candidate's files against the starter, every save and run, the grade
// and the private notes, all kept current by live.js over liveStaffEvents.
func (h *Handler) liveWatch(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	ex, err := h.cfg.Catalog.Exercise(l.Exercise)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := liveWatchData{L: l, Ex: ex, State: l.State(h.cfg.Now()), Now: h.cfg.Now(), MaxNote: grader.LiveMaxNoteBytes}
	starter, _, current, err := svc.LiveFiles(ctx, l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Current = current
	d.Diffs = diffFiles(starter, current, nil)
	for _, fd := range d.Diffs {
		if fd.Status != "unchanged" {
			d.Changed++
		}
	}
	// Every run's summary for the activity; the latest in full below.
	runs, err := svc.LiveRunSummaries(ctx, l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	snaps, err := svc.LiveSnapshots(ctx, l.ID, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Notes, err = svc.LiveNotes(ctx, l.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, s := range snaps {
		d.Feed = append(d.Feed, feedItem{At: s.At, Kind: "save", Text: "Saved snapshot #" + strconv.Itoa(s.Seq) + " (" + archive.FormatBytes(int64(s.Bytes)) + ")"})
	}
	for _, run := range runs {
		d.Feed = append(d.Feed, feedItem{At: run.At, Kind: "run", Text: runSummary(run), Run: run})
	}
	if !l.StartedAt.IsZero() {
		d.Feed = append(d.Feed, feedItem{At: l.StartedAt, Kind: "started", Text: "The candidate opened the session"})
	}
	if !l.EndedAt.IsZero() {
		d.Feed = append(d.Feed, feedItem{At: l.EndedAt, Kind: "ended", Text: endedText(l)})
	}
	sort.SliceStable(d.Feed, func(i, j int) bool { return d.Feed[i].At.After(d.Feed[j].At) })
	// The latest runs in full: the feed has a line for every one, and the
	// page stays the same size however many there are.
	for _, sum := range slices.Backward(runs[max(len(runs)-liveWatchRuns, 0):]) {
		run, err := svc.LiveRun(ctx, l.ID, sum.Seq)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Runs = append(d.Runs, run)
	}
	d.MaxRuns = liveWatchRuns
	if l.Submission != "" {
		if d.Sub, err = h.cfg.Grader.Submission(ctx, l.Submission); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "livewatch", &page{Title: "Live: " + l.Candidate, Nav: "live", Script: true, Live: true, Data: d})
}

// liveWatchRuns is how many of the latest runs the watch page shows in
// full (each up to 500 tests with their messages).
const liveWatchRuns = 20

// runSummary is a run's line in the activity feed.
func runSummary(run *grader.LiveRun) string {
	s := "Run #" + strconv.Itoa(run.Seq) + " of snapshot #" + strconv.Itoa(run.Snapshot)
	switch {
	case run.Error != "":
		return s + ": could not run (" + run.Error + ")"
	case run.Result == nil:
		return s + ": running…"
	}
	sum := run.Summary
	if sum == nil {
		sum = run.Summarized().Summary
	}
	return s + ": " + string(run.Result.Verdict) + ", " + strconv.Itoa(sum.Passed) + " of " + strconv.Itoa(sum.Tests) + " tests passed"
}

func endedText(l *grader.LiveSession) string {
	switch l.EndedBy {
	case "submit":
		return "The candidate submitted; the session ended"
	case "time":
		return "The time limit ran out; the session ended"
	}
	return "The interviewer ended the session"
}

func (h *Handler) liveEnd(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := svc.EndLive(r.Context(), l.ID, sessionOf(r).Token.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/live/"+url.PathEscape(l.ID), http.StatusSeeOther)
}

// liveNote adds a private note. A script's post (Accept: application/json)
// gets the note back; a form's goes back to the watch page.
func (h *Handler) liveNote(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	n, err := svc.AddLiveNote(r.Context(), l.ID, sessionOf(r).Token.ID, r.PostFormValue("text"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if liveJSON(r) {
		writeJSON(w, http.StatusCreated, n)
		return
	}
	http.Redirect(w, r, Prefix+"/live/"+url.PathEscape(l.ID)+"#notes", http.StatusSeeOther)
}

// diffJSON is a fileDiff for the watch page's script, with the file's
// current text.
type diffJSON struct {
	Path    string     `json:"path"`
	Status  string     `json:"status"`
	Added   int        `json:"added"`
	Deleted int        `json:"deleted"`
	Hunks   []hunkJSON `json:"hunks"`
	Text    string     `json:"text"`
}

type hunkJSON struct {
	Header string         `json:"header"`
	Lines  []diffLineJSON `json:"lines"`
}

type diffLineJSON struct {
	Kind string `json:"kind"` // " ", "-" or "+"
	Old  int    `json:"old,omitempty"`
	New  int    `json:"new,omitempty"`
	Text string `json:"text"`
}

func diffsJSON(diffs []fileDiff, current []grader.File) []diffJSON {
	text := map[string]string{}
	for _, f := range current {
		if isText(f.Data) {
			text[f.Path] = string(f.Data)
		}
	}
	out := []diffJSON{}
	for _, d := range diffs {
		j := diffJSON{Path: d.Path, Status: d.Status, Added: d.Added, Deleted: d.Deleted, Text: text[d.Path], Hunks: []hunkJSON{}}
		for _, hk := range d.Hunks {
			hj := hunkJSON{Header: hk.Header}
			for _, ln := range hk.Lines {
				hj.Lines = append(hj.Lines, diffLineJSON{Kind: string(ln.Kind), Old: ln.Old, New: ln.New, Text: ln.Text})
			}
			j.Hunks = append(j.Hunks, hj)
		}
		out = append(out, j)
	}
	return out
}

// liveDiff answers the candidate's current files against the starter, for
// the watch page to redraw after a save.
func (h *Handler) liveDiff(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	starter, _, current, err := svc.LiveFiles(r.Context(), l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, diffsJSON(diffFiles(starter, current, nil), current))
}

// liveStaffEvents is the watch page's one event stream: everything,
// notes included.
func (h *Handler) liveStaffEvents(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, stop, err := svc.SubscribeLive(l.ID, sessionOf(r).Token.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer stop()
	api.ServeLiveEvents(r.Context(), w, events, true)
}

// liveSnapshot answers one snapshot with its files, in the one JSON shape
// of a snapshot (grader.LiveSnapshot's: files as {path, content}).
func (h *Handler) liveSnapshot(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil || seq < 1 {
		h.fail(w, r, grader.Errorf(grader.ENOTFOUND, "there is no such snapshot"))
		return
	}
	s, err := svc.LiveSnapshot(r.Context(), l.ID, seq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s.Files = sortedFiles(s.Files)
	writeJSON(w, http.StatusOK, s)
}

func sortedFiles(files []grader.File) []grader.File {
	out := slices.Clone(files)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// --- The candidate's editor.

// treeEntry is one line of the editor's file tree: a folder or a file.
type treeEntry struct {
	Path, Name string
	Dir        bool
	Editable   bool
	Depth      int
}

// fileTree lists the folders and files of paths in tree order.
func fileTree(paths []string, editable map[string]bool) []treeEntry {
	paths = slices.Clone(paths)
	sort.Strings(paths)
	seen := map[string]bool{}
	var out []treeEntry
	for _, p := range paths {
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			dir := strings.Join(parts[:i], "/")
			if !seen[dir] {
				seen[dir] = true
				out = append(out, treeEntry{Path: dir, Name: parts[i-1], Dir: true, Depth: min(i-1, 6)})
			}
		}
		out = append(out, treeEntry{Path: p, Name: path.Base(p), Editable: editable[p], Depth: min(len(parts)-1, 6)})
	}
	// Folders sort before the files beside them.
	sort.SliceStable(out, func(i, j int) bool { return treeKey(out[i]) < treeKey(out[j]) })
	return out
}

// treeKey orders a tree: each folder's own folders first, then its files.
func treeKey(e treeEntry) string {
	parts := strings.Split(e.Path, "/")
	for i := range parts {
		if i < len(parts)-1 || e.Dir {
			parts[i] = "0" + parts[i]
		} else {
			parts[i] = "1" + parts[i]
		}
	}
	return strings.Join(parts, "/")
}

type liveEditorData struct {
	L        *grader.LiveSession
	Ex       *grader.Exercise
	State    string
	Now      time.Time
	Tree     []treeEntry
	First    string // the file the editor opens first
	LastRun  *grader.LiveRun
	Result   *candidateResult
	Graded   bool
	Ended    string
	MaxBytes string
	ResultAt string
	// Preview is staff's read-only view of the page (livePreview); Base
	// is where the page's script reads the files.
	Preview bool
	Base    string
}

// liveEditor is the candidate's page: it opens the session (the countdown
// starts at the first open), shows the prompt beside the starter's file
// tree, and leaves the editing, saving and running to live.js. After the
// end the page is read-only and shows the submission as the session's
// mode allows (candidateView, the one function that decides it).
func (h *Handler) liveEditor(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if l.State(h.cfg.Now()) == grader.LiveActive {
		if l, err = svc.OpenLive(r.Context(), l.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.renderEditor(w, r, svc, l, false)
}

// livePreview is the candidate's page as staff see it: the same editor
// over the session's files as they are now, read-only, with nothing to
// run or submit. It does not open the session (the countdown starts at
// the candidate's first open) and holds no stream.
func (h *Handler) livePreview(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderEditor(w, r, svc, l, true)
}

// renderEditor renders the editor page of the session: the candidate's
// own, or staff's preview of it.
func (h *Handler) renderEditor(w http.ResponseWriter, r *http.Request, svc grader.LiveService, l *grader.LiveSession, preview bool) {
	ctx := r.Context()
	ex, err := h.cfg.Catalog.Exercise(l.Exercise)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	starter, editable, current, err := svc.LiveFiles(ctx, l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := liveEditorData{L: l, Ex: ex, State: l.State(h.cfg.Now()), Now: h.cfg.Now(), MaxBytes: archive.FormatBytes(grader.LiveMaxSnapshotBytes),
		Preview: preview, Base: Prefix + "/l/" + l.ID}
	if preview {
		d.Base = Prefix + "/live/" + l.ID + "/preview"
	}
	isEditable := map[string]bool{}
	for _, p := range editable {
		isEditable[p] = true
	}
	var paths []string
	for _, f := range starter {
		paths = append(paths, f.Path)
	}
	for _, f := range current {
		if !slices.Contains(paths, f.Path) {
			paths = append(paths, f.Path)
			isEditable[f.Path] = true
		}
	}
	d.Tree = fileTree(paths, isEditable)
	for _, e := range d.Tree {
		if e.Editable && (d.First == "" || strings.HasSuffix(e.Path, "serializers.py")) {
			d.First = e.Path
		}
	}
	// The latest run only: a reload reads one run, however many there are.
	if l.Runs > 0 {
		if d.LastRun, err = svc.LiveRun(ctx, l.ID, l.Runs); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if d.State == grader.LiveEnded && !preview {
		d.Ended = endedText(l)
		if l.Submission != "" {
			sub, err := h.cfg.Grader.Submission(ctx, l.Submission)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			v := candidateView(sub, l.Mode)
			d.Result, d.Graded = &v, sub.Status.Final()
		}
	}
	title, nav := ex.Title+" · live", "mine"
	if preview {
		title, nav = ex.Title+" · preview of the candidate's page", "live"
	}
	h.render(w, r, http.StatusOK, "liveeditor", &page{Title: title, Nav: nav, Script: true, Live: true, Data: d})
}

// liveFileJSON is one file as the editor's script gets it.
type liveFileJSON struct {
	Path     string `json:"path"`
	Content  string `json:"content"`
	Editable bool   `json:"editable"`
	Binary   bool   `json:"binary,omitempty"`
}

func fileJSON(f grader.File, editable bool) liveFileJSON {
	if !isText(f.Data) {
		return liveFileJSON{Path: f.Path, Editable: false, Binary: true}
	}
	return liveFileJSON{Path: f.Path, Content: string(f.Data), Editable: editable}
}

type liveFilesJSON struct {
	Session   string         `json:"session"`
	State     string         `json:"state"`
	EndsAt    time.Time      `json:"ends_at,omitzero"`
	Now       time.Time      `json:"now"`
	Snapshots int            `json:"snapshots"`
	Files     []liveFileJSON `json:"files"`
}

// liveFiles answers the candidate's files: the starter's, with the
// editable ones as last saved. A reload of the page starts from here.
func (h *Handler) liveFiles(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeLiveFiles(w, r, svc, l)
}

// livePreviewFiles answers staff's preview the files the candidate's page
// would get.
func (h *Handler) livePreviewFiles(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.staffLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeLiveFiles(w, r, svc, l)
}

func (h *Handler) writeLiveFiles(w http.ResponseWriter, r *http.Request, svc grader.LiveService, l *grader.LiveSession) {
	starter, editable, current, err := svc.LiveFiles(r.Context(), l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cur := map[string]grader.File{}
	for _, f := range current {
		cur[f.Path] = f
	}
	out := liveFilesJSON{Session: l.ID, State: l.State(h.cfg.Now()), EndsAt: l.EndsAt, Now: h.cfg.Now().UTC(), Snapshots: l.Snapshots, Files: []liveFileJSON{}}
	seen := map[string]bool{}
	for _, f := range sortedFiles(starter) {
		ed := slices.Contains(editable, f.Path)
		if c, ok := cur[f.Path]; ok && ed {
			f = c
		}
		seen[f.Path] = true
		out.Files = append(out.Files, fileJSON(f, ed))
	}
	for _, f := range sortedFiles(current) {
		if !seen[f.Path] {
			out.Files = append(out.Files, fileJSON(f, true))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// liveFilesIn is the body of save, run and submit: the editable files as
// typed (run and submit may send none: the latest snapshot then).
type liveFilesIn struct {
	Files []struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	} `json:"files"`
}

// readLiveFiles decodes the body into files, holding one of the token's
// upload slots (the API's, shared) while it is read, as the API's live
// routes and the candidate's upload do. The body cap (forms) turns a body
// over liveBodyMax into errLiveTooLarge here too.
func (h *Handler) readLiveFiles(r *http.Request) ([]grader.File, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, grader.Errorf(grader.EINVALID, "send the files as application/json")
	}
	release, err := h.cfg.Limits.Upload(sessionOf(r).Token.ID)
	if err != nil {
		return nil, err
	}
	defer release()
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var in liveFilesIn
	err = dec.Decode(&in)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var merr *http.MaxBytesError
		if errors.As(err, &merr) {
			return nil, errLiveTooLarge
		}
		return nil, grader.Errorf(grader.EINVALID, "the files could not be read: send {\"files\": [{\"path\": …, \"content\": …}]}")
	}
	var files []grader.File
	for _, f := range in.Files {
		if !utf8.ValidString(f.Content) {
			return nil, grader.Errorf(grader.EINVALID, "%s is not valid UTF-8 text", clip(f.Path))
		}
		files = append(files, grader.File{Path: f.Path, Data: []byte(f.Content)})
	}
	return files, nil
}

type savedJSON struct {
	Snapshot int       `json:"snapshot"`
	At       time.Time `json:"at"`
	Bytes    int       `json:"bytes"`
}

func (h *Handler) liveSave(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	files, err := h.readLiveFiles(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(files) == 0 {
		h.fail(w, r, grader.Errorf(grader.EINVALID, "the save holds no files"))
		return
	}
	s, err := svc.SaveLive(r.Context(), l.ID, files)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, savedJSON{Snapshot: s.Seq, At: s.At, Bytes: s.Bytes})
}

// liveRun saves the files sent and runs the public tests over them,
// answering when they are done with the run as the event stream tells it.
func (h *Handler) liveRun(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	files, err := h.readLiveFiles(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	run, err := svc.RunLive(r.Context(), l.ID, files)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

type submittedJSON struct {
	Submission string `json:"submission"`
}

func (h *Handler) liveSubmit(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	files, err := h.readLiveFiles(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sub, err := svc.SubmitLive(r.Context(), l.ID, files)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, submittedJSON{Submission: sub.ID})
}

// liveCandidateEvents is the candidate's stream: the session's events
// without the notes (grader.LiveEventFor, applied by the one writer).
func (h *Handler) liveCandidateEvents(w http.ResponseWriter, r *http.Request) {
	svc, l, err := h.ownLive(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, stop, err := svc.SubscribeLive(l.ID, sessionOf(r).Token.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer stop()
	api.ServeLiveEvents(r.Context(), w, events, false)
}
