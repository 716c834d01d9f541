package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envCrashDir tells TestCrashHelper, run as a child process, which data directory to use.
const envCrashDir = "PUBDOC_STORE_TEST_CRASH_DIR"

// TestCrashHelper is the process that TestKillDashNineThenRestart kills: it accepts a
// job, starts running it and never finishes.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("only runs as TestKillDashNineThenRestart's child process")
	}
	ctx := context.Background()
	s, err := Open(ctx, testDB{driver: DriverSQLite, dir: dir}.config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, "test", "d1", Task{Kind: "github_run", Payload: json.RawMessage(`{"run":7}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, func(context.Context, Task) error {
		_ = os.WriteFile(filepath.Join(dir, "started"), nil, 0o600)
		time.Sleep(time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
	t.Fatal("was not killed")
}

func TestKillDashNineThenRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child never started its job; its output:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// While the child lives, the directory is taken.
	db := testDB{driver: DriverSQLite, dir: dir}
	if s, err := Open(context.Background(), db.config(), nil); err == nil {
		_ = s.Close()
		t.Fatal("a second process opened a data directory in use")
	} else if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "another pubdoc serve is using "+dir) {
		t.Fatalf("second Open: %v; want 'another pubdoc serve is using %s'", err, dir)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true

	// The kernel released the lock; the restart resumes the job at once, not after
	// RescueAfter (20s in tests).
	logs := &logBuffer{}
	s := open(t, db, logs)
	rec := &recorder{}
	restarted := time.Now()
	start(t, s, rec.handle)
	id := jobOf(t, s, "test", "d1")
	waitState(t, s, id, "completed", 5*time.Second)
	if calls := rec.calls(); len(calls) != 1 || calls[0].Attempt != 2 || string(calls[0].Payload) != `{"run":7}` {
		t.Fatalf("calls %+v, want the killed job once more as attempt 2", calls)
	}
	if d := time.Since(restarted); d > 3*time.Second {
		t.Errorf("the job took %s to resume after the restart", d)
	}
}

func TestSecondOpenOfDataDirFails(t *testing.T) {
	t.Parallel()
	db := newSQLiteDB(t)
	s := open(t, db, nil)
	_, err := Open(context.Background(), db.config(), nil)
	if err == nil {
		t.Fatal("a second Open of the same data directory succeeded")
	}
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "another pubdoc serve is using "+db.dir) {
		t.Fatalf("second Open: %v; want 'another pubdoc serve is using %s'", err, db.dir)
	}
	// The failed Open did not disturb the first store, and Close frees the directory.
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), db.config(), nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	_ = s2.Close()
}
