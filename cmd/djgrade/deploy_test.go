package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docker runs the docker CLI and returns its trimmed output.
func docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestServiceImage builds the image of the service (the top-level
// Dockerfile, FROM the base chosen like the sandbox's), runs it as the
// README says (the host's Docker socket and a volume for the store) on a
// loopback port, reads /readyz, grades through the engine from inside it,
// and stops it with SIGTERM.
func TestServiceImage(t *testing.T) {
	skipShort(t)
	bin := buildBinary(t)
	var r [6]byte
	rand.Read(r[:])
	suffix := hex.EncodeToString(r[:])
	tag := "djgrade-test:" + suffix
	volume := "djgrade-test-" + suffix

	cmd := exec.Command(bin, "image", "build", "--service", "--tag", tag, "--dockerfile", filepath.Join("..", "..", "Dockerfile"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("image build --service: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	if !strings.Contains(string(out), "service base: ") {
		t.Fatalf("the build did not say which base it chose:\n%s", out)
	}

	addr := freeAddr(t)
	docker(t, "volume", "create", volume)
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", volume).Run() })
	id := docker(t, "run", "-d", "-p", addr+":8080", "-e", "DJGRADE_ADMIN_TOKEN=admin-"+suffix+suffix+suffix,
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", volume+":/data", tag)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", id).Run() })
	defer func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
			t.Logf("service logs:\n%s", logs)
		}
	}()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of the service in a container never answered 200 (last: %v)", err)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// The binary in the image starts sandbox containers through the
	// mounted socket: grade the reference solution from inside it.
	project := writeProject(t, projectFiles(t, "n-plus-one", "solutions/reference"))
	docker(t, "cp", project, id+":/tmp/project")
	grade := exec.Command("docker", "exec", id, "djgrade", "grade", "--exercise", "n-plus-one", "/tmp/project")
	if out, err := grade.CombinedOutput(); err != nil {
		t.Fatalf("grade inside the service container: %v\n%s", err, out)
	}

	// A backup through the running server, as the README shows.
	if out, err := exec.Command("docker", "exec", id, "djgrade", "backup", "/data/backup.db").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "streamed from the server") {
		t.Fatalf("backup inside the service container: %v\n%s", err, out)
	}

	// docker stop sends SIGTERM: the service drains and exits cleanly.
	docker(t, "stop", "--time", "60", id)
	if code := docker(t, "inspect", "--format", "{{.State.ExitCode}}", id); code != "0" {
		t.Fatalf("service exited %s after SIGTERM", code)
	}
	// The store outlives the container on its volume.
	ls := docker(t, "run", "--rm", "--entrypoint", "ls", "-v", volume+":/data", tag, "/data")
	if !strings.Contains(ls, DBName) || !strings.Contains(ls, "backup.db") {
		t.Fatalf("the volume holds %q, not the store", ls)
	}
}
