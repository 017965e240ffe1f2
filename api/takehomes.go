package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// The interviewers' route that prepares a GitHub take-home while the server
// runs (issue 16): POST pathTakeHomes creates the candidate's repository from
// the exercise's starter, invites the candidate and registers the
// assignment, through Config.TakeHomes (api/githubhook, which the CLI's
// `takehome create` shares).

const pathTakeHomes = "/api/v1/takehomes"

// takeHomeTimeout bounds one preparation. Once GitHub is being written to,
// the preparation finishes even if the caller leaves: a repository made but
// not registered would be worse than an answer nobody reads.
const takeHomeTimeout = 2 * time.Minute

// TakeHomeRequest is a validated request to prepare a take-home.
type TakeHomeRequest struct {
	Exercise *grader.Exercise
	// Candidate is the name the assignment records (the login if none).
	Candidate string
	// Login is the candidate's GitHub login, invited with push access.
	Login string
	// Repo is the repository to create, "owner/name".
	Repo     string
	Deadline time.Time
	// CreatedBy is the id of the token that asked.
	CreatedBy string
}

// TakeHome is a prepared take-home.
type TakeHome struct {
	Assignment *grader.Assignment
	Repo       string
	// URL is the repository's page on GitHub.
	URL string
}

// TakeHomes prepares GitHub take-homes (implemented by
// *githubhook.TakeHomes). Errors: EINVALID for a login or repository name
// GitHub would refuse, ECONFLICT for a repository that exists, EUNAVAILABLE
// when GitHub cannot be reached or too many preparations run.
type TakeHomes interface {
	CreateTakeHome(ctx context.Context, req TakeHomeRequest) (*TakeHome, error)
}

// takeHomeRoutes registers the take-home route; routes calls it.
func (s *Server) takeHomeRoutes(authn echo.MiddlewareFunc) {
	s.echo.POST(pathTakeHomes, s.createTakeHome, authn, staff)
}

type takeHomeRequestJSON struct {
	Exercise    string  `json:"exercise"`
	GitHubLogin string  `json:"github_login"`
	Repo        string  `json:"repo"`
	Candidate   string  `json:"candidate"`
	Deadline    *string `json:"deadline"`
}

type takeHomeJSON struct {
	Assignment assignmentJSON `json:"assignment"`
	Repo       string         `json:"repo"`
	URL        string         `json:"url"`
	Invited    string         `json:"invited"`
}

func (s *Server) createTakeHome(c echo.Context) error {
	if s.cfg.TakeHomes == nil {
		return grader.Errorf(grader.EUNAVAILABLE, "GitHub take-homes are not configured on this server: set a GitHub App (--github-app-id and --github-app-key-file) or --github-token")
	}
	var req takeHomeRequestJSON
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ex, err := s.requestExercise(req.Exercise)
	if err != nil {
		return err
	}
	login := strings.TrimSpace(req.GitHubLogin)
	if login == "" {
		return grader.Errorf(grader.EINVALID, "github_login is required: the candidate's GitHub login, invited to the repository")
	}
	repo := strings.TrimSpace(req.Repo)
	if repo == "" {
		return grader.Errorf(grader.EINVALID, "repo is required: the repository to create, OWNER/NAME")
	}
	name := login
	if strings.TrimSpace(req.Candidate) != "" {
		if name, err = cleanCandidate(req.Candidate); err != nil {
			return err
		}
	}
	tr := TakeHomeRequest{Exercise: ex, Candidate: name, Login: login, Repo: repo, CreatedBy: caller(c).ID}
	if req.Deadline != nil {
		if tr.Deadline, err = grader.ParseDeadline(*req.Deadline, s.now()); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), takeHomeTimeout)
	defer cancel()
	th, err := s.cfg.TakeHomes.CreateTakeHome(ctx, tr)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, pathAssignments+"/"+url.PathEscape(th.Assignment.ID))
	return c.JSON(http.StatusCreated, takeHomeJSON{Assignment: assignmentView(th.Assignment, s.now()), Repo: th.Repo, URL: th.URL, Invited: login})
}
