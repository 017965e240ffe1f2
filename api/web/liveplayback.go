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
	X        []float64 // each snapshot's place on the timeline
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
	Started, Ended     time.Time
	Duration           string
	Runs, Passing      int
	Saves              int
	FirstPass          string // from the start to the first passing run
	FirstPassRun       int
	MedianGap, LongGap string
	Waiting            string // the time runs took, summed
	// start and end bound the timeline.
	start, end time.Time
}

// segment is the time between two marks of the session (the start, each
// run, the end) and what happened in it.
type segment struct {
	From, To string
	Duration string
	Share    int // percent of the session
	Saves    int
	Reruns   int // runs merged into the segment, which followed each other with no edit
	d        time.Duration
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
	// The runs' summaries: the timeline and the figures need no tests.
	if d.Runs, err = svc.LiveRunSummaries(ctx, l.ID); err != nil {
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
	d.Figures, d.Segments = figures(l, d.Snaps, d.Runs)
	d.Timeline, d.X = timelineSVG(d.Figures.start, d.Figures.end, d.Snaps, d.Runs, d.At)
	d.Files = fileTimes(l, d.Snaps)

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
	f.start, f.end = start, end
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
		from, to := marks[i-1], marks[i]
		saves := 0
		for _, s := range snaps {
			if !s.At.Before(from.at) && s.At.Before(to.at) {
				saves++
			}
		}
		// Runs that follow each other with no edit between them are one
		// segment ("run #3 → run #9"): time spent rerunning, not editing.
		if n := len(segs); n > 0 && saves == 0 && segs[n-1].Saves == 0 && n > 1 {
			prev := &segs[n-1]
			prev.To, prev.d, prev.Reruns = to.label, prev.d+to.at.Sub(from.at), prev.Reruns+1
			continue
		}
		segs = append(segs, segment{From: from.label, To: to.label, Saves: saves, d: to.at.Sub(from.at)})
	}
	for i := range segs {
		segs[i].Duration = roundDur(segs[i].d)
		if total > 0 {
			segs[i].Share = int(segs[i].d * 100 / total)
		}
	}
	return f, segs
}

// fileTimes attributes each gap between snapshots to the files the later
// snapshot changed (grader.LiveSnapshot.Changed, recorded at save time:
// no snapshot's files are read), and sums them per file, most time first.
func fileTimes(l *grader.LiveSession, snaps []*grader.LiveSnapshot) []fileTime {
	if len(snaps) == 0 {
		return nil
	}
	at := l.StartedAt
	if at.IsZero() {
		at = snaps[0].At
	}
	by := map[string]*fileTime{}
	var total time.Duration
	for _, s := range snaps {
		gap := s.At.Sub(at)
		at = s.At
		for _, p := range s.Changed {
			ft := by[p]
			if ft == nil {
				ft = &fileTime{Path: p}
				by[p] = ft
			}
			ft.Saves++
			ft.d += gap / time.Duration(len(s.Changed))
		}
		if len(s.Changed) > 0 {
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
	return out
}

// timelineSVG draws the session along a time axis from start to end: the
// snapshots as ticks above the line, the runs as dots below it (green
// passed, red not), the snapshot shown (at, 1-based) ringed. xs are the
// snapshots' positions, for live.js to move the ring as the slider moves.
func timelineSVG(start, end time.Time, snaps []*grader.LiveSnapshot, runs []*grader.LiveRun, at int) (template.HTML, []float64) {
	const width, pad = 1000, 14
	if len(snaps) == 0 {
		return "", nil
	}
	span := end.Sub(start)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return width / 2
		}
		f := float64(t.Sub(start)) / float64(span)
		return pad + min(max(f, 0), 1)*float64(width-2*pad)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline-svg" viewBox="0 0 %d 64" role="img" aria-label="%d snapshots and %d runs over %s">`, width, len(snaps), len(runs), roundDur(span))
	fmt.Fprintf(&b, `<line class="tl-line" x1="%d" y1="28" x2="%d" y2="28"/>`, pad, width-pad)
	var xs []float64
	for i, sn := range snaps {
		xs = append(xs, x(sn.At))
		fmt.Fprintf(&b, `<line class="tl-tick" x1="%.1f" y1="12" x2="%.1f" y2="28"><title>snapshot %d, %s in</title></line>`, x(sn.At), x(sn.At), i+1, roundDur(sn.At.Sub(start)))
	}
	for _, run := range runs {
		cls, what := "tl-run fail", "could not run"
		if run.Result != nil {
			what = string(run.Result.Verdict)
			if run.Result.Verdict == grader.VerdictPassed {
				cls = "tl-run pass"
			}
		}
		fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="38" r="6"><title>run #%d, %s in: %s</title></circle>`,
			cls, x(run.At), run.Seq, roundDur(run.At.Sub(start)), template.HTMLEscapeString(what))
	}
	fmt.Fprintf(&b, `<text class="tl-axis" x="%d" y="60">0s</text><text class="tl-axis end" x="%d" y="60">%s</text>`, pad, width-pad, roundDur(span))
	if at > 0 {
		fmt.Fprintf(&b, `<circle class="tl-at" cx="%.1f" cy="12" r="7" data-at/>`, xs[at-1])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), xs
}
