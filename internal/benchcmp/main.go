// Command benchcmp measures `pubdoc diagnose` on a generated >=100 MB job log against
// ripgrep searching the same file for the same literal anchors (rg -F -f), in one run, the
// two tools alternating, and reports wall time, throughput, peak RSS and the ratio (of the
// medians, and the median of each pair's). It is what `make bench` prints.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/synth"
	"github.com/pubdoc/pubdoc/knowledge"
)

func main() {
	dir := flag.String("dir", filepath.Join("testdata", "big"), "where to write the generated logs")
	bin := flag.String("pubdoc", filepath.Join("bin", "pubdoc"), "the pubdoc binary to measure")
	runs := flag.Int("runs", 11, "runs per measurement, the two tools alternating (medians are reported)")
	flag.Parse()
	if err := run(*dir, *bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
}

type measure struct {
	wall   time.Duration
	rssKiB int64
}

func run(dir, bin string, runs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	eng, err := diagnose.New(knowledge.MustLoad(), nil, diagnose.Options{})
	if err != nil {
		return err
	}
	lits := eng.TriggerLiterals()
	anchors := filepath.Join(dir, "anchors.txt")
	if err := os.WriteFile(anchors, []byte(strings.Join(lits, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	rg, err := exec.LookPath("rg")
	if err != nil {
		return errors.New("ripgrep (rg) is not installed: apt-get install ripgrep")
	}
	if err := startup(dir, bin, max(runs, 31)); err != nil {
		return err
	}
	fmt.Printf("literal anchors: %d (the scanner's triggers, also given to rg -F -f)\n", len(lits))
	fmt.Printf("%-10s %-8s %10s %10s %12s\n", "size", "tool", "wall", "MB/s", "peak RSS")
	for _, mb := range []int64{10, 100, 200} {
		path := filepath.Join(dir, fmt.Sprintf("job-%dmb.log", mb))
		size, err := ensureLog(path, mb<<20)
		if err != nil {
			return err
		}
		// Warm the page cache so both tools read from memory.
		// Stream it (not ReadFile: a child's peak RSS starts at its parent's).
		if err := warm(path); err != nil {
			return err
		}
		r, p, ratio, err := alternate(runs, []string{rg, "-F", "-c", "-f", anchors, path}, []string{bin, "diagnose", "--format", "json", path})
		if err != nil {
			return err
		}
		for _, row := range []struct {
			tool string
			m    measure
		}{{"rg", r}, {"pubdoc", p}} {
			fmt.Printf("%-10s %-8s %10s %10.0f %9.1f MiB\n", fmt.Sprintf("%d MB", size>>20), row.tool, row.m.wall.Round(time.Millisecond), float64(size)/1e6/row.m.wall.Seconds(), float64(row.m.rssKiB)/1024)
		}
		fmt.Printf("%-10s ratio pubdoc/rg wall %.2fx; of each pair, median %.2fx (goal <= 1.00x at 100 MB)\n", "", p.wall.Seconds()/r.wall.Seconds(), ratio)
	}
	return nil
}

// seedPaste is the bare three-line paste of the seed problem (examples/bare-paste.log).
const seedPaste = "npm notice Access token expired or revoked. Please try logging in again.\n" +
	"npm error code E404\n" +
	"npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found\n"

// startup measures what a person waits for before any log is read: `pubdoc version` and a
// diagnosis of the three-line paste, the median of runs, against the goals of issue 12.
func startup(dir, bin string, runs int) error {
	paste := filepath.Join(dir, "paste.log")
	if err := os.WriteFile(paste, []byte(seedPaste), 0o644); err != nil {
		return err
	}
	fmt.Printf("%-34s %10s %10s %12s\n", "start-up (median of "+fmt.Sprint(runs)+")", "wall", "goal", "peak RSS")
	for _, row := range []struct {
		name string
		args []string
		goal time.Duration
	}{
		{"pubdoc version", []string{"version"}, 10 * time.Millisecond},
		{"pubdoc diagnose <3-line paste>", []string{"diagnose", paste}, 5 * time.Millisecond},
	} {
		m, err := median(runs, bin, row.args...)
		if err != nil {
			return err
		}
		fmt.Printf("%-34s %10s %10s %9.1f MiB\n", row.name, m.wall.Round(100*time.Microsecond), "<= "+row.goal.String(), float64(m.rssKiB)/1024)
	}
	return nil
}

func ensureLog(path string, size int64) (int64, error) {
	if st, err := os.Stat(path); err == nil && st.Size() >= size {
		return st.Size(), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := synth.WriteJobLog(f, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func median(runs int, name string, args ...string) (measure, error) {
	var ms []measure
	for i := 0; i < runs; i++ {
		m, err := once(name, args...)
		if err != nil {
			return measure{}, err
		}
		ms = append(ms, m)
	}
	return middle(ms), nil
}

// alternate runs a and b one after the other, runs times, and returns the median of each
// and the median of b's wall over a's in each pair: on a shared machine the load drifts,
// and a pair sees the same load.
func alternate(runs int, a, b []string) (ma, mb measure, ratio float64, err error) {
	var as, bs []measure
	var ratios []float64
	for i := 0; i < runs; i++ {
		x, err := once(a[0], a[1:]...)
		if err != nil {
			return ma, mb, 0, err
		}
		y, err := once(b[0], b[1:]...)
		if err != nil {
			return ma, mb, 0, err
		}
		as, bs = append(as, x), append(bs, y)
		ratios = append(ratios, y.wall.Seconds()/x.wall.Seconds())
	}
	sort.Float64s(ratios)
	return middle(as), middle(bs), ratios[len(ratios)/2], nil
}

func once(name string, args ...string) (measure, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout = nil
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1 || filepath.Base(name) != "rg") {
		return measure{}, fmt.Errorf("%s: %w", name, err) // rg exits 1 only when nothing matched
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return measure{wall, rss}, nil
}

func middle(ms []measure) measure {
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	return ms[len(ms)/2]
}

// warm reads the file once so both tools find it in the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	_, err = io.Copy(io.Discard, f)
	return err
}
