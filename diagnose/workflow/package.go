package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// Package is what the checks use from the package.json being published. Without one,
// Check skips what only the manifest can tell (a prerelease version, a scope, publishConfig).
type Package struct {
	File     string // as given to ParsePackage
	Name     string
	Version  string
	Private  bool   // npm refuses to publish it; a workspace root usually is
	Access   string // publishConfig.access
	Tag      string // publishConfig.tag
	Registry string // publishConfig.registry
	// PackageManager is the packageManager field ("pnpm@10.20.0+sha512…"), which
	// pnpm/action-setup and corepack install.
	PackageManager string
	// Scripts are the scripts by name, which run lines call (npm run release).
	Scripts map[string]string
}

// ParsePackage reads a package.json.
func ParsePackage(filePath string, src []byte) (*Package, error) {
	var m struct {
		Name           string            `json:"name"`
		PackageManager string            `json:"packageManager"`
		Scripts        map[string]string `json:"scripts"`
		Version        string            `json:"version"`
		Private        json.RawMessage   `json:"private"`
		PublishConfig  struct {
			Access   string `json:"access"`
			Tag      string `json:"tag"`
			Registry string `json:"registry"`
		} `json:"publishConfig"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")), &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", path.Base(filePath), err)
	}
	return &Package{
		File:     filePath,
		Name:     m.Name,
		Version:  m.Version,
		Private:  truthy(m.Private),
		Access:   m.PublishConfig.Access,
		Tag:      m.PublishConfig.Tag,
		Registry: m.PublishConfig.Registry,

		PackageManager: m.PackageManager,
		Scripts:        m.Scripts,
	}, nil
}

// truthy follows npm, which tests `if (pkg.private)`: true and any non-empty string
// (even "false") make a package private.
func truthy(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "true" || len(s) > 2 && s[0] == '"'
}

func (p *Package) usable() bool { return p != nil && !p.Private && p.Name != "" }

// scoped reports whether the package name is @scope/name.
func (p *Package) scoped() bool { return p.usable() && strings.HasPrefix(p.Name, "@") }

// prerelease reports whether the version has a prerelease part (1.2.0-beta.1).
func (p *Package) prerelease() bool {
	if !p.usable() {
		return false
	}
	core, _, _ := strings.Cut(p.Version, "+")
	return strings.Contains(core, "-")
}

// script returns the script of that name; ok is false without a package.json or script.
func (p *Package) script(name string) (string, bool) {
	if p == nil || p.Scripts == nil {
		return "", false
	}
	s, ok := p.Scripts[name]
	return s, ok
}

// packageManager returns the packageManager field, "" when unknown.
func (p *Package) packageManager() string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(p.PackageManager)
}
