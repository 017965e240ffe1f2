package githubhook

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/djgrade/djgrade/grader"
)

// TakeHome is an interviewer's request to prepare a candidate's repository.
type TakeHome struct {
	Exercise *grader.Exercise
	// Login is the candidate's GitHub login, invited as a collaborator.
	Login string
	// Repo is the repository to create, "owner/name"; owner is the token's
	// user or an organisation it may create repositories in.
	Repo     string
	Deadline time.Time
}

// TakeHomeFiles returns what a candidate's repository starts with: the
// exercise's starter download (the starter project, which holds the public
// tests, and its README with the prompt) and ConfigFile. Nothing of hidden/, solutions/ or variants/.
func TakeHomeFiles(ex *grader.Exercise) ([]grader.File, error) {
	files, err := grader.StarterDownload(ex)
	if err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "cannot read the exercise's starter")
	}
	// StarterDownload's README is last: the take-home's way of handing in
	// goes at its end.
	readme := &files[len(files)-1]
	readme.Data = append(readme.Data, "\n## Handing in\n\nPush your work and open a pull request: djgrade grades every push and answers on the pull request.\n"...)
	files = append(files, grader.File{Path: ConfigFile, Data: []byte("exercise: " + ex.ID + "\n")})
	return files, nil
}

// PrepareTakeHome creates the candidate's private repository from the
// exercise's starter, invites the candidate with push access and registers
// the assignment (which names the exercise whatever ConfigFile later says).
func PrepareTakeHome(ctx context.Context, c *Client, st Store, t TakeHome) (*grader.Assignment, error) {
	if t.Exercise == nil {
		return nil, grader.Errorf(grader.EINVALID, "exercise is required")
	}
	if !validLogin(t.Login) {
		return nil, grader.Errorf(grader.EINVALID, "%q is not a GitHub login", t.Login)
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return nil, err
	}
	files, err := TakeHomeFiles(t.Exercise)
	if err != nil {
		return nil, err
	}
	var me *github.User
	if err := c.call(ctx, "read the token's user", func() (*github.Response, error) {
		var resp *github.Response
		me, resp, err = c.gh.Users.Get(ctx, "")
		return resp, err
	}); err != nil {
		return nil, err
	}
	org := owner
	if strings.EqualFold(owner, me.GetLogin()) {
		org = "" // a repository of the user, not of an organisation
	}
	var repo *github.Repository
	err = c.call(ctx, "create repository", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		repo, resp, err = c.gh.Repositories.Create(ctx, org, &github.Repository{
			Name:        github.String(name),
			Description: github.String("djgrade take-home: " + t.Exercise.Title),
			Private:     github.Bool(true),
			// An empty repository has no ref to commit on: GitHub's Git
			// database API refuses it. An initial commit gives one.
			AutoInit: github.Bool(true),
		})
		return resp, err
	})
	if err != nil {
		if grader.ErrorCode(err) == grader.ECONFLICT {
			return nil, grader.Wrap(err, grader.ECONFLICT, "repository %s already exists", t.Repo)
		}
		return nil, err
	}
	branch := repo.GetDefaultBranch()
	if branch == "" {
		branch = "main"
	}
	if err := c.commitFiles(ctx, owner, name, branch, files, "Start the "+t.Exercise.ID+" take-home"); err != nil {
		return nil, err
	}
	if err := c.call(ctx, "invite collaborator", func() (*github.Response, error) {
		_, resp, err := c.gh.Repositories.AddCollaborator(ctx, owner, name, t.Login, &github.RepositoryAddCollaboratorOptions{Permission: "push"})
		return resp, err
	}); err != nil {
		return nil, err
	}
	a := &grader.Assignment{
		Exercise:  t.Exercise.ID,
		Candidate: t.Login,
		Mode:      grader.ModeAssessment,
		Deadline:  t.Deadline,
	}
	if err := st.SetRepoAssignment(ctx, t.Repo, a); err != nil {
		return nil, err
	}
	return a, nil
}

// commitFiles replaces the tree of branch with files in one commit.
func (c *Client) commitFiles(ctx context.Context, owner, name, branch string, files []grader.File, message string) error {
	var ref *github.Reference
	if err := c.call(ctx, "read branch", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		ref, resp, err = c.gh.Git.GetRef(ctx, owner, name, "heads/"+branch)
		return resp, err
	}); err != nil {
		return err
	}
	entries := make([]*github.TreeEntry, 0, len(files))
	for _, f := range files {
		mode := "100644"
		if f.Exec {
			mode = "100755"
		}
		e := &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(mode), Type: github.String("blob")}
		if utf8.Valid(f.Data) {
			e.Content = github.String(string(f.Data))
		} else {
			// Inline content must be text; anything else goes as a blob.
			var blob *github.Blob
			if err := c.call(ctx, "create blob", func() (*github.Response, error) {
				var resp *github.Response
				var err error
				blob, resp, err = c.gh.Git.CreateBlob(ctx, owner, name, &github.Blob{
					Content: github.String(base64.StdEncoding.EncodeToString(f.Data)), Encoding: github.String("base64"),
				})
				return resp, err
			}); err != nil {
				return err
			}
			e.SHA = blob.SHA
		}
		entries = append(entries, e)
	}
	var tree *github.Tree
	if err := c.call(ctx, "create tree", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		tree, resp, err = c.gh.Git.CreateTree(ctx, owner, name, "", entries)
		return resp, err
	}); err != nil {
		return err
	}
	var commit *github.Commit
	if err := c.call(ctx, "create commit", func() (*github.Response, error) {
		var resp *github.Response
		var err error
		commit, resp, err = c.gh.Git.CreateCommit(ctx, owner, name, &github.Commit{
			Message: github.String(message),
			Tree:    &github.Tree{SHA: tree.SHA},
			Parents: []*github.Commit{{SHA: ref.Object.SHA}},
		}, nil)
		return resp, err
	}); err != nil {
		return err
	}
	return c.call(ctx, "move branch", func() (*github.Response, error) {
		_, resp, err := c.gh.Git.UpdateRef(ctx, owner, name, &github.Reference{
			Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: commit.SHA},
		}, false)
		return resp, err
	})
}

// validLogin reports whether s can be a GitHub login: letters, digits and
// single inner hyphens, at most 39 characters.
func validLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
