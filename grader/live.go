package grader

import (
	"context"
	"encoding/json"
	"time"
)

// A live session is a live-coding interview inside djgrade: an interviewer
// starts one for an exercise and a candidate, the candidate edits the
// exercise's editable files in the browser, runs the public tests on the
// fast path (PublicRun) and submits once to the hidden judge; the
// interviewer watches every save and run as it happens, keeps private
// notes and, afterwards, plays the session back.
//
// A session is built on an assignment (LiveSession.Assignment, mode
// practice or assessment), so that its submission is made, scheduled and
// shown by the same rules as any other: what the candidate sees of the
// grade is the assignment's mode, decided by View.
//
// This file is the contract between the service (live_service.go), the
// store (grader/bolt) and the pages and routes (api, api/web).

// Live session states.
const (
	LiveActive = "active" // the candidate may edit, run and submit
	LiveEnded  = "ended"  // ended by the interviewer, by the submit or by the time limit
)

// Limits of a live session; the service enforces them, the store stores
// what the service has checked.
const (
	// LiveMaxLimit is the longest time limit a session may have.
	LiveMaxLimit = 4 * time.Hour
	// LiveDefaultLimit is the time limit when none is given.
	LiveDefaultLimit = 60 * time.Minute
	// LiveMaxSnapshots is how many snapshots one session may store; a save
	// past it is refused with ETOOLARGE (the candidate's page says so).
	LiveMaxSnapshots = 2000
	// LiveMaxSnapshotBytes caps the editable files of one snapshot, all
	// files together (the same cap as an upload's unpacked files, or lower).
	LiveMaxSnapshotBytes = 512 << 10
	// LiveMaxSessionBytes caps the snapshots of one session, all together
	// (LiveSession.SnapshotBytes): without it LiveMaxSnapshots snapshots of
	// LiveMaxSnapshotBytes would let one candidate grow the store by 1 GiB
	// in minutes. 64 MiB is 2000 saves of 32 KiB of files each; a save past
	// it is refused with ETOOLARGE, as one past LiveMaxSnapshots.
	LiveMaxSessionBytes = 64 << 20
	// LiveMaxRuns is how many runs one session may store; a run past it
	// is refused with ETOOLARGE. With LiveRunEvery and the stored run's
	// own cap (LiveRunLogBytes, LiveRunMessageBytes) it bounds what the
	// watch page and the playback read of a session's runs.
	LiveMaxRuns = 500
	// LiveRunLogBytes and LiveRunMessageBytes cap what a stored run keeps
	// of its log and of its tests' messages together (the candidate's
	// report may fill every one of 500 messages); the run's answer to the
	// candidate's own request is whole.
	LiveRunLogBytes     = 16 << 10
	LiveRunMessageBytes = 64 << 10
	// LiveMaxNoteBytes caps one interviewer note.
	LiveMaxNoteBytes = 8 << 10
	// LiveRunEvery is the least time between two runs of one session's
	// public tests; one run at a time per session besides.
	LiveRunEvery = 3 * time.Second
)

// LiveSession is a live-coding session as stored.
type LiveSession struct {
	ID       string `json:"id"` // "live_…"
	Exercise string `json:"exercise"`
	// Candidate is the candidate's name; CandidateToken the id of the
	// candidate token that may open the session (the only one).
	Candidate      string `json:"candidate"`
	CandidateToken string `json:"candidate_token"`
	// Assignment is the id of the assignment the session made for itself.
	Assignment string        `json:"assignment"`
	Mode       string        `json:"mode"` // the assignment's: ModePractice or ModeAssessment
	Limit      time.Duration `json:"-"`
	CreatedBy  string        `json:"created_by"` // the interviewer's token id
	CreatedAt  time.Time     `json:"created_at"`
	// StartedAt is when the candidate first opened it: the countdown
	// starts then. Zero until then; EndsAt is StartedAt+Limit.
	StartedAt time.Time `json:"started_at,omitzero"`
	EndsAt    time.Time `json:"ends_at,omitzero"`
	// EndedAt and EndedBy are set when it ended: by a token id, "submit"
	// or "time".
	EndedAt time.Time `json:"ended_at,omitzero"`
	EndedBy string    `json:"ended_by,omitempty"`
	// Submission is the id of the submission its submit made ("" before).
	Submission string `json:"submission,omitempty"`
	// Snapshots and Runs count what is stored; SnapshotBytes sums the
	// snapshots' Bytes (since it was counted: 0 for older sessions).
	Snapshots     int   `json:"snapshots"`
	Runs          int   `json:"runs"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
}

// State is LiveActive or LiveEnded at now (a session past EndsAt has
// ended even if nothing has recorded it yet).
func (l *LiveSession) State(now time.Time) string {
	if !l.EndedAt.IsZero() || (!l.EndsAt.IsZero() && !now.Before(l.EndsAt)) {
		return LiveEnded
	}
	return LiveActive
}

// LiveSnapshot is the candidate's editable files at one moment: every
// save is one, and so is what each run and the submit ran.
type LiveSnapshot struct {
	Seq   int       `json:"seq"` // 1, 2, …: the session's order
	At    time.Time `json:"at"`
	Files []File    `json:"files"` // the editable files only, as typed
	Bytes int       `json:"bytes"`
	// Changed is the paths whose text this snapshot changed from the one
	// before (from the starter's, for the first), sorted: what the
	// playback counts the time between the two against, recorded at save
	// time so that no page reads every snapshot's files. It is empty, not
	// nil, when nothing changed; nil only in a snapshot stored before it
	// was recorded, which the service's listing fills in (once: it stores
	// what it worked out).
	Changed []string `json:"changed"`
}

// liveFileJSON is a file of a snapshot as JSON shows it (the stream, the
// API, the store): text, which SaveLive has checked is UTF-8.
type liveFileJSON struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

type liveSnapshotJSON struct {
	Seq   int            `json:"seq"`
	At    time.Time      `json:"at"`
	Files []liveFileJSON `json:"files,omitempty"`
	Bytes int            `json:"bytes"`
	// Changed is not omitempty: [] (recorded, nothing changed) and null
	// (not recorded) differ.
	Changed []string `json:"changed"`
}

// MarshalJSON writes the files as {path, content} text (absent when the
// snapshot was read without them).
func (s LiveSnapshot) MarshalJSON() ([]byte, error) {
	out := liveSnapshotJSON{Seq: s.Seq, At: s.At, Bytes: s.Bytes, Changed: s.Changed}
	for _, f := range s.Files {
		out.Files = append(out.Files, liveFileJSON{Path: f.Path, Content: string(f.Data)})
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *LiveSnapshot) UnmarshalJSON(data []byte) error {
	var in liveSnapshotJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*s = LiveSnapshot{Seq: in.Seq, At: in.At, Bytes: in.Bytes, Changed: in.Changed}
	for _, f := range in.Files {
		s.Files = append(s.Files, File{Path: f.Path, Data: []byte(f.Content)})
	}
	return nil
}

// LiveRun is one press of "Run tests": the snapshot it ran and what the
// public tests said (nil while it runs; Error when it could not run).
type LiveRun struct {
	Seq      int        `json:"seq"` // 1, 2, …
	Snapshot int        `json:"snapshot"`
	At       time.Time  `json:"at"`
	Done     time.Time  `json:"done,omitzero"`
	Result   *PublicRun `json:"result,omitempty"`
	Error    string     `json:"error,omitempty"`
	// Summary counts the result's tests; in a listing of summaries
	// (LiveRunSummaries) Result holds its verdict and reason alone.
	Summary *LiveRunSummary `json:"summary,omitempty"`
}

// LiveRunSummary is what a listing of a session's runs needs of each
// run's tests: how many passed of how many.
type LiveRunSummary struct {
	Passed int `json:"passed"`
	Tests  int `json:"tests"`
}

// Summarized returns r as a listing of summaries has it: Result without
// its tests, log and timings, and Summary counting them.
func (r LiveRun) Summarized() *LiveRun {
	if r.Result != nil {
		sum := &LiveRunSummary{Tests: len(r.Result.Tests)}
		for _, t := range r.Result.Tests {
			if t.Outcome == OutcomePassed {
				sum.Passed++
			}
		}
		r.Summary = sum
		r.Result = &PublicRun{Exercise: r.Result.Exercise, Verdict: r.Result.Verdict, Reason: r.Result.Reason}
	}
	return &r
}

// LiveNote is an interviewer's private note: never shown to the candidate.
type LiveNote struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"` // token id
	Text string    `json:"text"`
}

// Live event types, in LiveEvent.Type.
const (
	LiveEventSave      = "save"      // Snapshot
	LiveEventRunStart  = "run_start" // Run (no result yet)
	LiveEventRun       = "run"       // Run with its result
	LiveEventSubmitted = "submitted" // Submission
	LiveEventGraded    = "graded"    // Submission, finished
	LiveEventNote      = "note"      // Note: interviewers only
	LiveEventEnded     = "ended"     // Session
	LiveEventStarted   = "started"   // Session: the candidate opened it
)

// LiveEvent is one thing that happened in a session, as the event stream
// carries it. Which audience may see an event is decided by LiveEventFor.
type LiveEvent struct {
	Type       string        `json:"type"`
	At         time.Time     `json:"at"`
	Session    *LiveSession  `json:"session,omitempty"`
	Snapshot   *LiveSnapshot `json:"snapshot,omitempty"`
	Run        *LiveRun      `json:"run,omitempty"`
	Submission string        `json:"submission,omitempty"`
	Note       *LiveNote     `json:"note,omitempty"`
}

// LiveEventFor returns what of e the audience may see, or nil: a
// candidate never sees notes. (What a candidate sees of the grade is the
// submission's View, fetched separately.)
func LiveEventFor(e LiveEvent, staff bool) *LiveEvent {
	if !staff && e.Type == LiveEventNote {
		return nil
	}
	if !staff {
		e.Note = nil
	}
	return &e
}

// LiveStore keeps live sessions, their snapshots, runs and notes.
type LiveStore interface {
	// CreateLive stores l, assigning CreatedAt, and ID unless l has one
	// (the service chooses it, for the assignment to name); an id already
	// stored is ECONFLICT.
	CreateLive(ctx context.Context, l *LiveSession) error
	// Live returns the session with the id, or ENOTFOUND.
	Live(ctx context.Context, id string) (*LiveSession, error)
	// UpdateLive loads the session, calls fn on it and stores it if fn
	// returns nil, in one transaction.
	UpdateLive(ctx context.Context, id string, fn func(*LiveSession) error) (*LiveSession, error)
	// ListLive returns sessions newest first; candidateToken, if not
	// empty, keeps only that candidate's.
	ListLive(ctx context.Context, candidateToken string) ([]*LiveSession, error)
	// AddLiveSnapshot stores s as the session's next snapshot (Seq
	// assigned) and counts it, refusing with ETOOLARGE past LiveMaxSnapshots
	// or LiveMaxSessionBytes.
	AddLiveSnapshot(ctx context.Context, id string, s *LiveSnapshot) error
	// LiveSnapshots returns the session's snapshots in order, without
	// their files when withFiles is false; LiveSnapshot one with its files.
	// Without files the listing reads no snapshot's files (but those of
	// snapshots stored before Changed was recorded).
	LiveSnapshots(ctx context.Context, id string, withFiles bool) ([]*LiveSnapshot, error)
	LiveSnapshot(ctx context.Context, id string, seq int) (*LiveSnapshot, error)
	// SetLiveSnapshotChanged records the Changed paths of stored
	// snapshots (by Seq) that were stored without them.
	SetLiveSnapshotChanged(ctx context.Context, id string, changed map[int][]string) error
	// PutLiveRun stores r (a new one when r.Seq is 0, Seq assigned,
	// refused with ETOOLARGE past LiveMaxRuns).
	PutLiveRun(ctx context.Context, id string, r *LiveRun) error
	LiveRuns(ctx context.Context, id string) ([]*LiveRun, error)
	// LiveRun returns one run, or ENOTFOUND.
	LiveRun(ctx context.Context, id string, seq int) (*LiveRun, error)
	// LiveRunSummaries returns the session's runs in order, each
	// Summarized, reading no run's tests (but those of runs stored before
	// the summaries were).
	LiveRunSummaries(ctx context.Context, id string) ([]*LiveRun, error)
	AddLiveNote(ctx context.Context, id string, n *LiveNote) error
	LiveNotes(ctx context.Context, id string) ([]*LiveNote, error)
}

// LiveStart is what an interviewer gives to start a session.
type LiveStart struct {
	Exercise string
	// Candidate is the candidate's name. CandidateToken, if set, is the id
	// of an existing candidate token that will open the session; if empty
	// a new candidate token is made and its secret returned once.
	Candidate      string
	CandidateToken string
	Mode           string        // ModePractice (default) or ModeAssessment
	Limit          time.Duration // 0: LiveDefaultLimit; at most LiveMaxLimit
	CreatedBy      string        // the interviewer's token id
}

// LiveService is what the API's routes and the dashboard's pages need of
// live sessions; *Service implements it. Who may call what (the session's
// candidate token, or staff) is checked by the callers; the service checks
// the session's state, the limits and the files.
type LiveService interface {
	// StartLive creates the session and its assignment; secret is the new
	// candidate token's secret ("" when an existing token was given).
	StartLive(ctx context.Context, req LiveStart) (l *LiveSession, secret string, err error)
	Live(ctx context.Context, id string) (*LiveSession, error)
	ListLive(ctx context.Context, candidateToken string) ([]*LiveSession, error)
	// OpenLive records that the candidate opened the session: the first
	// call starts the countdown (StartedAt, EndsAt).
	OpenLive(ctx context.Context, id string) (*LiveSession, error)
	// LiveFiles returns the starter's files, the editable paths, and the
	// candidate's current editable files (the latest snapshot, else the
	// starter's).
	LiveFiles(ctx context.Context, id string) (starter []File, editable []string, current []File, err error)
	// SaveLive stores files (editable paths only, the archive's path rules)
	// as a snapshot; a save identical to the latest stores nothing and
	// returns the latest. ECONFLICT once the session has ended.
	SaveLive(ctx context.Context, id string, files []File) (*LiveSnapshot, error)
	// RunLive saves files (nil: the latest snapshot) and runs the public
	// tests over them, waiting for the result; one run at a time per
	// session (ECONFLICT) and at most one per LiveRunEvery (ERATELIMIT).
	RunLive(ctx context.Context, id string, files []File) (*LiveRun, error)
	// SubmitLive saves files (nil: the latest snapshot), submits them to
	// the hidden judge at PriorityLive under the session's assignment, and
	// ends the session. Once only (ECONFLICT after).
	SubmitLive(ctx context.Context, id string, files []File) (*Submission, error)
	// EndLive ends the session (by: the token id); ending an ended one
	// returns it as it is.
	EndLive(ctx context.Context, id, by string) (*LiveSession, error)
	LiveSnapshots(ctx context.Context, id string, withFiles bool) ([]*LiveSnapshot, error)
	LiveSnapshot(ctx context.Context, id string, seq int) (*LiveSnapshot, error)
	LiveRuns(ctx context.Context, id string) ([]*LiveRun, error)
	// LiveRun returns one run (seq 1, 2, …; the session's Runs is the
	// latest), or ENOTFOUND: what a page that needs one reads, rather than
	// every run.
	LiveRun(ctx context.Context, id string, seq int) (*LiveRun, error)
	// LiveRunSummaries returns the runs in order without their tests
	// (LiveRun.Summarized): what the watch page and the playback list.
	LiveRunSummaries(ctx context.Context, id string) ([]*LiveRun, error)
	AddLiveNote(ctx context.Context, id, by, text string) (*LiveNote, error)
	LiveNotes(ctx context.Context, id string) ([]*LiveNote, error)
	// SubscribeLive delivers the session's events from now on (filter
	// them with LiveEventFor) to subscriber (the caller's token id); the
	// func stops the delivery. One subscriber may hold at most
	// LiveMaxStreams at once on a session (ERATELIMIT past it), so that a
	// candidate's streams never crowd out the interviewer's.
	SubscribeLive(id, subscriber string) (<-chan LiveEvent, func(), error)
}
