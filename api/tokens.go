package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// tokenJSON is a token as the API shows it: never its hash. Secret is set
// only in the answer that created it.
type tokenJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	Secret    string     `json:"token,omitempty"`
}

func tokenView(t *grader.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedAt: t.CreatedAt.UTC(), RevokedAt: timePtr(t.RevokedAt)}
}

type tokenRequest struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

// createToken issues a token; the secret is in this answer and nowhere else.
func (s *Server) createToken(c echo.Context) error {
	var req tokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	tok, secret, err := s.issueToken(c, grader.Role(req.Role), req.Name)
	if err != nil {
		return err
	}
	out := tokenView(tok)
	out.Secret = secret
	return c.JSON(http.StatusCreated, out)
}

// issueToken stores a new token with the role and name and returns it with
// its secret.
func (s *Server) issueToken(c echo.Context, role grader.Role, name string) (*grader.Token, string, error) {
	if !role.Valid() {
		return nil, "", grader.Errorf(grader.EINVALID, "role must be admin, interviewer or candidate")
	}
	name, err := grader.CleanTokenName(name)
	if err != nil {
		return nil, "", grader.Errorf(grader.EINVALID, "name: %s", grader.ErrorMessage(err))
	}
	secret := grader.NewSecret()
	tok := &grader.Token{Name: name, Role: role, Hash: grader.HashSecret(secret)}
	if err := s.cfg.Auth.CreateToken(c.Request().Context(), tok); err != nil {
		return nil, "", err
	}
	return tok, secret, nil
}

type tokenListJSON struct {
	Tokens []tokenJSON `json:"tokens"`
}

func (s *Server) listTokens(c echo.Context) error {
	list, err := s.cfg.Auth.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	out := tokenListJSON{Tokens: make([]tokenJSON, 0, len(list))}
	for _, t := range list {
		out.Tokens = append(out.Tokens, tokenView(t))
	}
	return c.JSON(http.StatusOK, out)
}

// revokeToken revokes a token. An admin may not revoke its own token: that
// would lock the last admin out by a slip of the id.
func (s *Server) revokeToken(c echo.Context) error {
	id := c.Param("id")
	if id == caller(c).ID {
		return grader.Errorf(grader.ECONFLICT, "a token cannot revoke itself")
	}
	tok, err := s.cfg.Auth.RevokeToken(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokenView(tok))
}
