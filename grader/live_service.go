package grader

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/internal/text"
)

// The service's side of live sessions (live.go is the contract): it checks
// the session's state, the limits and the files, keeps one run at a time
// per session, and tells subscribers what happened.

var _ LiveService = (*Service)(nil)

// Bounds of the service's own.
const (
	// LiveMinLimit is the shortest time limit a session may have.
	LiveMinLimit = time.Minute
	// liveMaxFiles caps the editable files of one snapshot.
	liveMaxFiles = 200
	// LiveMaxStreams caps the event streams one token may hold open on
	// one session at once (tabs, reloads, the API): each save is sent to
	// every stream, with the snapshot's files.
	LiveMaxStreams = 8
	// liveRunTimeout bounds one run, whoever waits for it: a run goes on
	// when its caller leaves (a dropped connection), so that its result is
	// stored and streamed.
	liveRunTimeout = 5 * time.Minute
)

// liveState is the service's in-memory state of live sessions: what runs
// now, when each session last ran, the per-session lock of saves, and the
// subscribers of each session's events.
type liveState struct {
	mu      sync.Mutex
	running map[string]bool
	lastRun map[string]time.Time
	locks   map[string]*sync.Mutex
	subs    map[string]map[chan LiveEvent]string // session -> stream -> subscriber's token id
}

// lock returns the session's lock, which orders its saves and its submit.
func (ls *liveState) lock(id string) *sync.Mutex {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.locks == nil {
		ls.locks = map[string]*sync.Mutex{}
	}
	m := ls.locks[id]
	if m == nil {
		m = &sync.Mutex{}
		ls.locks[id] = m
	}
	return m
}

// startRun claims the session's one run slot at now, or says why not.
func (ls *liveState) startRun(id string, now time.Time) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.running == nil {
		ls.running, ls.lastRun = map[string]bool{}, map[string]time.Time{}
	}
	if ls.running[id] {
		return Errorf(ECONFLICT, "the tests of this session are running; wait for their result")
	}
	if last, ok := ls.lastRun[id]; ok && now.Sub(last) < LiveRunEvery {
		wait := LiveRunEvery - now.Sub(last)
		e := Errorf(ERATELIMIT, "runs are at most one every %s; try again in %.1f s", LiveRunEvery, wait.Seconds())
		e.RetryAfter = wait
		return e
	}
	ls.running[id], ls.lastRun[id] = true, now
	return nil
}

func (ls *liveState) endRun(id string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	delete(ls.running, id)
}

// publish never blocks: a subscriber that is behind misses an event and
// reads the state back from the store.
func (ls *liveState) publish(id string, e LiveEvent) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for ch := range ls.subs[id] {
		select {
		case ch <- e:
		default:
		}
	}
}

// SubscribeLive delivers the session's events from now on, to at most
// LiveMaxStreams streams of one subscriber at once; see LiveService.
func (s *Service) SubscribeLive(id, subscriber string) (<-chan LiveEvent, func(), error) {
	ls := &s.live
	ls.mu.Lock()
	if ls.subs == nil {
		ls.subs = map[string]map[chan LiveEvent]string{}
	}
	n := 0
	for _, who := range ls.subs[id] {
		if who == subscriber {
			n++
		}
	}
	if n >= LiveMaxStreams {
		ls.mu.Unlock()
		e := Errorf(ERATELIMIT, "%d event streams of this session are open with this token, the most at once; close one (another tab) first", n)
		e.RetryAfter = 5 * time.Second
		return nil, nil, e
	}
	ch := make(chan LiveEvent, 64)
	if ls.subs[id] == nil {
		ls.subs[id] = map[chan LiveEvent]string{}
	}
	ls.subs[id][ch] = subscriber
	ls.mu.Unlock()
	return ch, func() {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		delete(ls.subs[id], ch)
		if len(ls.subs[id]) == 0 {
			delete(ls.subs, id)
		}
	}, nil
}

func (s *Service) liveEvent(id, typ string, fill func(*LiveEvent)) {
	e := LiveEvent{Type: typ, At: time.Now().UTC()}
	if fill != nil {
		fill(&e)
	}
	s.live.publish(id, e)
}

// liveFinished tells a live session that its submission was graded.
func (s *Service) liveFinished(e Event) {
	if e.Type != EventFinished || e.Submission.Source == nil || e.Submission.Source.Kind != SourceLive || e.Submission.Source.Live == "" {
		return
	}
	s.liveEvent(e.Submission.Source.Live, LiveEventGraded, func(le *LiveEvent) { le.Submission = e.Submission.ID })
}

func (s *Service) liveStores() error {
	if s.LiveStore == nil || s.Auth == nil {
		return Errorf(EUNAVAILABLE, "this server does not run live sessions")
	}
	return nil
}

// StartLive creates the session, its candidate token (unless one is
// given) and its assignment; see LiveService.
func (s *Service) StartLive(ctx context.Context, req LiveStart) (*LiveSession, string, error) {
	if err := s.liveStores(); err != nil {
		return nil, "", err
	}
	ex, err := s.Catalog.Exercise(strings.TrimSpace(req.Exercise))
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, "", Errorf(EINVALID, "unknown exercise %q", text.Printable(text.Cap(req.Exercise, 64)))
		}
		return nil, "", err
	}
	name, err := CleanCandidate(req.Candidate)
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		return nil, "", Errorf(EINVALID, "a live session needs the candidate's name")
	}
	mode := req.Mode
	if mode == "" {
		mode = ModePractice
	}
	if mode != ModePractice && mode != ModeAssessment {
		return nil, "", Errorf(EINVALID, "mode must be practice or assessment")
	}
	limit := req.Limit
	if limit == 0 {
		limit = LiveDefaultLimit
	}
	if limit < LiveMinLimit || limit > LiveMaxLimit {
		return nil, "", Errorf(EINVALID, "the time limit must be between %s and %s", LiveMinLimit, LiveMaxLimit)
	}
	tokenID, secret := req.CandidateToken, ""
	if tokenID != "" {
		tok, err := s.Auth.Token(ctx, tokenID)
		if err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, "", Errorf(EINVALID, "no token %q", text.Printable(text.Cap(tokenID, 64)))
			}
			return nil, "", err
		}
		if tok.Role != RoleCandidate || tok.Revoked() {
			return nil, "", Errorf(EINVALID, "token %s is not an active candidate token", tok.ID)
		}
	} else {
		secret = NewSecret()
		tok := &Token{Name: name, Role: RoleCandidate, Hash: HashSecret(secret)}
		if err := s.Auth.CreateToken(ctx, tok); err != nil {
			return nil, "", err
		}
		tokenID = tok.ID
	}
	// The session's id is chosen first, so that its assignment names it:
	// an assignment of a live session takes submissions from the session
	// only (Create).
	l := &LiveSession{
		ID: NewRecordID("live_"), Exercise: ex.ID, Candidate: name, CandidateToken: tokenID,
		Mode: mode, Limit: limit, CreatedBy: req.CreatedBy,
	}
	a := &Assignment{Exercise: ex.ID, Candidate: name, Token: tokenID, Mode: mode, CreatedBy: req.CreatedBy, Live: l.ID}
	if err := s.Auth.CreateAssignment(ctx, a); err != nil {
		return nil, "", err
	}
	l.Assignment = a.ID
	if err := s.LiveStore.CreateLive(ctx, l); err != nil {
		return nil, "", err
	}
	return l, secret, nil
}

// Live returns the session with the id.
func (s *Service) Live(ctx context.Context, id string) (*LiveSession, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.Live(ctx, id)
}

// ListLive returns sessions, newest first; see LiveStore.ListLive.
func (s *Service) ListLive(ctx context.Context, candidateToken string) ([]*LiveSession, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.ListLive(ctx, candidateToken)
}

// OpenLive starts the countdown at the first call.
func (s *Service) OpenLive(ctx context.Context, id string) (*LiveSession, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	started := false
	now := time.Now().UTC()
	l, err := s.LiveStore.UpdateLive(ctx, id, func(l *LiveSession) error {
		if !l.StartedAt.IsZero() || l.State(now) == LiveEnded {
			return errUnchanged
		}
		l.StartedAt, l.EndsAt = now, now.Add(l.Limit)
		started = true
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return s.LiveStore.Live(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if started {
		s.liveEvent(id, LiveEventStarted, func(e *LiveEvent) { e.Session = l })
		// The end by time is recorded and told when it comes; a session
		// whose timer a restart lost is ended by State and recorded at its
		// next call (active).
		time.AfterFunc(time.Until(l.EndsAt), func() {
			_, _ = s.endLive(context.Background(), id, LiveEndedByTime)
		})
	}
	return l, nil
}

// errUnchanged stops an UpdateLive that has nothing to store.
var errUnchanged = Errorf(ECONFLICT, "unchanged")

// LiveEndedByTime and LiveEndedBySubmit are LiveSession.EndedBy when no
// interviewer ended the session.
const (
	LiveEndedByTime   = "time"
	LiveEndedBySubmit = "submit"
)

// EndLive ends the session; ending an ended one returns it as it is.
func (s *Service) EndLive(ctx context.Context, id, by string) (*LiveSession, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	if by == "" {
		return nil, Errorf(EINVALID, "who ends the session must be named")
	}
	return s.endLive(ctx, id, by)
}

// endLive records the end (at EndsAt, by time, when the session ran out
// before) and tells subscribers once.
func (s *Service) endLive(ctx context.Context, id, by string) (*LiveSession, error) {
	now := time.Now().UTC()
	l, err := s.LiveStore.UpdateLive(ctx, id, func(l *LiveSession) error {
		if !l.EndedAt.IsZero() {
			return errUnchanged
		}
		l.EndedAt, l.EndedBy = now, by
		if !l.EndsAt.IsZero() && !now.Before(l.EndsAt) {
			l.EndedAt, l.EndedBy = l.EndsAt, LiveEndedByTime
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return s.LiveStore.Live(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	s.liveEvent(id, LiveEventEnded, func(e *LiveEvent) { e.Session = l })
	return l, nil
}

// active returns the session and its exercise if the candidate may still
// work in it, starting the countdown if the candidate's first act is not
// an OpenLive; an ended session is ECONFLICT (its end by time recorded).
func (s *Service) active(ctx context.Context, id string) (*LiveSession, *Exercise, error) {
	if err := s.liveStores(); err != nil {
		return nil, nil, err
	}
	l, err := s.LiveStore.Live(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if l.StartedAt.IsZero() && l.EndedAt.IsZero() {
		if l, err = s.OpenLive(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	if l.State(time.Now()) == LiveEnded {
		if l.EndedAt.IsZero() {
			_, _ = s.endLive(ctx, id, LiveEndedByTime)
		}
		return nil, nil, Errorf(ECONFLICT, "the session has ended")
	}
	// A revoked assignment refuses everything of its session: saves and
	// runs too, not only the submit.
	if l.Assignment != "" && s.Auth != nil {
		a, err := s.Auth.Assignment(ctx, l.Assignment)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, nil, err
		}
		if err == nil && a.IsRevoked() {
			return nil, nil, Errorf(EFORBIDDEN, "this session's assignment was revoked on %s; the session takes no more work", a.RevokedAt.UTC().Format(time.RFC3339))
		}
	}
	ex, err := s.Catalog.Exercise(l.Exercise)
	if err != nil {
		return nil, nil, Wrap(err, EINTERNAL, "the session's exercise is gone")
	}
	return l, ex, nil
}

// LiveFiles returns the starter's files, its editable paths and the
// candidate's current editable files.
func (s *Service) LiveFiles(ctx context.Context, id string) (starter []File, editable []string, current []File, err error) {
	if err := s.liveStores(); err != nil {
		return nil, nil, nil, err
	}
	l, err := s.LiveStore.Live(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	ex, err := s.Catalog.Exercise(l.Exercise)
	if err != nil {
		return nil, nil, nil, Wrap(err, EINTERNAL, "the session's exercise is gone")
	}
	starter, err = StarterFiles(ex)
	if err != nil {
		return nil, nil, nil, Wrap(err, EINTERNAL, "cannot read the exercise")
	}
	for _, f := range starterEditable(ex, starter) {
		editable = append(editable, f.Path)
	}
	current, err = s.currentFiles(ctx, l, ex, starter)
	return starter, editable, current, err
}

// starterEditable is the starter's files a candidate may change.
func starterEditable(ex *Exercise, starter []File) []File {
	var out []File
	for _, f := range starter {
		if ex.IsEditable(f.Path) && !isReserved(f.Path) {
			out = append(out, f)
		}
	}
	return out
}

// currentFiles is the latest snapshot's files, else the starter's editable ones.
func (s *Service) currentFiles(ctx context.Context, l *LiveSession, ex *Exercise, starter []File) ([]File, error) {
	if l.Snapshots > 0 {
		snap, err := s.LiveStore.LiveSnapshot(ctx, l.ID, l.Snapshots)
		if err != nil {
			return nil, err
		}
		return snap.Files, nil
	}
	return starterEditable(ex, starter), nil
}

// checkLiveFiles applies the archive's path rules and the exercise's
// editable paths to files a candidate typed.
func checkLiveFiles(ex *Exercise, files []File) ([]File, error) {
	if len(files) > liveMaxFiles {
		return nil, Errorf(ETOOLARGE, "%d files; a session keeps at most %d", len(files), liveMaxFiles)
	}
	seen := map[string]bool{}
	out := make([]File, 0, len(files))
	for _, f := range files {
		p, err := archive.CleanPath(f.Path)
		if err != nil {
			return nil, err // an *archive.Error: EINVALID, its message safe to show
		}
		switch {
		case archive.IsNoise(p) || isReserved(p) || !ex.IsEditable(p):
			return nil, Errorf(EINVALID, "%s is not a file you may change in this exercise (%s)", p, strings.Join(ex.Editable, ", "))
		case seen[p]:
			return nil, Errorf(EINVALID, "%s is given twice", p)
		case !utf8.Valid(f.Data):
			return nil, Errorf(EINVALID, "%s is not UTF-8 text", p)
		}
		seen[p] = true
		out = append(out, File{Path: p, Data: f.Data})
	}
	return out, nil
}

// SaveLive stores files over the latest snapshot's as the next snapshot.
func (s *Service) SaveLive(ctx context.Context, id string, files []File) (*LiveSnapshot, error) {
	l, ex, err := s.active(ctx, id)
	if err != nil {
		return nil, err
	}
	mu := s.live.lock(id)
	mu.Lock()
	defer mu.Unlock()
	return s.save(ctx, l.ID, ex, files)
}

// save is SaveLive under the session's lock, with l and ex checked.
func (s *Service) save(ctx context.Context, id string, ex *Exercise, files []File) (*LiveSnapshot, error) {
	files, err := checkLiveFiles(ex, files)
	if err != nil {
		return nil, err
	}
	// Reread under the lock: the count of snapshots decides the latest,
	// and a submit or an end may have come since the caller's check (the
	// last snapshot of a submitted session stays the one submitted).
	l, err := s.LiveStore.Live(ctx, id)
	if err != nil {
		return nil, err
	}
	if l.Submission != "" || l.State(time.Now()) == LiveEnded {
		return nil, Errorf(ECONFLICT, "the session has ended")
	}
	starter, err := StarterFiles(ex)
	if err != nil {
		return nil, Wrap(err, EINTERNAL, "cannot read the exercise")
	}
	current, err := s.currentFiles(ctx, l, ex, starter)
	if err != nil {
		return nil, err
	}
	merged := map[string][]byte{}
	for _, f := range current {
		merged[f.Path] = f.Data
	}
	paths := []string{}
	for _, f := range files {
		if old, ok := merged[f.Path]; !ok || !bytes.Equal(old, f.Data) {
			paths = append(paths, f.Path)
		}
		merged[f.Path] = f.Data
	}
	if len(paths) == 0 && l.Snapshots > 0 {
		return s.LiveStore.LiveSnapshot(ctx, id, l.Snapshots)
	}
	slices.Sort(paths)
	snap := &LiveSnapshot{At: time.Now().UTC(), Changed: paths}
	for _, p := range slices.Sorted(mapsKeys(merged)) {
		snap.Files = append(snap.Files, File{Path: p, Data: merged[p]})
		snap.Bytes += len(merged[p])
	}
	if len(snap.Files) > liveMaxFiles {
		return nil, Errorf(ETOOLARGE, "%d files; a session keeps at most %d", len(snap.Files), liveMaxFiles)
	}
	if snap.Bytes > LiveMaxSnapshotBytes {
		return nil, Errorf(ETOOLARGE, "the files come to %s; a session keeps at most %s",
			archive.FormatBytes(int64(snap.Bytes)), archive.FormatBytes(LiveMaxSnapshotBytes))
	}
	if err := s.LiveStore.AddLiveSnapshot(ctx, id, snap); err != nil {
		return nil, err
	}
	s.liveEvent(id, LiveEventSave, func(e *LiveEvent) { e.Snapshot = snap })
	return snap, nil
}

func mapsKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// RunLive saves files and runs the public tests over the snapshot.
func (s *Service) RunLive(ctx context.Context, id string, files []File) (*LiveRun, error) {
	l, ex, err := s.active(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.live.startRun(l.ID, time.Now()); err != nil {
		return nil, err
	}
	defer s.live.endRun(l.ID)
	// The run goes on if its caller leaves: its result is stored and told.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), liveRunTimeout)
	defer cancel()
	mu := s.live.lock(id)
	mu.Lock()
	snap, err := s.save(ctx, l.ID, ex, files)
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	run := &LiveRun{Snapshot: snap.Seq, At: time.Now().UTC()}
	if err := s.LiveStore.PutLiveRun(ctx, l.ID, run); err != nil {
		return nil, err
	}
	started := *run
	s.liveEvent(l.ID, LiveEventRunStart, func(e *LiveEvent) { e.Run = &started })
	res, runErr := s.PublicRun(ctx, ex.ID, snap.Files)
	run.Done, run.Result = time.Now().UTC(), storedRun(res)
	if runErr != nil {
		run.Error = ErrorMessage(runErr)
	}
	if err := s.LiveStore.PutLiveRun(ctx, l.ID, run); err != nil {
		return nil, err
	}
	done := *run
	s.liveEvent(l.ID, LiveEventRun, func(e *LiveEvent) { e.Run = &done })
	if runErr != nil {
		return nil, runErr
	}
	answer := *run
	answer.Result = res
	return &answer, nil
}

// storedRun is what a session keeps of a public run, and tells its
// streams: the log cut to LiveRunLogBytes and the tests' messages to
// LiveRunMessageBytes together, each message whole while they fit.
func storedRun(res *PublicRun) *PublicRun {
	if res == nil {
		return nil
	}
	out := *res
	out.Log = text.Cap(res.Log, LiveRunLogBytes)
	out.Tests = slices.Clone(res.Tests)
	left := LiveRunMessageBytes
	for i := range out.Tests {
		m := out.Tests[i].Message
		if len(m) > left {
			m = text.Cap(m, max(left, 64))
		}
		left = max(left-len(m), 0)
		out.Tests[i].Message = m
	}
	return &out
}

// SubmitLive saves files, submits the snapshot to the hidden judge and
// ends the session.
func (s *Service) SubmitLive(ctx context.Context, id string, files []File) (*Submission, error) {
	l, ex, err := s.active(ctx, id)
	if err != nil {
		return nil, err
	}
	mu := s.live.lock(id)
	mu.Lock()
	defer mu.Unlock()
	if l, err = s.LiveStore.Live(ctx, id); err != nil {
		return nil, err
	}
	if l.Submission != "" || l.State(time.Now()) == LiveEnded {
		return nil, Errorf(ECONFLICT, "the session has ended")
	}
	snap, err := s.save(ctx, l.ID, ex, files)
	if err != nil {
		return nil, err
	}
	sub, err := s.Create(ctx, SubmitRequest{
		Exercise: ex.ID, Candidate: l.Candidate, Files: snap.Files,
		Source: &Source{Kind: SourceLive, Live: l.ID}, Owner: l.CandidateToken, Assignment: l.Assignment,
		Priority: PriorityLive, IdempotencyKey: "live:" + l.ID,
	})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	l, err = s.LiveStore.UpdateLive(ctx, id, func(l *LiveSession) error {
		l.Submission = sub.ID
		if l.EndedAt.IsZero() {
			l.EndedAt, l.EndedBy = now, LiveEndedBySubmit
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.liveEvent(id, LiveEventSubmitted, func(e *LiveEvent) { e.Submission = sub.ID; e.Session = l })
	s.liveEvent(id, LiveEventEnded, func(e *LiveEvent) { e.Session = l })
	return sub, nil
}

// LiveSnapshots returns the session's snapshots in order, each with the
// paths it changed (worked out and recorded once for snapshots stored
// before they were recorded at save time).
func (s *Service) LiveSnapshots(ctx context.Context, id string, withFiles bool) ([]*LiveSnapshot, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	list, err := s.LiveStore.LiveSnapshots(ctx, id, withFiles)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(list, func(sn *LiveSnapshot) bool { return sn.Changed == nil }) {
		return list, nil
	}
	if err := s.backfillChanged(ctx, id, list); err != nil {
		return nil, err
	}
	return list, nil
}

// backfillChanged works out Changed for the snapshots of list stored
// without it, from their files and those of the snapshot before each (the
// starter's editable files before the first), one snapshot at a time, and
// records it so that the next listing reads none of them.
func (s *Service) backfillChanged(ctx context.Context, id string, list []*LiveSnapshot) error {
	l, err := s.LiveStore.Live(ctx, id)
	if err != nil {
		return err
	}
	ex, err := s.Catalog.Exercise(l.Exercise)
	if err != nil {
		return Wrap(err, EINTERNAL, "the session's exercise is gone")
	}
	starter, err := StarterFiles(ex)
	if err != nil {
		return Wrap(err, EINTERNAL, "cannot read the exercise")
	}
	filesOf := func(i int) ([]File, error) {
		if i < 0 {
			return starterEditable(ex, starter), nil
		}
		if list[i].Files != nil {
			return list[i].Files, nil
		}
		sn, err := s.LiveStore.LiveSnapshot(ctx, id, list[i].Seq)
		if err != nil {
			return nil, err
		}
		return sn.Files, nil
	}
	found := map[int][]string{}
	var prev []File
	prevAt := -2 // the index of the snapshot prev holds
	for i, sn := range list {
		if sn.Changed != nil {
			continue
		}
		if prevAt != i-1 {
			if prev, err = filesOf(i - 1); err != nil {
				return err
			}
		}
		cur, err := filesOf(i)
		if err != nil {
			return err
		}
		sn.Changed = changedPaths(prev, cur)
		found[sn.Seq] = sn.Changed
		prev, prevAt = cur, i
	}
	return s.LiveStore.SetLiveSnapshotChanged(ctx, id, found)
}

// changedPaths is the paths of cur whose text is not that of prev.
func changedPaths(prev, cur []File) []string {
	before := make(map[string][]byte, len(prev))
	for _, f := range prev {
		before[f.Path] = f.Data
	}
	out := []string{}
	for _, f := range cur {
		if old, ok := before[f.Path]; !ok || !bytes.Equal(old, f.Data) {
			out = append(out, f.Path)
		}
	}
	slices.Sort(out)
	return out
}

// LiveSnapshot returns one snapshot with its files.
func (s *Service) LiveSnapshot(ctx context.Context, id string, seq int) (*LiveSnapshot, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.LiveSnapshot(ctx, id, seq)
}

// LiveRun returns one run of the session.
func (s *Service) LiveRun(ctx context.Context, id string, seq int) (*LiveRun, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.LiveRun(ctx, id, seq)
}

// LiveRunSummaries returns the session's runs in order, summarized.
func (s *Service) LiveRunSummaries(ctx context.Context, id string) ([]*LiveRun, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.LiveRunSummaries(ctx, id)
}

// LiveRuns returns the session's runs in order.
func (s *Service) LiveRuns(ctx context.Context, id string) ([]*LiveRun, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.LiveRuns(ctx, id)
}

// AddLiveNote stores an interviewer's note, during the session or after.
func (s *Service) AddLiveNote(ctx context.Context, id, by, note string) (*LiveNote, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return nil, Errorf(EINVALID, "the note is empty")
	case len(note) > LiveMaxNoteBytes:
		return nil, Errorf(ETOOLARGE, "the note is %s; a note holds at most %s",
			archive.FormatBytes(int64(len(note))), archive.FormatBytes(LiveMaxNoteBytes))
	case !utf8.ValidString(note):
		return nil, Errorf(EINVALID, "the note is not UTF-8 text")
	}
	n := &LiveNote{At: time.Now().UTC(), By: by, Text: note}
	if err := s.LiveStore.AddLiveNote(ctx, id, n); err != nil {
		return nil, err
	}
	s.liveEvent(id, LiveEventNote, func(e *LiveEvent) { e.Note = n })
	return n, nil
}

// LiveNotes returns the session's notes in order.
func (s *Service) LiveNotes(ctx context.Context, id string) ([]*LiveNote, error) {
	if err := s.liveStores(); err != nil {
		return nil, err
	}
	return s.LiveStore.LiveNotes(ctx, id)
}

// liveAssignment refuses a submission made under a live session's
// assignment other than by the session's submit.
func (s *Service) liveAssignment(ctx context.Context, req SubmitRequest) error {
	if req.Source != nil && req.Source.Kind == SourceLive {
		return nil
	}
	a, err := s.requestAssignment(ctx, req.Assignment)
	if a == nil || err != nil {
		return err
	}
	if a.Live != "" {
		return Errorf(EINVALID, "this assignment is live session %s: submit from the session's page", a.Live)
	}
	return nil
}
