package sandbox_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// recordingEngine is an Engine of its own (as a pool of engines would be):
// it passes every call to a Docker client and records which containers it
// was asked to create and to remove.
type recordingEngine struct {
	*client.Client
	mu               sync.Mutex
	created, removed []string
	roles            []string
}

// DockerClient is the client the test helpers list containers with.
func (e *recordingEngine) DockerClient() *client.Client { return e.Client }

func (e *recordingEngine) ContainerCreate(ctx context.Context, cfg *container.Config, host *container.HostConfig, net *network.NetworkingConfig, p *ocispec.Platform, name string) (container.CreateResponse, error) {
	r, err := e.Client.ContainerCreate(ctx, cfg, host, net, p, name)
	if err == nil {
		e.mu.Lock()
		e.created = append(e.created, r.ID)
		e.roles = append(e.roles, cfg.Labels[sandbox.LabelRole])
		e.mu.Unlock()
	}
	return r, err
}

func (e *recordingEngine) ContainerRemove(ctx context.Context, id string, opts container.RemoveOptions) error {
	e.mu.Lock()
	e.removed = append(e.removed, id)
	e.mu.Unlock()
	return e.Client.ContainerRemove(ctx, id, opts)
}

// Run goes through the Engine it is given, not a client of its own: a pair
// is created there, judge first, and both are removed there.
func TestRunOnAnotherEngine(t *testing.T) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	eng := &recordingEngine{Client: cli}
	d := sandbox.NewEngine(eng, sandbox.Options{Instance: "test-" + t.Name(), Image: testImage})
	defer d.Close()
	checks := `import pytest

@pytest.mark.check("served")
def test_served(app):
    assert app.get("/probe/").status == 200
`
	views := `from django.http import JsonResponse

def probe(request):
    return JsonResponse({})
`
	out := run(t, d, miniJob(t, d, views, checks))
	if out.Verdict != grader.RunOK {
		t.Fatalf("verdict %s", out.Verdict)
	}
	mustPass(t, out, "served")
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.created) != 2 || !slices.Equal(eng.roles, []string{sandbox.RoleJudge, sandbox.RoleCandidate}) {
		t.Fatalf("created %v with roles %v", eng.created, eng.roles)
	}
	for _, id := range eng.created {
		if !slices.Contains(eng.removed, id) {
			t.Errorf("container %.12s was not removed through the engine", id)
		}
	}
}
