package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// The playback of a live session: a timeline of its snapshots with its
// runs marked on it, a slider that scrubs the code through the snapshots
// in order, the figures of where the time went, and two snapshots compared
// as a diff. Every part is rendered on the server (?at= and ?a=&b= choose);
// live.js makes the slider fetch snapshots as it moves.

// playbackData is the page's data.
type playbackData struct {
	L     *grader.LiveSession
	Ex    *grader.Exercise
	Snaps []*grader.LiveSnapshot // without files
	Runs  []*grader.LiveRun
	// At is the snapshot shown; AtFiles its files and AtRuns the runs of it.
	At      int
	AtSnap  *grader.LiveSnapshot
	AtFiles []grader.File
	AtRuns  []*grader.LiveRun
	// Timeline is the SVG strip of snapshots and runs.
	Timeline template.HTML
	Marks    []runMark
	Figures  playbackFigures
	Segments []segment
	Files    []fileTime
	// A and B are the snapshots compared (0: the starter).
	A, B    int
	Compare []fileDiff
}

// runMark is a run on the timeline, by the index of its snapshot.
type runMark struct {
	Run   *grader.LiveRun
	Index int // 1-based index in Snaps
	Pass  bool
}

type playbackFigures struct {
	Started, Ended      time.Time
	Duration            string
	Runs, Passing       int
	Saves               int
	FirstPass           string // from the start to the first passing run
	FirstPassRun        int
	MedianGap, LongGap  string
	Waiting             string // the time runs took, summed
	SubmittedAfterFirst string
}

// segment is the time between two marks of the session (the start, each
// run, the end) and what happened in it.
type segment struct {
	From, To string
	Duration string
	Share    int // percent of the session
	Saves    int
	Files    []string
}

// fileTime is how much of the session went to editing one file: each gap
// between two snapshots goes to the files the later one changed.
type fileTime struct {
	Path  string
	Time  string
	Share int
	Saves int
	d     time.Duration
}

func roundDur(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func (h *Handler) livePlayback(w http.ResponseWriter, r *http.Request) {
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
	d := playbackData{L: l, Ex: ex}
	if d.Snaps, err = svc.LiveSnapshots(ctx, l.ID, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Runs, err = svc.LiveRuns(ctx, l.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	starter, _, _, err := svc.LiveFiles(ctx, l.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	seqAt := func(key string, def int) int {
		n, err := strconv.Atoi(q.Get(key))
		if err != nil || n < 0 || n > len(d.Snaps) {
			return def
		}
		return n
	}
	// Snapshots are numbered 1, 2, … in order (the store's Seq); the
	// page addresses them by that number.
	index := map[int]int{}
	for i, s := range d.Snaps {
		index[s.Seq] = i + 1
	}
	if len(d.Snaps) > 0 {
		d.At = seqAt("at", len(d.Snaps))
		if d.At == 0 {
			d.At = len(d.Snaps)
		}
		snap, err := svc.LiveSnapshot(ctx, l.ID, d.Snaps[d.At-1].Seq)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.AtSnap, d.AtFiles = snap, sortedFiles(snap.Files)
	}
	for _, run := range d.Runs {
		m := runMark{Run: run, Index: index[run.Snapshot], Pass: run.Result != nil && run.Result.Verdict == grader.VerdictPassed}
		d.Marks = append(d.Marks, m)
		if d.AtSnap != nil && run.Snapshot == d.AtSnap.Seq {
			d.AtRuns = append(d.AtRuns, run)
		}
	}
	d.Timeline = timelineSVG(len(d.Snaps), d.Marks, d.At)
	d.Figures, d.Segments = figures(l, d.Snaps, d.Runs)
	if d.Files, err = h.fileTimes(r, svc, l, starter, d.Snaps); err != nil {
		h.fail(w, r, err)
		return
	}

	// Compare: ?a=&b= (0 is the starter); by default the starter against
	// the snapshot shown.
	d.A, d.B = seqAt("a", 0), seqAt("b", d.At)
	filesOf := func(n int) ([]grader.File, error) {
		if n == 0 {
			return starter, nil
		}
		s, err := svc.LiveSnapshot(ctx, l.ID, d.Snaps[n-1].Seq)
		if err != nil {
			return nil, err
		}
		return s.Files, nil
	}
	if len(d.Snaps) > 0 {
		a, err := filesOf(d.A)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		b, err := filesOf(d.B)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// Compare only the editable files: the snapshots hold no others.
		if d.A == 0 {
			a = onlyPaths(a, b)
		}
		if d.B == 0 {
			b = onlyPaths(b, a)
		}
		d.Compare = diffFiles(a, b, nil)
	}
	h.render(w, r, http.StatusOK, "liveplayback", &page{Title: "Playback: " + l.Candidate, Nav: "live", Script: true, Live: true, Data: d})
}

// onlyPaths keeps the files of a whose paths are in b.
func onlyPaths(a, b []grader.File) []grader.File {
	keep := map[string]bool{}
	for _, f := range b {
		keep[f.Path] = true
	}
	var out []grader.File
	for _, f := range a {
		if keep[f.Path] {
			out = append(out, f)
		}
	}
	return out
}

// figures sums the session up: how long it took, how many runs, the time
// to the first passing run, the gaps between runs, and the segments
// between its marks (start, each run, end) with the saves in each.
func figures(l *grader.LiveSession, snaps []*grader.LiveSnapshot, runs []*grader.LiveRun) (playbackFigures, []segment) {
	f := playbackFigures{Started: l.StartedAt, Runs: len(runs), Saves: len(snaps), FirstPass: "—", MedianGap: "—", LongGap: "—"}
	f.Ended = l.EndedAt
	if f.Ended.IsZero() && !l.EndsAt.IsZero() && l.State(time.Now()) == grader.LiveEnded {
		f.Ended = l.EndsAt
	}
	start := l.StartedAt
	if start.IsZero() && len(snaps) > 0 {
		start = snaps[0].At
	}
	end := f.Ended
	if end.IsZero() {
		end = time.Now()
	}
	total := end.Sub(start)
	if !start.IsZero() {
		f.Duration = roundDur(total)
	}
	var waiting time.Duration
	var gaps []time.Duration
	for i, run := range runs {
		if run.Result != nil && run.Result.Verdict == grader.VerdictPassed {
			f.Passing++
			if f.FirstPassRun == 0 {
				f.FirstPassRun = run.Seq
				f.FirstPass = roundDur(run.At.Sub(start))
			}
		}
		if !run.Done.IsZero() {
			waiting += run.Done.Sub(run.At)
		}
		if i > 0 {
			gaps = append(gaps, run.At.Sub(runs[i-1].At))
		}
	}
	f.Waiting = roundDur(waiting)
	if len(gaps) > 0 {
		s := append([]time.Duration(nil), gaps...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		f.MedianGap, f.LongGap = roundDur(s[len(s)/2]), roundDur(s[len(s)-1])
	}
	if start.IsZero() {
		return f, nil
	}
	// Segments: start → run 1 → run 2 → … → end.
	type mark struct {
		at    time.Time
		label string
	}
	marks := []mark{{start, "start"}}
	for _, run := range runs {
		marks = append(marks, mark{run.At, "run #" + strconv.Itoa(run.Seq)})
	}
	endLabel := "now"
	if !f.Ended.IsZero() {
		endLabel = "end"
		if l.EndedBy == "submit" {
			endLabel = "submit"
		}
	}
	marks = append(marks, mark{end, endLabel})
	var segs []segment
	for i := 1; i < len(marks); i++ {
		a, b := marks[i-1], marks[i]
		sg := segment{From: a.label, To: b.label, Duration: roundDur(b.at.Sub(a.at))}
		if total > 0 {
			sg.Share = int(b.at.Sub(a.at) * 100 / total)
		}
		for _, s := range snaps {
			if !s.At.Before(a.at) && s.At.Before(b.at) {
				sg.Saves++
			}
		}
		segs = append(segs, sg)
	}
	return f, segs
}

// fileTimes attributes each gap between snapshots to the files the later
// snapshot changed, and sums them per file, most time first.
func (h *Handler) fileTimes(r *http.Request, svc grader.LiveService, l *grader.LiveSession, starter []grader.File, snaps []*grader.LiveSnapshot) ([]fileTime, error) {
	if len(snaps) == 0 {
		return nil, nil
	}
	prev := map[string]string{}
	for _, f := range starter {
		prev[f.Path] = string(f.Data)
	}
	at := l.StartedAt
	if at.IsZero() {
		at = snaps[0].At
	}
	by := map[string]*fileTime{}
	var total time.Duration
	// One snapshot's files at a time: a session may hold many.
	for _, meta := range snaps {
		s, err := svc.LiveSnapshot(r.Context(), l.ID, meta.Seq)
		if err != nil {
			return nil, err
		}
		gap := s.At.Sub(at)
		at = s.At
		var changed []string
		for _, f := range s.Files {
			if prev[f.Path] != string(f.Data) {
				changed = append(changed, f.Path)
			}
			prev[f.Path] = string(f.Data)
		}
		for _, p := range changed {
			ft := by[p]
			if ft == nil {
				ft = &fileTime{Path: p}
				by[p] = ft
			}
			ft.Saves++
			ft.d += gap / time.Duration(len(changed))
		}
		if len(changed) > 0 {
			total += gap
		}
	}
	var out []fileTime
	for _, ft := range by {
		ft.Time = roundDur(ft.d)
		if total > 0 {
			ft.Share = int(ft.d * 100 / total)
		}
		out = append(out, *ft)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].d > out[j].d || out[i].d == out[j].d && out[i].Path < out[j].Path })
	return out, nil
}

// timelineSVG draws n snapshots as ticks along a line, in order, the runs
// as dots at the snapshot each ran (green passed, red not), and the
// snapshot shown as a ring. Positions are by snapshot number, so that the
// slider above moves along the same line.
func timelineSVG(n int, marks []runMark, at int) template.HTML {
	const width, pad, y = 1000, 12, 22
	if n == 0 {
		return ""
	}
	x := func(i int) float64 {
		if n == 1 {
			return width / 2
		}
		return pad + float64(i-1)*float64(width-2*pad)/float64(n-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline-svg" viewBox="0 0 %d 44" preserveAspectRatio="none" role="img" aria-label="%d snapshots and %d runs in order">`, width, n, len(marks))
	fmt.Fprintf(&b, `<line class="tl-line" x1="%d" y1="%d" x2="%d" y2="%d"/>`, pad, y, width-pad, y)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<line class="tl-tick" x1="%.1f" y1="%d" x2="%.1f" y2="%d"><title>snapshot %d</title></line>`, x(i), y-6, x(i), y+6, i)
	}
	for _, m := range marks {
		if m.Index == 0 {
			continue
		}
		cls := "tl-run fail"
		if m.Pass {
			cls = "tl-run pass"
		}
		what := "could not run"
		if m.Run.Result != nil {
			what = string(m.Run.Result.Verdict)
		}
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%d" r="7" data-run="%d"><title>run #%d of snapshot %d: %s</title></circle>`,
			cls, x(m.Index), y, m.Run.Seq, m.Run.Seq, m.Index, template.HTMLEscapeString(what))
	}
	if at > 0 {
		fmt.Fprintf(&b, `<circle class="tl-at" cx="%.1f" cy="%d" r="10" data-at/>`, x(at), y)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
