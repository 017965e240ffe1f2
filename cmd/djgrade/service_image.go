package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// DefaultServiceImage is the tag `djgrade image build --service` gives the
// image of the service itself.
const DefaultServiceImage = "djgrade:latest"

// buildServiceImage builds the image of the djgrade service from the
// repository's Dockerfile (found beside the binary's source, or given) and
// this very binary, FROM the base the sandbox would use: debian:trixie-slim
// where it is present or pullable, djgrade-base:trixie made by debootstrap
// otherwise. It returns the tag.
func buildServiceImage(ctx context.Context, sb *sandbox.Docker, dockerfile, tag string, progress io.Writer) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "find this binary")
	}
	if err := checkStatic(exe); err != nil {
		return "", err
	}
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		return "", grader.Wrap(err, grader.EINVALID, "read the service's Dockerfile (run from the repository, or give --dockerfile)")
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "read this binary")
	}
	base, err := serviceBase(ctx, sb, progress)
	if err != nil {
		return "", err
	}
	var bctx bytes.Buffer
	tw := tar.NewWriter(&bctx)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, df}, {"bin/djgrade", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return "", grader.Wrap(err, grader.EINTERNAL, "make build context")
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "make build context")
	}
	fmt.Fprintf(progress, "building %s FROM %s (classic builder)\n", tag, base)
	err = sb.BuildImage(ctx, sandbox.BuildSpec{
		Tag:     tag,
		Context: &bctx,
		Args:    map[string]*string{"BASE": &base},
		Labels:  map[string]string{"app": "djgrade", "djgrade.image": "service"},
	}, progress)
	if err != nil {
		return "", err
	}
	return tag, nil
}

// serviceBase picks the base like the sandbox does, and makes the sandbox
// image first when no base is present: that path pulls or bootstraps one,
// and a service without its sandbox image could grade nothing anyway.
func serviceBase(ctx context.Context, sb *sandbox.Docker, progress io.Writer) (string, error) {
	for attempt := 0; ; attempt++ {
		for _, ref := range []string{sandbox.PulledBase, sandbox.LocalBase} {
			ok, err := sb.ImageExists(ctx, ref)
			if err != nil {
				return "", err
			}
			if ok {
				fmt.Fprintf(progress, "service base: %s (present locally)\n", ref)
				return ref, nil
			}
		}
		switch attempt {
		case 0:
			if _, err := sb.EnsureImage(ctx, sandbox.BuildOptions{}, progress); err != nil {
				return "", err
			}
		case 1:
			// The sandbox image was there but its base is gone.
			mirror := os.Getenv(sandbox.MirrorEnv)
			if mirror == "" {
				mirror = sandbox.DefaultMirror
			}
			if err := sb.Bootstrap(ctx, mirror, sandbox.LocalBase, progress); err != nil {
				return "", err
			}
		default:
			return "", grader.Errorf(grader.EINTERNAL, "no base image for the service")
		}
	}
}

// checkStatic refuses a dynamically linked binary: the image's base need not
// have the C library this one was linked against.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return grader.Wrap(err, grader.EINVALID, "%s is not a Linux binary", path)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return grader.Errorf(grader.EINVALID,
				"%s is dynamically linked; build it with CGO_ENABLED=0 (make build does) for the service image", filepath.Base(path))
		}
	}
	return nil
}
