package bolt

import (
	"context"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// The GitHub integration's buckets (api/githubhook declares the interface).
// They are created on first write rather than by a schema migration: they
// only add keys, old files read the same, and a missing bucket simply means
// nothing was recorded yet.
//
//	github_deliveries   delivery id (X-GitHub-Delivery) -> unix seconds first seen
//	github_commits      repo + "@" + sha + "#" + pr -> unix seconds first graded
//	github_comments     repo + "#" + pr -> 8-byte big-endian comment id
//	github_check_runs   submission id -> 8-byte big-endian check run id
//	github_repos        lower-cased repo -> id of a grader.Assignment (assignments bucket)
var (
	bucketGitHubDeliveries = []byte("github_deliveries")
	bucketGitHubCommits    = []byte("github_commits")
	bucketGitHubComments   = []byte("github_comments")
	bucketGitHubCheckRuns  = []byte("github_check_runs")
	bucketGitHubRepos      = []byte("github_repos")
)

// maxGitHubKey bounds keys that come from webhook payloads: bbolt keys are
// bounded, and GitHub's own names are far shorter.
const maxGitHubKey = 1024

// firstTime puts key in bucket unless it is there; it reports whether it was not.
func (s *Store) firstTime(ctx context.Context, bucket []byte, key string, op string) (bool, error) {
	if key == "" || len(key) > maxGitHubKey {
		return false, grader.Errorf(grader.EINVALID, "%s: key must be 1 to %d bytes", op, maxGitHubKey)
	}
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	fresh := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		if b.Get([]byte(key)) != nil {
			return nil
		}
		fresh = true
		return b.Put([]byte(key), []byte(strconv.FormatInt(s.now().Unix(), 10)))
	})
	if err != nil {
		return false, storeErr(err, op)
	}
	return fresh, nil
}

// SeeDelivery records a webhook delivery id and reports whether it is new.
// One transaction decides, so two concurrent redeliveries cannot both be new.
func (s *Store) SeeDelivery(ctx context.Context, id string) (bool, error) {
	return s.firstTime(ctx, bucketGitHubDeliveries, id, "record webhook delivery")
}

// ClaimCommit records that the commit sha of repo is graded for pull request
// pr (0 for none) and reports whether it was not before: a push to a branch
// with an open pull request also sends a pull_request event for the same sha.
func (s *Store) ClaimCommit(ctx context.Context, repo, sha string, pr int) (bool, error) {
	return s.firstTime(ctx, bucketGitHubCommits, repo+"@"+sha+"#"+strconv.Itoa(pr), "record graded commit")
}

// getID reads an 8-byte id from bucket; 0 when there is none.
func (s *Store) getID(ctx context.Context, bucket []byte, key string, op string) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var id int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); len(v) == 8 {
			id = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, storeErr(err, op)
	}
	return id, nil
}

// putID stores an 8-byte id in bucket.
func (s *Store) putID(ctx context.Context, bucket []byte, key string, id int64, op string) error {
	if key == "" || len(key) > maxGitHubKey {
		return grader.Errorf(grader.EINVALID, "%s: key must be 1 to %d bytes", op, maxGitHubKey)
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(id))
		return b.Put([]byte(key), v[:])
	})
	if err != nil {
		return storeErr(err, op)
	}
	return nil
}

// PRComment returns the id of djgrade's comment on pull request pr of repo,
// or 0 when none was recorded.
func (s *Store) PRComment(ctx context.Context, repo string, pr int) (int64, error) {
	return s.getID(ctx, bucketGitHubComments, repo+"#"+strconv.Itoa(pr), "read pull request comment")
}

// SetPRComment records the id of djgrade's comment on pull request pr of repo.
func (s *Store) SetPRComment(ctx context.Context, repo string, pr int, id int64) error {
	return s.putID(ctx, bucketGitHubComments, repo+"#"+strconv.Itoa(pr), id, "record pull request comment")
}

// CheckRun returns the id of the check run opened for a submission, or 0.
func (s *Store) CheckRun(ctx context.Context, submission string) (int64, error) {
	return s.getID(ctx, bucketGitHubCheckRuns, submission, "read check run")
}

// SetCheckRun records the id of the check run opened for a submission.
func (s *Store) SetCheckRun(ctx context.Context, submission string, id int64) error {
	return s.putID(ctx, bucketGitHubCheckRuns, submission, id, "record check run")
}

// repoKey is the key of a repository: GitHub's names are case-insensitive.
func repoKey(repo string) []byte { return []byte(strings.ToLower(repo)) }

// RepoAssignment returns the assignment an interviewer registered for the
// repository ("owner/name", any case), or ENOTFOUND.
func (s *Store) RepoAssignment(ctx context.Context, repo string) (*grader.Assignment, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var id string
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketGitHubRepos); b != nil {
			id = string(b.Get(repoKey(repo)))
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "read repository assignment")
	}
	if id == "" {
		return nil, grader.Errorf(grader.ENOTFOUND, "no assignment for this repository")
	}
	return s.Assignment(ctx, id)
}

// SetRepoAssignment stores a as an interviewer's assignment (CreateAssignment:
// it is listed with the others, and a.ID and a.CreatedAt are set) and binds
// the repository to it, replacing any earlier binding.
func (s *Store) SetRepoAssignment(ctx context.Context, repo string, a *grader.Assignment) error {
	if repo == "" || len(repo) > maxGitHubKey || !strings.Contains(repo, "/") {
		return grader.Errorf(grader.EINVALID, "repository must be owner/name")
	}
	if a == nil {
		return grader.Errorf(grader.EINVALID, "no assignment")
	}
	if err := s.CreateAssignment(ctx, a); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketGitHubRepos)
		if err != nil {
			return err
		}
		return b.Put(repoKey(repo), []byte(a.ID))
	})
	if err != nil {
		return storeErr(err, "record repository assignment")
	}
	return nil
}

// ReleaseCommit forgets a ClaimCommit, so that a redelivery of the event
// grades the commit after djgrade failed to fetch it.
func (s *Store) ReleaseCommit(ctx context.Context, repo, sha string, pr int) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketGitHubCommits)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(repo + "@" + sha + "#" + strconv.Itoa(pr)))
	})
	if err != nil {
		return storeErr(err, "forget graded commit")
	}
	return nil
}

// bucketGitHubPending holds the answers waiting for GitHub (a commit
// status, a check run, a pull request comment): 8-byte big-endian sequence
// -> the JSON api/githubhook stores. Kept until GitHub accepted them, so
// that a restart (or a GitHub that is down) loses none.
var bucketGitHubPending = []byte("github_pending")

// maxGitHubPending bounds one stored answer: a check run summary is at most
// 64 KiB, a comment the same.
const maxGitHubPending = 256 << 10

func pendingKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// AddGitHubPending stores an answer waiting for GitHub and returns its
// sequence number, which orders the answers.
func (s *Store) AddGitHubPending(ctx context.Context, data []byte) (uint64, error) {
	if len(data) == 0 || len(data) > maxGitHubPending {
		return 0, grader.Errorf(grader.EINVALID, "a pending GitHub answer must be 1 byte to %d KiB", maxGitHubPending>>10)
	}
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketGitHubPending)
		if err != nil {
			return err
		}
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		return b.Put(pendingKey(seq), data)
	})
	if err != nil {
		return 0, storeErr(err, "record pending GitHub answer")
	}
	return seq, nil
}

// SetGitHubPending replaces a pending answer (its progress, its next try);
// ENOTFOUND when it is gone.
func (s *Store) SetGitHubPending(ctx context.Context, seq uint64, data []byte) error {
	if len(data) == 0 || len(data) > maxGitHubPending {
		return grader.Errorf(grader.EINVALID, "a pending GitHub answer must be 1 byte to %d KiB", maxGitHubPending>>10)
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketGitHubPending)
		if b == nil || b.Get(pendingKey(seq)) == nil {
			return grader.Errorf(grader.ENOTFOUND, "no pending GitHub answer %d", seq)
		}
		return b.Put(pendingKey(seq), data)
	})
	if err != nil {
		return storeErr(err, "update pending GitHub answer")
	}
	return nil
}

// DeleteGitHubPending forgets an answer GitHub accepted (or that was given
// up); a missing one is no error.
func (s *Store) DeleteGitHubPending(ctx context.Context, seq uint64) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketGitHubPending); b != nil {
			return b.Delete(pendingKey(seq))
		}
		return nil
	})
	if err != nil {
		return storeErr(err, "forget pending GitHub answer")
	}
	return nil
}

// GitHubPending calls fn with every pending answer, oldest first, in one
// read transaction; fn must not write to the store (copy what it keeps).
func (s *Store) GitHubPending(ctx context.Context, fn func(seq uint64, data []byte) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketGitHubPending)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return nil
			}
			return fn(binary.BigEndian.Uint64(k), v)
		})
	})
	if err != nil {
		return storeErr(err, "read pending GitHub answers")
	}
	return nil
}

// bucketGitHubAnswered: submission id -> the FinishedAt (RFC 3339, nano) of
// the result whose final answer was stored for GitHub. At start the
// notifier stores the answers of results finished without one (a crash
// between the grade and its answer).
var bucketGitHubAnswered = []byte("github_answered")

// GitHubAnswered returns the FinishedAt recorded by SetGitHubAnswered, or
// the zero time.
func (s *Store) GitHubAnswered(ctx context.Context, submission string) (time.Time, error) {
	if err := ctxErr(ctx); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketGitHubAnswered); b != nil {
			if v := b.Get([]byte(submission)); v != nil {
				at, _ = time.Parse(time.RFC3339Nano, string(v))
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, storeErr(err, "read answered submission")
	}
	return at, nil
}

// SetGitHubAnswered records that the final answer of the submission's
// result finished at finished is stored.
func (s *Store) SetGitHubAnswered(ctx context.Context, submission string, finished time.Time) error {
	if submission == "" || len(submission) > maxGitHubKey {
		return grader.Errorf(grader.EINVALID, "record answered submission: key must be 1 to %d bytes", maxGitHubKey)
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketGitHubAnswered)
		if err != nil {
			return err
		}
		return b.Put([]byte(submission), []byte(finished.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return storeErr(err, "record answered submission")
	}
	return nil
}
