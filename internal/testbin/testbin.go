// Package testbin builds the real revealed binary and runs it as a child
// process on loopback, for end-to-end, crash and load tests that must see
// exactly what an operator would: flags, stderr, signals, restarts.
package testbin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Build compiles ./cmd/revealed once per test process and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "revealed-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "revealed")
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/revealed")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Process is a running revealed server.
type Process struct {
	URL      string
	AdminKey string // set when the server printed one
	cmd      *exec.Cmd
	stderr   *syncBuffer
	exited   chan struct{}
	waitErr  error
}

var (
	listenLine = regexp.MustCompile(`listening on (http://\S+)`)
	keyLine    = regexp.MustCompile(`Admin API key \(shown once; store it\): (\S+)`)
)

// Start runs `revealed serve --addr 127.0.0.1:0 ARGS…` with env added to the
// environment, and waits until it listens and answers /healthz.
func Start(t testing.TB, env []string, args ...string) *Process {
	t.Helper()
	bin := Build(t)
	full := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// serve prints the admin key and hints first and "listening on" last, so
	// everything is known once that line appears.
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.WriteLine(line)
			if m := keyLine.FindStringSubmatch(line); m != nil {
				p.AdminKey = m[1]
			}
			if m := listenLine.FindStringSubmatch(line); m != nil && p.URL == "" {
				p.URL = m[1]
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Kill() })
	select {
	case <-ready:
	case <-p.exited:
		t.Fatalf("revealed exited before listening: %v\n%s", p.waitErr, p.Stderr())
	case <-time.After(2 * time.Minute):
		t.Fatalf("revealed did not start within 2 minutes:\n%s", p.Stderr())
	}
	p.waitHealthy(t)
	return p
}

func (p *Process) waitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("revealed at %s never became healthy:\n%s", p.URL, p.Stderr())
}

// Stderr returns everything the process has printed so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Terminate sends SIGTERM and waits for a clean exit.
func (p *Process) Terminate(ctx context.Context) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.waitErr
	case <-ctx.Done():
		p.Kill()
		return fmt.Errorf("revealed did not exit after SIGTERM: %w", ctx.Err())
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) WriteLine(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(line)
	s.b.WriteByte('\n')
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
