package workflow

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The matrix expands as GitHub expands it: the product of the rows, minus exclude, then
// include extends the legs it matches or adds its own.
func TestMatrixLegs(t *testing.T) {
	tests := []struct {
		name, matrix string
		want         []string // each leg as sorted key=value pairs
	}{
		{"product", "os: [ubuntu-latest, macos-latest]\n        node: [22, 24]", []string{
			"node=22 os=ubuntu-latest", "node=22 os=macos-latest", "node=24 os=ubuntu-latest", "node=24 os=macos-latest",
		}},
		{"exclude", "os: [ubuntu-latest, windows-latest]\n        node: [22, 24]\n        exclude:\n          - os: windows-latest\n            node: 22", []string{
			"node=22 os=ubuntu-latest", "node=24 os=ubuntu-latest", "node=24 os=windows-latest",
		}},
		{"include extends and adds", "os: [ubuntu-latest, macos-latest]\n        include:\n          - os: macos-latest\n            arch: arm64\n          - os: windows-latest", []string{
			"os=ubuntu-latest", "arch=arm64 os=macos-latest", "os=windows-latest",
		}},
		{"include only", "include:\n          - runner: blacksmith-4vcpu-ubuntu-2404\n            target: linux", []string{
			"runner=blacksmith-4vcpu-ubuntu-2404 target=linux",
		}},
		{"objects flatten", "config:\n          - {os: macos-14, py: '3.12'}", []string{
			`config.os=macos-14 config.py=3.12 config={"os": "macos-14", "py": "3.12"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        " + tt.matrix + "\n    steps:\n      - run: echo\n"
			w, err := Parse("ci.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			m := w.Jobs[0].matrix
			if m == nil || m.unknown {
				t.Fatalf("matrix = %+v", m)
			}
			var got []string
			for _, l := range m.legs {
				var kv []string
				for k, v := range l {
					kv = append(kv, k+"="+v.s)
				}
				slices.Sort(kv)
				got = append(got, strings.Join(kv, " "))
			}
			equalLines(t, "legs", got, tt.want)
		})
	}
}

func TestMatrixUnknown(t *testing.T) {
	src := "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}\n    steps:\n      - run: echo\n"
	w, err := Parse("ci.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if m := w.Jobs[0].matrix; m == nil || !m.unknown {
		t.Errorf("an expression matrix must be unknown: %+v", m)
	}
}

// Expressions: what the file shows is evaluated, what it does not is unknown, and an
// undefined variable is ” (and reported as undefined).
func TestExpressions(t *testing.T) {
	const src = `on:
  workflow_dispatch:
    inputs:
      channel:
        default: latest
env:
  NODE: '24'
  NESTED: ${{ matrix.os }}
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [macos-latest]
    steps:
      - run: echo
`
	w, err := Parse("ci.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	j := w.Jobs[0]
	tests := []struct {
		expr, want string // want: value, "?" unknown; a suffix " undefined=…"/" opaque=…"
	}{
		{"env.NODE", "24"},
		{"env.NESTED", "macos-latest"},
		{"matrix.os", "macos-latest"},
		{"matrix.node", " undefined=matrix.node"},
		{"env.MISSING", " undefined=env.MISSING"},
		{"inputs.nope", " undefined=inputs.nope"},
		{"inputs.channel", "latest"},
		{"vars.NODE_VERSION", "? opaque=vars.NODE_VERSION"},
		{"matrix.os == 'macOS-latest'", "true"},
		{"matrix.os != 'ubuntu-latest' && startsWith(matrix.os, 'mac')", "true"},
		{"github.event_name == 'release' && matrix.os == 'ubuntu-latest'", "false opaque=github.event_name"},
		{"github.event_name == 'release' || matrix.os == 'ubuntu-latest'", "? opaque=github.event_name"},
		{"!(matrix.os == 'macos-latest')", "false"},
		{"fromJSON(vars.X)", "? opaque=vars.X"},
	}
	for _, tt := range tests {
		sc := &scope{w: w, j: j, leg: j.matrix.legs[0]}
		v := sc.eval(tt.expr)
		got := v.s
		if !v.known {
			got = "?"
		}
		if len(sc.undefined) > 0 {
			got += " undefined=" + strings.Join(sc.undefined, ",")
		}
		if len(sc.opaque) > 0 {
			got += " opaque=" + strings.Join(sc.opaque, ",")
		}
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
	// Interpolation splices values into text, and if: conditions work with or without ${{ }}.
	sc := &scope{w: w, j: j, leg: j.matrix.legs[0]}
	if v := sc.interpolate("node-${{ env.NODE }}-${{ matrix.os }}"); !v.known || v.s != "node-24-macos-latest" {
		t.Errorf("interpolate = %+v", v)
	}
	for _, c := range []string{"matrix.os == 'macos-latest'", "${{ matrix.os == 'macos-latest' }}"} {
		if v := sc.cond(c); !v.known || !v.truthy() {
			t.Errorf("cond(%s) = %+v", c, v)
		}
	}
}

// A step's if: on the matrix decides which legs it runs in.
func TestStepLegs(t *testing.T) {
	const src = `on: push
jobs:
  wheels:
    runs-on: ${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, macos-latest, windows-latest]
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
        if: matrix.os == 'ubuntu-latest'
      - uses: pypa/gh-action-pypi-publish@release/v1
        if: startsWith(github.ref, 'refs/tags/')
`
	w, err := Parse("wheels.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	j := w.Jobs[0]
	for i, want := range []string{"", "macOS macos-latest (wheels.yml:7)"} {
		os, label := stepOS(w, j, j.steps[i])
		got := ""
		if os != "" {
			got = fmt.Sprintf("%s %s (wheels.yml:%d)", os, label.s, label.line)
		}
		if got != want {
			t.Errorf("step %d: stepOS = %q, want %q", i, got, want)
		}
	}
}
