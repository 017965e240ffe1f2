package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// The routes of live-coding sessions (issue 14), under pathLive. Who may
// touch a session is decided once, by liveSession: staff any, a candidate
// token only the session whose CandidateToken it is; any other candidate
// gets the 404 of a session that does not exist, on every route of the
// session, staff-only ones included. What the service checks (the
// session's state, the files, the limits) it answers with its own codes.
//
// A session's own candidate may read its snapshots and runs (its own code
// and its own results) but never the interviewers' notes, whose routes
// answer it 404 as if there were none; ending a session is for staff (403).

const (
	pathLive        = "/api/v1/live"
	pathLiveSession = pathLive + "/:id"
	pathLiveRun     = pathLiveSession + "/run"
	pathLiveSubmit  = pathLiveSession + "/submit"
	pathLiveFiles   = pathLiveSession + "/files"
	pathLiveEvents  = pathLiveSession + "/events"
)

// maxLiveBody caps the body of the routes that carry a snapshot's files (a
// save, a run, a submit): the snapshot cap with each byte escaped as JSON
// at worst ("\u003c" is how Go's and other encoders write "<", six bytes:
// a template of 512 KiB may be 3 MiB of JSON), and room for the framing.
// The service checks the files' own total. The pages' cap is the same
// (api/web liveBodyMax).
const maxLiveBody = 6*grader.LiveMaxSnapshotBytes + 64<<10

// isLiveFiles reports whether c is a route whose body holds files.
func isLiveFiles(c echo.Context) bool {
	p, m := c.Path(), c.Request().Method
	return m == http.MethodPut && p == pathLiveFiles || m == http.MethodPost && (p == pathLiveRun || p == pathLiveSubmit)
}

// isLiveWork reports whether c waits for the sandbox (a run, answered when
// its tests are done, like a public run) or for the queue (a submit,
// bounded by SubmitTimeout like an upload's), rather than RequestTimeout.
func isLiveWork(c echo.Context) bool {
	p := c.Path()
	return c.Request().Method == http.MethodPost && (p == pathLiveRun || p == pathLiveSubmit)
}

// liveRoutes registers the live routes; routes calls it.
func (s *Server) liveRoutes(authn echo.MiddlewareFunc) {
	e, own := s.echo, s.liveSession
	e.POST(pathLive, s.createLive, authn, staff)
	GET(e, pathLive, s.listLive, authn)
	GET(e, pathLiveSession, s.getLive, authn, own)
	e.POST(pathLiveSession+"/end", s.endLive, authn, own, staff)
	GET(e, pathLiveFiles, s.liveFiles, authn, own)
	e.PUT(pathLiveFiles, s.saveLive, authn, own)
	e.POST(pathLiveRun, s.runLive, authn, own)
	e.POST(pathLiveSubmit, s.submitLive, authn, own)
	GET(e, pathLiveEvents, s.liveEvents, authn, own)
	GET(e, pathLiveSession+"/snapshots", s.liveSnapshots, authn, own)
	GET(e, pathLiveSession+"/snapshots/:seq", s.liveSnapshot, authn, own)
	GET(e, pathLiveSession+"/runs", s.liveRuns, authn, own)
	GET(e, pathLiveSession+"/notes", s.liveNotes, authn, own, staffOrNotFound)
	e.POST(pathLiveSession+"/notes", s.addLiveNote, authn, own, staffOrNotFound)
}

// errNoLive answers every live route of a server built without Config.Live.
func errNoLive() error {
	return grader.Errorf(grader.EUNAVAILABLE, "this server does not run live sessions")
}

func errNoSession() error { return grader.Errorf(grader.ENOTFOUND, "live session not found") }

const ctxLive = "djgrade.live"

// liveSession loads the path's session for the routes under it and lets
// through only callers who may touch it (see the top of this file).
func (s *Server) liveSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Live == nil {
			return errNoLive()
		}
		id := c.Param("id")
		if id == "" || len(id) > maxIDLen {
			return errNoSession()
		}
		l, err := s.cfg.Live.Live(c.Request().Context(), id)
		if err != nil {
			if grader.ErrorCode(err) == grader.ENOTFOUND {
				return errNoSession()
			}
			return err
		}
		if tok := caller(c); tok == nil || !tok.Role.Staff() && l.CandidateToken != tok.ID {
			return errNoSession()
		}
		c.Set(ctxLive, l)
		return next(c)
	}
}

// staffOrNotFound keeps the notes' routes to staff, answering a candidate
// (the session's own; others never get this far) as if there were none.
func staffOrNotFound(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if tok := caller(c); tok == nil || !tok.Role.Staff() {
			return grader.Errorf(grader.ENOTFOUND, "not found")
		}
		return next(c)
	}
}

// liveOf is the session liveSession loaded.
func liveOf(c echo.Context) *grader.LiveSession {
	l, _ := c.Get(ctxLive).(*grader.LiveSession)
	return l
}

// candidateOpens reports whether the request is the session's candidate
// opening it (a GET of the session or its files), which starts the
// countdown. A HEAD answers like the GET but starts nothing.
func candidateOpens(c echo.Context) bool {
	tok := caller(c)
	return c.Request().Method == http.MethodGet && tok != nil && !tok.Role.Staff()
}

// liveJSON is a session as the API shows it: the stored session (the
// shape the event stream carries too) with its limit, its state and the
// seconds left at the time of the answer, and the candidate's page. Token
// is the new candidate token's secret, in the create answer only.
type liveJSON struct {
	*grader.LiveSession
	LimitS     int    `json:"limit_s"`
	State      string `json:"state"`
	RemainingS int    `json:"remaining_s"`
	// RemainingSeconds is RemainingS under the name assignments use
	// (remaining_seconds), so that a client reads one name for both.
	RemainingSeconds int    `json:"remaining_seconds"`
	Link             string `json:"link"`
	Token            string `json:"token,omitempty"`
}

// liveView renders l at now. Before the candidate opens it the whole limit
// remains; once ended, nothing.
func liveView(l *grader.LiveSession, now time.Time) liveJSON {
	out := liveJSON{LiveSession: l, LimitS: int(l.Limit / time.Second), State: l.State(now),
		Link: PathUI + "/l/" + url.PathEscape(l.ID)}
	switch {
	case out.State == grader.LiveEnded:
	case l.EndsAt.IsZero():
		out.RemainingS = out.LimitS
	default:
		out.RemainingS = int(math.Ceil(l.EndsAt.Sub(now).Seconds()))
	}
	out.RemainingSeconds = out.RemainingS
	return out
}

// liveRequest starts a session. Limit is a Go duration such as "45m"
// (empty: grader.LiveDefaultLimit); the service checks its range, the
// exercise, the name, the mode (default practice) and the token.
type liveRequest struct {
	Exercise  string `json:"exercise"`
	Candidate string `json:"candidate"`
	TokenID   string `json:"token_id"`
	Mode      string `json:"mode"`
	Limit     string `json:"limit"`
}

func (s *Server) createLive(c echo.Context) error {
	if s.cfg.Live == nil {
		return errNoLive()
	}
	var req liveRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	start := grader.LiveStart{Exercise: req.Exercise, Candidate: req.Candidate, CandidateToken: req.TokenID,
		Mode: req.Mode, CreatedBy: caller(c).ID}
	if req.Limit != "" {
		d, err := time.ParseDuration(req.Limit)
		if err != nil {
			return grader.Errorf(grader.EINVALID, "limit must be a duration such as 45m or 1h30m")
		}
		start.Limit = d
	}
	l, secret, err := s.cfg.Live.StartLive(c.Request().Context(), start)
	if err != nil {
		return err
	}
	out := liveView(l, time.Now())
	out.Token = secret
	c.Response().Header().Set(echo.HeaderLocation, pathLive+"/"+url.PathEscape(l.ID))
	return c.JSON(http.StatusCreated, out)
}

type liveListJSON struct {
	Sessions []liveJSON `json:"sessions"`
}

// listLive lists every session for staff and a candidate's own, newest
// first.
func (s *Server) listLive(c echo.Context) error {
	if s.cfg.Live == nil {
		return errNoLive()
	}
	owner := ""
	if tok := caller(c); !tok.Role.Staff() {
		owner = tok.ID
	}
	list, err := s.cfg.Live.ListLive(c.Request().Context(), owner)
	if err != nil {
		return err
	}
	now := time.Now()
	out := liveListJSON{Sessions: make([]liveJSON, 0, len(list))}
	for _, l := range list {
		out.Sessions = append(out.Sessions, liveView(l, now))
	}
	return c.JSON(http.StatusOK, out)
}

// open returns the session as it is now; for its candidate's GET, after
// recording that the candidate opened it.
func (s *Server) open(c echo.Context) (*grader.LiveSession, error) {
	l := liveOf(c)
	if !candidateOpens(c) {
		return l, nil
	}
	return s.cfg.Live.OpenLive(c.Request().Context(), l.ID)
}

func (s *Server) getLive(c echo.Context) error {
	l, err := s.open(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, liveView(l, time.Now()))
}

func (s *Server) endLive(c echo.Context) error {
	l, err := s.cfg.Live.EndLive(c.Request().Context(), liveOf(c).ID, caller(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, liveView(l, time.Now()))
}

// fileJSON is a file of a session as text; Editable is set in the
// starter's list only.
type fileJSON struct {
	Path     string `json:"path"`
	Content  string `json:"content"`
	Editable *bool  `json:"editable,omitempty"`
}

// fileInJSON is a file as a request gives it.
type fileInJSON struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

func filesJSON(files []grader.File) []fileJSON {
	out := make([]fileJSON, 0, len(files))
	for _, f := range files {
		out = append(out, fileJSON{Path: f.Path, Content: string(f.Data)})
	}
	return out
}

type liveFilesJSON struct {
	Starter  []fileJSON `json:"starter"`
	Editable []string   `json:"editable"`
	Current  []fileJSON `json:"current"`
}

// liveFiles answers the editor's files: the starter's (each marked
// editable or not), the editable paths, and the candidate's current files.
func (s *Server) liveFiles(c echo.Context) error {
	l, err := s.open(c)
	if err != nil {
		return err
	}
	starter, editable, current, err := s.cfg.Live.LiveFiles(c.Request().Context(), l.ID)
	if err != nil {
		return err
	}
	isEditable := make(map[string]bool, len(editable))
	for _, p := range editable {
		isEditable[p] = true
	}
	out := liveFilesJSON{Starter: filesJSON(starter), Editable: editable, Current: filesJSON(current)}
	for i := range out.Starter {
		e := isEditable[out.Starter[i].Path]
		out.Starter[i].Editable = &e
	}
	if out.Editable == nil {
		out.Editable = []string{}
	}
	return c.JSON(http.StatusOK, out)
}

// liveFilesRequest is the body of a save, a run and a submit: the files
// to store over the latest snapshot's (a run's and a submit's may be
// absent: the latest snapshot as it is).
type liveFilesRequest struct {
	Files []fileInJSON `json:"files"`
}

// readLiveFiles decodes the body's files, holding an upload slot of the
// caller's while the body is read (as a public run does): nil when the
// body is empty or names none.
func (s *Server) readLiveFiles(c echo.Context) ([]grader.File, error) {
	if c.Request().ContentLength == 0 {
		return nil, nil
	}
	release, err := s.limits.Upload(caller(c).ID)
	if err != nil {
		return nil, err
	}
	var req liveFilesRequest
	err = bindJSON(c, &req)
	release()
	if err != nil {
		return nil, err
	}
	var files []grader.File
	for _, f := range req.Files {
		files = append(files, grader.File{Path: f.Path, Data: []byte(f.Content)})
	}
	return files, nil
}

// snapshotView is a snapshot as the API shows it: grader.LiveSnapshot's
// JSON (files as text), without its files in a listing without ?files=true.
func snapshotView(sn *grader.LiveSnapshot, withFiles bool) *grader.LiveSnapshot {
	out := *sn
	if !withFiles {
		out.Files = nil
	}
	return &out
}

// saveLive stores the body's files as a snapshot and answers with it.
func (s *Server) saveLive(c echo.Context) error {
	files, err := s.readLiveFiles(c)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return grader.Errorf(grader.EINVALID, "files must name at least one file")
	}
	sn, err := s.cfg.Live.SaveLive(c.Request().Context(), liveOf(c).ID, files)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, snapshotView(sn, true))
}

// runLive saves the body's files, if any, and runs the public tests over
// the session's files; it answers when they are done.
func (s *Server) runLive(c echo.Context) error {
	files, err := s.readLiveFiles(c)
	if err != nil {
		return err
	}
	run, err := s.cfg.Live.RunLive(c.Request().Context(), liveOf(c).ID, files)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

// submitLive saves the body's files, if any, submits the session's files
// to the hidden judge and ends the session; the answer is the submission
// as the caller may see it (view), as an upload's is.
func (s *Server) submitLive(c echo.Context) error {
	files, err := s.readLiveFiles(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.SubmitTimeout)
	defer cancel()
	sub, err := s.cfg.Live.SubmitLive(ctx, liveOf(c).ID, files)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, pathSubmissions+"/"+url.PathEscape(sub.ID))
	return c.JSON(http.StatusAccepted, s.view(c, sub))
}

// liveEvents streams the session's events as server-sent events, each as
// the caller may see it (grader.LiveEventFor: a candidate never gets a
// note).
func (s *Server) liveEvents(c echo.Context) error {
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		return c.NoContent(http.StatusOK)
	}
	events, stop, err := s.cfg.Live.SubscribeLive(liveOf(c).ID, caller(c).ID)
	if err != nil {
		return err
	}
	defer stop()
	ServeLiveEvents(c.Request().Context(), c.Response(), events, caller(c).Role.Staff())
	return nil
}

type snapshotListJSON struct {
	Snapshots []*grader.LiveSnapshot `json:"snapshots"`
	// NextAfter, in a listing with files cut at liveFilesPage, is the
	// ?after= of the next page.
	NextAfter int `json:"next_after,omitempty"`
}

// liveFilesPage bounds the files of one listing with ?files=true: a
// session may hold grader.LiveMaxSessionBytes of snapshots, and a listing
// of them all at once would hold that many in memory, per request.
const liveFilesPage = 4 << 20

// liveSnapshots lists the session's snapshots in order, with their files
// when ?files=true: then from the one after ?after= (a seq, default 0),
// as many as fit liveFilesPage (one at least), next_after saying where
// the next page starts.
func (s *Server) liveSnapshots(c echo.Context) error {
	withFiles := false
	if v := c.QueryParam("files"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return grader.Errorf(grader.EINVALID, "files must be true or false")
		}
		withFiles = b
	}
	after := 0
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return grader.Errorf(grader.EINVALID, "after must be a snapshot's seq (0 or more)")
		}
		after = n
	}
	ctx, id := c.Request().Context(), liveOf(c).ID
	// The listing without files is small; the files are read one
	// snapshot at a time, up to the page.
	list, err := s.cfg.Live.LiveSnapshots(ctx, id, false)
	if err != nil {
		return err
	}
	out := snapshotListJSON{Snapshots: make([]*grader.LiveSnapshot, 0, len(list))}
	if !withFiles {
		for _, sn := range list {
			out.Snapshots = append(out.Snapshots, snapshotView(sn, false))
		}
		return c.JSON(http.StatusOK, out)
	}
	size := 0
	for _, meta := range list {
		if meta.Seq <= after {
			continue
		}
		if len(out.Snapshots) > 0 && size+meta.Bytes > liveFilesPage {
			out.NextAfter = out.Snapshots[len(out.Snapshots)-1].Seq
			break
		}
		sn, err := s.cfg.Live.LiveSnapshot(ctx, id, meta.Seq)
		if err != nil {
			return err
		}
		size += sn.Bytes
		out.Snapshots = append(out.Snapshots, snapshotView(sn, true))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) liveSnapshot(c echo.Context) error {
	seq, err := strconv.Atoi(c.Param("seq"))
	if err != nil || seq < 1 {
		return grader.Errorf(grader.ENOTFOUND, "no such snapshot")
	}
	sn, err := s.cfg.Live.LiveSnapshot(c.Request().Context(), liveOf(c).ID, seq)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, snapshotView(sn, true))
}

type liveRunsJSON struct {
	Runs []*grader.LiveRun `json:"runs"`
	// NextAfter is the ?after= of the next page, when this one was cut at
	// liveFilesPage.
	NextAfter int `json:"next_after,omitempty"`
}

// liveRuns lists the session's runs in order from the one after ?after=
// (default 0), read one at a time, as many as fit liveFilesPage (one at
// least; a stored run is at most some 300 KiB): a session may hold
// grader.LiveMaxRuns of them.
func (s *Server) liveRuns(c echo.Context) error {
	after := 0
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return grader.Errorf(grader.EINVALID, "after must be a run's seq (0 or more)")
		}
		after = n
	}
	ctx, l := c.Request().Context(), liveOf(c)
	out := liveRunsJSON{Runs: []*grader.LiveRun{}}
	size := 0
	for seq := after + 1; seq <= l.Runs; seq++ {
		if size > liveFilesPage {
			out.NextAfter = seq - 1
			break
		}
		run, err := s.cfg.Live.LiveRun(ctx, l.ID, seq)
		if err != nil {
			return err
		}
		data, err := json.Marshal(run)
		if err != nil {
			return err
		}
		size += len(data)
		out.Runs = append(out.Runs, run)
	}
	return c.JSON(http.StatusOK, out)
}

type liveNotesJSON struct {
	Notes []*grader.LiveNote `json:"notes"`
}

func (s *Server) liveNotes(c echo.Context) error {
	notes, err := s.cfg.Live.LiveNotes(c.Request().Context(), liveOf(c).ID)
	if err != nil {
		return err
	}
	if notes == nil {
		notes = []*grader.LiveNote{}
	}
	return c.JSON(http.StatusOK, liveNotesJSON{Notes: notes})
}

type noteRequest struct {
	Text string `json:"text"`
}

// addLiveNote keeps an interviewer's private note (the service checks it
// is not empty and at most grader.LiveMaxNoteBytes).
func (s *Server) addLiveNote(c echo.Context) error {
	var req noteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	n, err := s.cfg.Live.AddLiveNote(c.Request().Context(), liveOf(c).ID, caller(c).ID, req.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}
