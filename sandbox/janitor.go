package sandbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
)

// tracker is the set of containers that a Run of this sandbox is looking
// after. Run removes its own container on every path, but a remove can fail
// (the Docker daemon restarting mid-run, say): the container is then left
// behind, labelled with this instance, and no Run will come back for it.
// The janitor removes exactly those: labelled with this instance, and not
// tracked.
type tracker struct {
	// gate closes the window between ContainerCreate returning and the id
	// being tracked: Run holds it shared across the two, Tidy exclusively
	// while it lists, so a container Tidy lists is either tracked already
	// or not a live Run's.
	gate sync.RWMutex
	mu   sync.Mutex
	ids  map[string]struct{}
}

// creating is called before a container is created; the function it
// returns must be called with the new container's id ("" if none was made).
func (t *tracker) creating() func(id string) {
	t.gate.RLock()
	return func(id string) {
		if id != "" {
			t.mu.Lock()
			if t.ids == nil {
				t.ids = map[string]struct{}{}
			}
			t.ids[id] = struct{}{}
			t.mu.Unlock()
		}
		t.gate.RUnlock()
	}
}

// forget stops tracking id: its Run has tried to remove it and is leaving.
func (t *tracker) forget(id string) {
	t.mu.Lock()
	delete(t.ids, id)
	t.mu.Unlock()
}

func (t *tracker) has(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.ids[id]
	return ok
}

// Tidy removes, once, the containers labelled with this sandbox's app and
// instance that no Run is tracking, and returns how many it removed. It is
// safe to call while Runs are in flight: their containers are left alone.
func (d *Docker) Tidy(ctx context.Context) (int, error) {
	if err := d.negotiate(ctx); err != nil {
		return 0, err
	}
	d.tracked.gate.Lock()
	list, err := d.cli.ContainerList(ctx, container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", LabelApp+"="+d.opts.App),
			filters.Arg("label", LabelInstance+"="+d.opts.Instance),
		),
	})
	var orphans []string
	if err == nil {
		for _, c := range list {
			if !d.tracked.has(c.ID) {
				orphans = append(orphans, c.ID)
			}
		}
	}
	d.tracked.gate.Unlock()
	if err != nil {
		return 0, unavailable(err, "list containers")
	}
	n := 0
	for _, id := range orphans {
		err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !errdefs.IsNotFound(err) {
			return n, unavailable(err, "remove container %.12s", id)
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

// Janitor calls Tidy every interval until ctx is done, logging what it
// removed and any error (an engine that is down now is tried again at the
// next tick). Run it in its own goroutine next to the workers of a server.
func (d *Docker) Janitor(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	log := slog.Default().With("component", "sandbox janitor", "instance", d.opts.Instance)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Each pass has its own deadline: a hung engine must not stall
		// the janitor past its next tick for ever.
		pctx, cancel := context.WithTimeout(ctx, max(every, 30*time.Second))
		n, err := d.Tidy(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			log.Warn("tidy containers", "err", err)
		}
		if n > 0 {
			log.Info("removed containers no run was tracking", "count", n)
		}
	}
}
