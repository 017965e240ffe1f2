package sandbox

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// errDrained is the cause of the calls a drain cut short.
var errDrained = errors.New("the engine was drained: it stopped answering")

// gate is the Engine a Fleet gives each of its Docker sandboxes: the
// engine's client, with every call bounded by the engine's current epoch.
// A drain (close) ends the epoch: the calls in flight return at once (an
// engine that stopped answering would otherwise hold each of them until
// its own timeout: a remove, 30 s), and so does every call made until the
// engine rejoins, except ContainerCreate, which waits for the rejoin (or
// its ctx): only the pool creates on a drained engine (the Fleet sends it
// no runs), and a create that fails at once would have it retry at once.
// Ping goes to the engine always: the health loop's pings must reach it.
type gate struct {
	eng Engine

	mu      sync.Mutex
	epoch   context.Context
	end     context.CancelFunc
	creates bool          // ContainerCreate may proceed
	opened  chan struct{} // closed when creates open again
}

func newGate(eng Engine) *gate {
	g := &gate{eng: eng, creates: true, opened: make(chan struct{})}
	close(g.opened)
	g.epoch, g.end = context.WithCancel(context.Background())
	return g
}

// close ends the epoch: the calls in flight fail, and creates wait.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.end()
	if g.creates {
		g.creates = false
		g.opened = make(chan struct{})
	}
}

// open starts a new epoch in which calls reach the engine again; creates
// stay held until allowCreates (the rejoin's sweep runs in between).
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.epoch.Err() != nil {
		g.epoch, g.end = context.WithCancel(context.Background())
	}
}

func (g *gate) allowCreates() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.creates {
		g.creates = true
		close(g.opened)
	}
}

// current returns the epoch now: it is done once the engine is drained.
func (g *gate) current() context.Context {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.epoch
}

// merge returns ctx, also cancelled when the current epoch ends.
func (g *gate) merge(ctx context.Context) (context.Context, context.CancelFunc) {
	ep := g.current()
	mctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(ep, func() { cancel(errDrained) })
	return mctx, func() { stop(); cancel(nil) }
}

// ctxBody keeps a call's merged context until its body is closed.
type ctxBody struct {
	io.ReadCloser
	stop context.CancelFunc
}

func (b ctxBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

func (g *gate) ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error) {
	g.mu.Lock()
	opened := g.opened
	g.mu.Unlock()
	select {
	case <-opened:
	case <-ctx.Done():
		return container.CreateResponse{}, ctx.Err()
	}
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerCreate(mctx, config, hostConfig, networkingConfig, platform, containerName)
}

func (g *gate) ContainerAttach(ctx context.Context, containerID string, options container.AttachOptions) (types.HijackedResponse, error) {
	// The hijacked connection outlives the call; Run closes it.
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerAttach(mctx, containerID, options)
}

func (g *gate) ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerStart(mctx, containerID, options)
}

func (g *gate) ContainerWait(ctx context.Context, containerID string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	mctx, stop := g.merge(ctx)
	waitC, errC := g.eng.ContainerWait(mctx, containerID, condition)
	resC, eC := make(chan container.WaitResponse, 1), make(chan error, 1)
	go func() {
		defer stop()
		select {
		case r := <-waitC:
			resC <- r
		case err := <-errC:
			eC <- err
		}
	}()
	return resC, eC
}

func (g *gate) ContainerKill(ctx context.Context, containerID, signal string) error {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerKill(mctx, containerID, signal)
}

func (g *gate) ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error) {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerInspect(mctx, containerID)
}

func (g *gate) ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerRemove(mctx, containerID, options)
}

func (g *gate) ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error) {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerList(mctx, options)
}

func (g *gate) ContainerUpdate(ctx context.Context, containerID string, updateConfig container.UpdateConfig) (container.UpdateResponse, error) {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ContainerUpdate(mctx, containerID, updateConfig)
}

func (g *gate) ContainerStatsOneShot(ctx context.Context, containerID string) (container.StatsResponseReader, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ContainerStatsOneShot(mctx, containerID)
	if err != nil {
		stop()
		return r, err
	}
	r.Body = ctxBody{r.Body, stop}
	return r, nil
}

func (g *gate) ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (image.InspectResponse, error) {
	mctx, stop := g.merge(ctx)
	defer stop()
	return g.eng.ImageInspect(mctx, imageID, inspectOpts...)
}

func (g *gate) ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ImagePull(mctx, ref, options)
	if err != nil {
		stop()
		return r, err
	}
	return ctxBody{r, stop}, nil
}

func (g *gate) ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ImageBuild(mctx, buildContext, options)
	if err != nil {
		stop()
		return r, err
	}
	r.Body = ctxBody{r.Body, stop}
	return r, nil
}

func (g *gate) ImageImport(ctx context.Context, source image.ImportSource, ref string, options image.ImportOptions) (io.ReadCloser, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ImageImport(mctx, source, ref, options)
	if err != nil {
		stop()
		return r, err
	}
	return ctxBody{r, stop}, nil
}

func (g *gate) ImageSave(ctx context.Context, imageIDs []string, saveOpts ...client.ImageSaveOption) (io.ReadCloser, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ImageSave(mctx, imageIDs, saveOpts...)
	if err != nil {
		stop()
		return r, err
	}
	return ctxBody{r, stop}, nil
}

func (g *gate) ImageLoad(ctx context.Context, input io.Reader, loadOpts ...client.ImageLoadOption) (image.LoadResponse, error) {
	mctx, stop := g.merge(ctx)
	r, err := g.eng.ImageLoad(mctx, input, loadOpts...)
	if err != nil {
		stop()
		return r, err
	}
	r.Body = ctxBody{r.Body, stop}
	return r, nil
}

// Ping reaches the engine whatever the epoch.
func (g *gate) Ping(ctx context.Context) (types.Ping, error) { return g.eng.Ping(ctx) }

func (g *gate) Close() error { return g.eng.Close() }

// NegotiateAPIVersionPing passes the negotiation on to the client.
func (g *gate) NegotiateAPIVersionPing(p types.Ping) {
	if n, ok := g.eng.(versionNegotiator); ok {
		n.NegotiateAPIVersionPing(p)
	}
}

// DockerClient is the client behind the gate (for tests; see Client).
func (g *gate) DockerClient() *client.Client {
	c, _ := g.eng.(*client.Client)
	return c
}

var (
	_ Engine            = (*gate)(nil)
	_ versionNegotiator = (*gate)(nil)
)
