package sandbox

import (
	"context"
	"time"

	"github.com/docker/docker/client"
)

// Client returns the sandbox's Docker client, for tests that look at the
// engine behind the sandbox's back: New's, or the one a test's own Engine
// says it wraps.
func (d *Docker) Client() *client.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.negotiate(ctx)
	if w, ok := d.cli.(interface{ DockerClient() *client.Client }); ok {
		return w.DockerClient()
	}
	return d.cli.(*client.Client)
}
