package githubhook

import (
	"log/slog"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// ConfigFile is the file at a repository's root that names its exercise.
const ConfigFile = ".djgrade.yml"

// maxConfigBytes caps ConfigFile: it holds one line.
const maxConfigBytes = 4 << 10

// RepoConfig is the content of ConfigFile.
type RepoConfig struct {
	Exercise string `yaml:"exercise"`
}

// baseContext names statuses written before the exercise is known.
const baseContext = "djgrade"

// StatusContext is the commit status context of an exercise.
func StatusContext(exercise string) string { return baseContext + "/" + exercise }

// process fetches one commit and queues it for grading. It runs after the
// webhook has answered, so every failure is told on GitHub (a commit
// status) and in the log, never to the webhook's caller.
func (h *Hook) process(log *slog.Logger, w work) {
	ctx := h.ctx
	if w.FindPR {
		pr, err := h.cfg.Client.OpenPullRequest(ctx, w.Repo, w.Ref)
		if err != nil {
			// The pull request's own event, if there is one, grades it.
			log.Error("cannot list pull requests for a pushed branch", "branch", w.Ref, "err", err)
			return
		}
		if pr == 0 {
			log.Info("push to a branch with no open pull request: not graded", "branch", w.Ref)
			return
		}
		w.PR = pr
	}
	fresh, err := h.cfg.Store.ClaimCommit(ctx, w.Repo, w.SHA, w.PR)
	if err != nil {
		log.Error("record graded commit", "err", err)
		return
	}
	if !fresh {
		// A push to a pull request's branch also sends a synchronize.
		log.Info("commit already graded for this pull request")
		return
	}
	asg, err := h.cfg.Store.RepoAssignment(ctx, w.Repo)
	if err != nil && grader.ErrorCode(err) != grader.ENOTFOUND {
		log.Error("read repository assignment", "err", err)
		h.release(log, w)
		h.fail(w, baseContext, StateError, "djgrade could not read its records; redeliver the event to retry")
		return
	}
	data, err := h.cfg.Client.Tarball(ctx, w.Repo, w.SHA, h.cfg.MaxTarball)
	if err != nil {
		log.Error("fetch the commit's tarball", "err", err)
		if grader.ErrorCode(err) == grader.ETOOLARGE {
			h.fail(w, baseContext, StateFailure, grader.ErrorMessage(err))
			return
		}
		h.release(log, w)
		h.fail(w, baseContext, StateError, "djgrade could not fetch this commit from GitHub; redeliver the event to retry")
		return
	}
	files, err := archive.Read(bytesReader(data), h.cfg.ArchiveLimits)
	if err != nil {
		log.Info("unreadable tarball", "err", err)
		h.fail(w, baseContext, StateFailure, "the commit cannot be graded: "+grader.ErrorMessage(err))
		return
	}
	// A GitHub tarball always wraps the repository in "owner-repo-sha/";
	// with no starter to protect, StripWrapper removes exactly that.
	files = grader.StripWrapper(files, nil)
	files, declared, cfgErr := takeConfig(files)
	exercise := declared
	if asg != nil {
		// The interviewer's word wins over a file the candidate can edit.
		exercise = asg.Exercise
	}
	if exercise == "" {
		why := "no exercise for this repository: add " + ConfigFile + " at its root (exercise: ID) or ask your interviewer to register it"
		if cfgErr != "" {
			why = cfgErr
		}
		h.fail(w, baseContext, StateFailure, why)
		return
	}
	if _, err := h.cfg.Catalog.Exercise(exercise); err != nil {
		h.fail(w, baseContext, StateFailure, "unknown exercise "+quote(exercise)+" in "+ConfigFile)
		return
	}
	req := grader.SubmitRequest{
		Exercise:  exercise,
		Candidate: w.Sender,
		Files:     files,
		Source:    &grader.Source{Kind: grader.SourceGitHub, Repo: w.Repo, SHA: w.SHA, Ref: w.Ref, PullRequest: w.PR},
	}
	if asg != nil {
		req.Assignment = asg.ID
		req.Late = asg.LateAt(time.Now())
		if asg.Candidate != "" {
			req.Candidate = asg.Candidate
		}
	}
	if req.Candidate == "" {
		req.Candidate, _, _ = strings.Cut(w.Repo, "/")
	}
	sub, err := h.cfg.Grader.Create(ctx, req)
	if err != nil {
		log.Info("submission refused", "err", err)
		state := StateFailure
		if code := grader.ErrorCode(err); code == grader.EINTERNAL || code == grader.EUNAVAILABLE {
			state = StateError
			h.release(log, w)
		}
		h.fail(w, StatusContext(exercise), state, grader.ErrorMessage(err))
		return
	}
	log.Info("commit queued for grading", "submission", sub.ID, "exercise", exercise)
}

// release forgets the claim on w's commit so that a redelivery retries it.
func (h *Hook) release(log *slog.Logger, w work) {
	if err := h.cfg.Store.ReleaseCommit(h.ctx, w.Repo, w.SHA, w.PR); err != nil {
		log.Error("forget graded commit", "err", err)
	}
}

// fail tells GitHub, as a commit status, why a commit is not graded.
func (h *Hook) fail(w work, context, state, why string) {
	h.enqueue(&pending{Kind: kindStatus, Repo: w.Repo, SHA: w.SHA, PR: w.PR, Installation: h.cfg.Client.InstallationOf(w.Repo),
		Status: &statusAnswer{State: state, Context: context, Description: why}})
}

// takeConfig removes ConfigFile from files (it is not part of the answer)
// and returns the exercise it names, or a reason it names none usable.
func takeConfig(files []grader.File) (rest []grader.File, exercise, problem string) {
	rest = files[:0:0]
	var data []byte
	found := false
	for _, f := range files {
		if f.Path == ConfigFile {
			data, found = f.Data, true
			continue
		}
		rest = append(rest, f)
	}
	if !found {
		return rest, "", ""
	}
	if len(data) > maxConfigBytes {
		return rest, "", ConfigFile + " is larger than " + archive.FormatBytes(maxConfigBytes)
	}
	var cfg RepoConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return rest, "", ConfigFile + " is not YAML of the form \"exercise: ID\""
	}
	cfg.Exercise = strings.TrimSpace(cfg.Exercise)
	if cfg.Exercise == "" {
		return rest, "", ConfigFile + " names no exercise (exercise: ID)"
	}
	if path.Base(cfg.Exercise) != cfg.Exercise || len(cfg.Exercise) > 100 {
		return rest, "", "unknown exercise " + quote(cfg.Exercise) + " in " + ConfigFile
	}
	return rest, cfg.Exercise, ""
}

// quote shows a name from a repository safely in a status description.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 60 {
		s = truncate(s, 60)
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s) + "\""
}
