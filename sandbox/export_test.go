package sandbox

import (
	"context"
	"time"

	"github.com/docker/docker/client"
)

// Client returns the sandbox's Docker client, for tests that look at the
// engine behind the sandbox's back; only a sandbox made by New has one.
func (d *Docker) Client() *client.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.negotiate(ctx)
	return d.cli.(*client.Client)
}
