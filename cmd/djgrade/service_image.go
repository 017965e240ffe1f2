package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/errdefs"

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
	resp, err := sb.Client().ImageBuild(ctx, &bctx, build.ImageBuildOptions{
		Tags:        []string{tag},
		BuildArgs:   map[string]*string{"BASE": &base},
		Version:     build.BuilderV1, // no BuildKit here
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{"app": "djgrade", "djgrade.image": "service"},
	})
	if err != nil {
		return "", grader.Wrap(err, grader.EUNAVAILABLE, "build the service image")
	}
	defer resp.Body.Close()
	if err := streamBuild(resp.Body, progress); err != nil {
		return "", grader.Wrap(err, grader.EINTERNAL, "build the service image: %v", err)
	}
	return tag, nil
}

// serviceBase picks the base like the sandbox does, and makes the sandbox
// image first when no base is present: that path pulls or bootstraps one,
// and a service without its sandbox image could grade nothing anyway.
func serviceBase(ctx context.Context, sb *sandbox.Docker, progress io.Writer) (string, error) {
	for attempt := 0; ; attempt++ {
		for _, ref := range []string{sandbox.PulledBase, sandbox.LocalBase} {
			_, err := sb.Client().ImageInspect(ctx, ref)
			if err == nil {
				fmt.Fprintf(progress, "service base: %s (present locally)\n", ref)
				return ref, nil
			}
			if !errdefs.IsNotFound(err) {
				return "", grader.Wrap(err, grader.EUNAVAILABLE, "inspect image %s", ref)
			}
		}
		switch attempt {
		case 0:
			if _, err := sb.EnsureImage(ctx, sandbox.BuildOptions{}, progress); err != nil {
				return "", err
			}
		case 1:
			// The sandbox image was there but its base is gone.
			mirror := os.Getenv("DJGRADE_DEBIAN_MIRROR")
			if mirror == "" {
				mirror = "http://deb.debian.org/debian"
			}
			if err := sandbox.Bootstrap(ctx, sb.Client(), mirror, sandbox.LocalBase, progress); err != nil {
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

// streamBuild copies a build's step lines to progress and returns the
// build's error message, if any.
func streamBuild(r io.Reader, progress io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(strings.TrimSpace(m.Error))
		}
		io.WriteString(progress, m.Stream)
	}
}
