package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"

	sbimage "github.com/djgrade/djgrade/sandbox/image"
)

// Bases of the sandbox image, in the order EnsureImage tries them.
const (
	// PulledBase is Debian's official slim image, used where a registry is
	// reachable or the image is already present.
	PulledBase = "debian:trixie-slim"
	// LocalBase is a base made on this machine by debootstrap and imported.
	LocalBase = "djgrade-base:trixie"
	// DefaultMirror is Debian's mirror, used by debootstrap and apt.
	DefaultMirror = "http://deb.debian.org/debian"
	// MirrorEnv overrides the Debian mirror.
	MirrorEnv = "DJGRADE_DEBIAN_MIRROR"
)

// BuildOptions tune EnsureImage. The zero value picks everything itself.
type BuildOptions struct {
	// Base forces a base image instead of choosing one.
	Base string
	// Mirror is the Debian mirror; empty means $DJGRADE_DEBIAN_MIRROR or DefaultMirror.
	Mirror string
	// PullTimeout bounds the attempt to pull PulledBase (default 20s).
	PullTimeout time.Duration
	// NoPull skips the pull attempt, e.g. on a machine known to be offline.
	NoPull bool
	// Rebuild builds even if the tagged image exists.
	Rebuild bool
}

func (o BuildOptions) mirror() string {
	if o.Mirror != "" {
		return o.Mirror
	}
	if m := os.Getenv(MirrorEnv); m != "" {
		return m
	}
	return DefaultMirror
}

// ImageTag returns the tag of the sandbox image for the embedded inputs.
func ImageTag() string { return sbimage.Tag() }

// EnsureImage returns the tag of the sandbox image, building it first if the
// engine does not have it. It says on progress which base it chose and why,
// and how long each phase took. An image with the tag is never rebuilt
// (unless opts.Rebuild): the tag is a hash of every input.
func EnsureImage(ctx context.Context, cli ImageEngine, opts BuildOptions, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	tag := sbimage.Tag()
	if !opts.Rebuild {
		ok, err := imageExists(ctx, cli, tag)
		if err != nil {
			return "", err
		}
		if ok {
			fmt.Fprintf(progress, "sandbox image %s is present\n", tag)
			return tag, nil
		}
	}
	start := time.Now()
	base, err := chooseBase(ctx, cli, opts, progress)
	if err != nil {
		return "", err
	}
	t := time.Now()
	fmt.Fprintf(progress, "building %s FROM %s (classic builder)\n", tag, base)
	if err := buildImage(ctx, cli, tag, base, opts.mirror(), progress); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "build: %s\n", since(t))
	fmt.Fprintf(progress, "sandbox image %s ready in %s\n", tag, since(start))
	return tag, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }

func imageExists(ctx context.Context, cli ImageEngine, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return false, unavailable(err, "inspect image %s", ref)
}

// chooseBase picks the base image: (a) debian:trixie-slim, present or
// pullable; (b) a local djgrade-base:trixie; (c) one made now by debootstrap.
func chooseBase(ctx context.Context, cli ImageEngine, opts BuildOptions, progress io.Writer) (string, error) {
	if opts.Base != "" {
		fmt.Fprintf(progress, "base: %s (given)\n", opts.Base)
		return opts.Base, nil
	}
	ok, err := imageExists(ctx, cli, PulledBase)
	if err != nil {
		return "", err
	}
	if ok {
		fmt.Fprintf(progress, "base: %s (present locally)\n", PulledBase)
		return PulledBase, nil
	}
	if !opts.NoPull {
		t := time.Now()
		if err := pull(ctx, cli, PulledBase, opts.PullTimeout); err == nil {
			fmt.Fprintf(progress, "base: %s (pulled in %s)\n", PulledBase, since(t))
			return PulledBase, nil
		} else {
			fmt.Fprintf(progress, "cannot pull %s after %s: %v\n", PulledBase, since(t), firstLine(err.Error()))
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	ok, err = imageExists(ctx, cli, LocalBase)
	if err != nil {
		return "", err
	}
	if ok {
		fmt.Fprintf(progress, "base: %s (present locally)\n", LocalBase)
		return LocalBase, nil
	}
	fmt.Fprintf(progress, "base: %s (making it with debootstrap from %s)\n", LocalBase, opts.mirror())
	if err := Bootstrap(ctx, cli, opts.mirror(), LocalBase, progress); err != nil {
		return "", err
	}
	return LocalBase, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// pull pulls ref within timeout. The pull's JSON stream must be read to the
// end: the pull only finishes (or reports its error) there.
func pull(ctx context.Context, cli ImageEngine, ref string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	return readMessages(rc, nil)
}

// message is one item of the engine's JSON progress stream.
type message struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux json.RawMessage `json:"aux"`
}

// readMessages decodes a JSON message stream, hands each message to fn (if
// not nil) and returns the first error message in it as an error.
func readMessages(r io.Reader, fn func(message)) error {
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read engine messages: %w", err)
		}
		if m.Error != "" || m.ErrorDetail != nil {
			msg := m.Error
			if msg == "" {
				msg = m.ErrorDetail.Message
			}
			return errors.New(msg)
		}
		if fn != nil {
			fn(m)
		}
	}
}

func buildImage(ctx context.Context, cli ImageEngine, tag, base, mirror string, progress io.Writer) error {
	bctx, err := sbimage.Context()
	if err != nil {
		return internal(err, "make build context")
	}
	return runBuild(ctx, cli, "build sandbox image", BuildSpec{
		Tag:     tag,
		Context: bctx,
		Args:    map[string]*string{"BASE": &base, "DEBIAN_MIRROR": &mirror},
		Labels:  map[string]string{"app": "djgrade", "djgrade.image.hash": sbimage.Hash()},
	}, progress)
}

// BuildSpec is one image build: the tag it makes, its context (a tar with
// a Dockerfile at its root), build arguments and labels.
type BuildSpec struct {
	Tag     string
	Context io.Reader
	Args    map[string]*string
	Labels  map[string]string
}

// runBuild builds spec with the engine's classic builder (there is no
// BuildKit here), streams its progress, and checks that the tag exists
// afterwards; what names the build in errors.
func runBuild(ctx context.Context, cli ImageEngine, what string, spec BuildSpec, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	resp, err := cli.ImageBuild(ctx, spec.Context, build.ImageBuildOptions{
		Tags:        []string{spec.Tag},
		BuildArgs:   spec.Args,
		Version:     build.BuilderV1,
		Remove:      true,
		ForceRemove: true,
		Labels:      spec.Labels,
	})
	if err != nil {
		return unavailable(err, "%s", what)
	}
	defer resp.Body.Close()
	// Step lines and their own output are shown; apt's download chatter is
	// part of the stream too and kept, since a slow mirror is worth seeing.
	err = readMessages(resp.Body, func(m message) {
		if m.Stream != "" {
			io.WriteString(progress, m.Stream)
		} else if m.Status != "" {
			fmt.Fprintln(progress, m.Status)
		}
	})
	if err != nil {
		return internal(err, "%s: %s", what, firstLine(err.Error()))
	}
	ok, err := imageExists(ctx, cli, spec.Tag)
	if err != nil {
		return err
	}
	if !ok {
		return internal(nil, "%s: %s missing after the build", what, spec.Tag)
	}
	return nil
}

// BuildImage builds an image other than the sandbox's (the service's own,
// say) on this sandbox's engine, with the classic builder, streaming its
// progress; see BuildSpec.
func (d *Docker) BuildImage(ctx context.Context, spec BuildSpec, progress io.Writer) error {
	if err := d.negotiate(ctx); err != nil {
		return err
	}
	return runBuild(ctx, d.cli, "build "+spec.Tag, spec, progress)
}

// ImageExists reports whether the engine has the image ref.
func (d *Docker) ImageExists(ctx context.Context, ref string) (bool, error) {
	if err := d.negotiate(ctx); err != nil {
		return false, err
	}
	return imageExists(ctx, d.cli, ref)
}

// Bootstrap makes a base image on this sandbox's engine; see the package
// function Bootstrap.
func (d *Docker) Bootstrap(ctx context.Context, mirror, ref string, progress io.Writer) error {
	if err := d.negotiate(ctx); err != nil {
		return err
	}
	return Bootstrap(ctx, d.cli, mirror, ref, progress)
}

// Bootstrap makes a minimal Debian trixie root filesystem with debootstrap
// and imports it into the engine as ref. It needs root and the debootstrap
// binary, and deletes its temporary folder whatever happens.
func Bootstrap(ctx context.Context, cli ImageEngine, mirror, ref string, progress io.Writer) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return internal(err, "no registry reachable and debootstrap is missing: install it (apt-get install debootstrap) or load %s or %s into the engine", PulledBase, LocalBase)
	}
	if os.Geteuid() != 0 {
		return internal(nil, "making %s with debootstrap needs root; run `djgrade image build` as root once, or load %s into the engine", LocalBase, PulledBase)
	}
	dir, err := os.MkdirTemp("", "djgrade-rootfs-")
	if err != nil {
		return internal(err, "make rootfs folder")
	}
	defer removeRootfs(dir, progress)

	t := time.Now()
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "trixie", dir, mirror)
	pw := &prefixWriter{w: progress, prefix: "debootstrap: "}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Run(); err != nil {
		return internal(err, "debootstrap trixie from %s failed", mirror)
	}
	pw.flush()
	fmt.Fprintf(progress, "debootstrap: %s\n", since(t))

	t = time.Now()
	tr := exec.CommandContext(ctx, "tar", "--numeric-owner", "--one-file-system", "-C", dir, "-cf", "-", ".")
	out, err := tr.StdoutPipe()
	if err != nil {
		return internal(err, "tar rootfs")
	}
	var tarErr strings.Builder
	tr.Stderr = &limitedBuilder{b: &tarErr, n: 4096}
	if err := tr.Start(); err != nil {
		return internal(err, "tar rootfs")
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: out, SourceName: "-"}, ref, image.ImportOptions{
		Message: "debootstrap --variant=minbase trixie " + mirror,
	})
	if err != nil {
		tr.Process.Kill()
		tr.Wait()
		return unavailable(err, "import rootfs as %s", ref)
	}
	ierr := readMessages(rc, nil)
	rc.Close()
	io.Copy(io.Discard, out) // let tar finish if the engine stopped reading
	if err := tr.Wait(); err != nil {
		return internal(err, "tar rootfs: %s", tarErr.String())
	}
	if ierr != nil {
		return internal(ierr, "import rootfs as %s", ref)
	}
	fmt.Fprintf(progress, "import %s: %s\n", ref, since(t))
	return nil
}

// removeRootfs deletes the debootstrap folder, unless something is still
// mounted below it (debootstrap mounts /proc while it works): deleting
// through a mount would reach the host's files.
func removeRootfs(dir string, progress io.Writer) {
	if mounts, err := os.ReadFile("/proc/self/mounts"); err == nil {
		for _, line := range strings.Split(string(mounts), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
				fmt.Fprintf(progress, "not removing %s: %s is still mounted\n", dir, f[1])
				return
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(progress, "remove %s: %v\n", dir, err)
	}
}

// prefixWriter writes whole lines to w, each with a prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}

// limitedBuilder keeps the first n bytes written to it.
type limitedBuilder struct {
	b *strings.Builder
	n int
}

func (l *limitedBuilder) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
