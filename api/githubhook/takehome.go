package githubhook

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
)

// TakeHome is an interviewer's request to prepare a candidate's repository.
type TakeHome struct {
	Exercise *grader.Exercise
	// Login is the candidate's GitHub login, invited as a collaborator.
	Login string
	// Repo is the repository to create, "owner/name"; owner is the token's
	// user or an organisation it may create repositories in (as a GitHub
	// App: an organisation the App is installed on).
	Repo     string
	Deadline time.Time
	// Candidate is the name the assignment records (Login when empty);
	// CreatedBy the id of the token that asked, if any.
	Candidate, CreatedBy string
	// URL is set by PrepareTakeHome to the repository's page.
	URL string
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
func PrepareTakeHome(ctx context.Context, c *Client, st Store, t *TakeHome) (*grader.Assignment, error) {
	if t.Exercise == nil {
		return nil, grader.Errorf(grader.EINVALID, "exercise is required")
	}
	if !validLogin(t.Login) {
		return nil, grader.Errorf(grader.EINVALID, "%q is not a GitHub login (letters, digits and single inner hyphens, at most 39)", clip(t.Login))
	}
	owner, name, err := splitRepo(t.Repo)
	if err != nil {
		return nil, err
	}
	if !validLogin(owner) {
		return nil, grader.Errorf(grader.EINVALID, "%q is not a GitHub user or organisation name", clip(owner))
	}
	if !validRepoName(name) {
		return nil, grader.Errorf(grader.EINVALID, "%q is not a repository name GitHub accepts (letters, digits, '.', '-' and '_', at most 100)", clip(name))
	}
	// Refused before anything is made on GitHub.
	if a, err := st.RepoAssignment(ctx, t.Repo); err == nil {
		return nil, grader.Errorf(grader.ECONFLICT, "repository %s is already the take-home of assignment %s", t.Repo, a.ID)
	} else if grader.ErrorCode(err) != grader.ENOTFOUND {
		return nil, err
	}
	files, err := TakeHomeFiles(t.Exercise)
	if err != nil {
		return nil, err
	}
	org := owner
	if !c.IsApp() {
		// A personal token may create repositories of its own user
		// (POST /user/repos) as well as in organisations.
		var me *github.User
		if err := c.call(ctx, "read the token's user", func() (*github.Response, error) {
			var resp *github.Response
			me, resp, err = c.gh.Users.Get(ctx, "")
			return resp, err
		}); err != nil {
			return nil, err
		}
		if strings.EqualFold(owner, me.GetLogin()) {
			org = "" // a repository of the user, not of an organisation
		}
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
		switch grader.ErrorCode(err) {
		case grader.ECONFLICT:
			return nil, grader.Wrap(err, grader.ECONFLICT, "repository %s already exists", t.Repo)
		case grader.ENOTFOUND, grader.EFORBIDDEN:
			how := "the token may not create repositories in " + owner
			if c.IsApp() {
				how = "the GitHub App is not installed on the organisation " + owner + " or lacks the Administration (write) permission; as an App, djgrade creates take-homes in organisations only"
			}
			return nil, grader.Wrap(err, grader.EINVALID, "cannot create %s: %s", t.Repo, how)
		}
		return nil, err
	}
	t.URL = repo.GetHTMLURL()
	if t.URL == "" {
		t.URL = "https://github.com/" + owner + "/" + name
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
	candidate := t.Candidate
	if candidate == "" {
		candidate = t.Login
	}
	a := &grader.Assignment{
		Exercise:  t.Exercise.ID,
		Candidate: candidate,
		Mode:      grader.ModeAssessment,
		Deadline:  t.Deadline,
		CreatedBy: t.CreatedBy,
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

// validRepoName reports whether GitHub accepts s as a repository name.
func validRepoName(s string) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." || strings.HasSuffix(strings.ToLower(s), ".git") {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// clip shortens a caller's text quoted in an error.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return truncate(s, 64)
}

// TakeHomes is the interviewers' route's side of take-homes
// (api.TakeHomes): PrepareTakeHome, a few at a time.
type TakeHomes struct {
	client *Client
	store  Store
	slots  chan struct{}
}

// MaxTakeHomesAtOnce bounds the preparations running together: each makes a
// dozen GitHub calls, and GitHub's secondary rate limits punish bursts of
// repository creation.
const MaxTakeHomesAtOnce = 2

// NewTakeHomes returns the take-home service over c and st.
func NewTakeHomes(c *Client, st Store) *TakeHomes {
	return &TakeHomes{client: c, store: st, slots: make(chan struct{}, MaxTakeHomesAtOnce)}
}

// CreateTakeHome prepares one take-home (see PrepareTakeHome).
func (t *TakeHomes) CreateTakeHome(ctx context.Context, req api.TakeHomeRequest) (*api.TakeHome, error) {
	select {
	case t.slots <- struct{}{}:
	default:
		return nil, grader.Errorf(grader.EUNAVAILABLE, "%d take-homes are being prepared; try again in a minute", MaxTakeHomesAtOnce)
	}
	defer func() { <-t.slots }()
	th := &TakeHome{Exercise: req.Exercise, Login: req.Login, Repo: req.Repo, Deadline: req.Deadline, Candidate: req.Candidate, CreatedBy: req.CreatedBy}
	a, err := PrepareTakeHome(ctx, t.client, t.store, th)
	if err != nil {
		return nil, err
	}
	return &api.TakeHome{Assignment: a, Repo: req.Repo, URL: th.URL}, nil
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
