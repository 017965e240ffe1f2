package sandbox

import (
	"context"
	"io"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Engine is the part of the Docker Engine API the sandbox uses: container
// lifecycle for Run, Sweep and Tidy, images for EnsureImage and BuildImage.
// Its methods are those of github.com/docker/docker/client, so a
// *client.Client is an Engine; so could be a pool of engines that places
// each container on one of them and routes the calls naming it there.
type Engine interface {
	ContainerEngine
	ImageEngine
	// Ping checks that the engine answers.
	Ping(ctx context.Context) (types.Ping, error)
	// Close releases the engine's connections.
	Close() error
}

// ContainerEngine is the container half of Engine.
type ContainerEngine interface {
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerAttach(ctx context.Context, containerID string, options container.AttachOptions) (types.HijackedResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerWait(ctx context.Context, containerID string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ContainerKill(ctx context.Context, containerID, signal string) error
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerStatsOneShot(ctx context.Context, containerID string) (container.StatsResponseReader, error)
	ContainerUpdate(ctx context.Context, containerID string, updateConfig container.UpdateConfig) (container.UpdateResponse, error)
}

// ImageEngine is the image half of Engine.
type ImageEngine interface {
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImageImport(ctx context.Context, source image.ImportSource, ref string, options image.ImportOptions) (io.ReadCloser, error)
	// ImageSave and ImageLoad copy an image from one engine to another
	// (a Fleet's EnsureImage).
	ImageSave(ctx context.Context, imageIDs []string, saveOpts ...client.ImageSaveOption) (io.ReadCloser, error)
	ImageLoad(ctx context.Context, input io.Reader, loadOpts ...client.ImageLoadOption) (image.LoadResponse, error)
}

// versionNegotiator is an Engine whose API version is settled with a ping
// (the Docker client with API version negotiation).
type versionNegotiator interface {
	NegotiateAPIVersionPing(types.Ping)
}

var (
	_ Engine            = (*client.Client)(nil)
	_ versionNegotiator = (*client.Client)(nil)
)
