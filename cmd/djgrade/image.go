package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/djgrade/djgrade/sandbox"
)

// runImageBuild builds the sandbox image (or, with --service, the service's).
func runImageBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("image build", stderr)
	rebuild := fs.Bool("rebuild", false, "build even if the image for these inputs exists")
	noPull := fs.Bool("no-pull", false, "do not try to pull debian:trixie-slim; bootstrap the base locally")
	service := fs.Bool("service", false, "build the image of the djgrade service itself (this binary and ./Dockerfile) instead")
	serviceTag := fs.String("tag", DefaultServiceImage, "with --service: the `TAG` of the service image")
	dockerfile := fs.String("dockerfile", "Dockerfile", "with --service: the service's Dockerfile (a `FILE`)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := sb.Ping(ctx); err != nil {
		return err
	}
	start := time.Now()
	if *service {
		tag, err := buildServiceImage(ctx, sb, *dockerfile, *serviceTag, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "djgrade: service image ready in %s\n", time.Since(start).Round(100*time.Millisecond))
		fmt.Fprintln(stdout, tag)
		return nil
	}
	tag, err := sb.EnsureImage(ctx, sandbox.BuildOptions{Rebuild: *rebuild, NoPull: *noPull}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "djgrade: sandbox image ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintln(stdout, tag)
	return nil
}
