package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// TrustedPublisher is one trusted-publisher configuration of a package: the CI identity the
// registry lets publish without a token.
type TrustedPublisher struct {
	// Type is the CI provider: "github", "gitlab", "circleci" (or another the registry adds).
	Type string
	// Repository is owner/repo for GitHub, the project path for GitLab, and the owner/repo of
	// the VCS origin for CircleCI.
	Repository string
	// WorkflowFile is the workflow file name as configured ("release.yml"); for GitLab, the
	// pipeline file. The registry compares it exactly with the file the run came from.
	WorkflowFile string
	// Environment is the deployment environment the run must use; empty means any.
	Environment string
	// ID is the registry's id for the entry (what `npm trust revoke --id` takes).
	ID string
	// Permissions are the allowed actions ("createPackage" is npm publish,
	// "createStagedPackage" is npm stage); empty when the registry does not say.
	Permissions []string
}

// AllowsPublish reports whether the entry lets its identity run npm publish. Entries whose
// permissions the registry does not list are assumed to, as before permissions existed.
func (tp TrustedPublisher) AllowsPublish() bool {
	return len(tp.Permissions) == 0 || slices.Contains(tp.Permissions, "createPackage")
}

// TrustedPublishers lists the package's trusted publishers (GET
// <base>/-/package/<escaped name>/trust with the token, as `npm trust list` does). It needs
// a token (ErrNoToken, without asking, otherwise); a refused token is ErrUnauthorized and an
// unknown package ErrNotFound. A package without any is an empty list.
func (c *Client) TrustedPublishers(ctx context.Context, name string) ([]TrustedPublisher, error) {
	tps, err := c.trust(ctx, name)
	return tps, c.seal(err, "listing the trusted publishers of npm package %q", name)
}

func (c *Client) trust(ctx context.Context, name string) ([]TrustedPublisher, error) {
	if err := c.check(name); err != nil {
		return nil, err
	}
	if c.tok == nil {
		return nil, ErrNoToken
	}
	key := "trust\x00" + name
	if v, ok := c.cache.get(key, c.now()); ok {
		c.log.DebugContext(ctx, "registry cache hit", "package", name, "what", "trust")
		return cloneTPs(v.([]TrustedPublisher)), nil
	}
	c.log.DebugContext(ctx, "asking for trusted publishers", "package", name, "token", *c.tok)
	a, err := c.get(ctx, c.endpoint("-/package/"+escapeName(name)+"/trust"), true)
	if err != nil {
		return nil, err
	}
	switch a.status {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: HTTP 404%s", ErrNotFound, c.said(a.body))
	default:
		return nil, fmt.Errorf("unexpected answer HTTP %d%s", a.status, c.said(a.body))
	}
	tps, err := decodeTrust(a.body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c.cache.put(key, cloneTPs(tps), c.now(), c.ttl)
	return tps, nil
}

func cloneTPs(tps []TrustedPublisher) []TrustedPublisher {
	out := slices.Clone(tps)
	for i := range out {
		out[i].Permissions = slices.Clone(out[i].Permissions)
	}
	if out == nil {
		out = []TrustedPublisher{}
	}
	return out
}

// wrapperKeys are the fields an object wrapping the list may use, tried in order.
var wrapperKeys = []string{"trustedPublishers", "trusted_publishers", "trust", "configs", "configurations", "items", "objects", "data", "results"}

// decodeTrust reads the shapes `npm trust list` accepts: a bare array of entries, a single
// entry (npm treats a non-array body as one), or null; and, leniently, an object wrapping
// the array.
func decodeTrust(body []byte) ([]TrustedPublisher, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		return []TrustedPublisher{}, nil
	}
	var list []json.RawMessage
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, err
		}
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, err
		}
		arr, err := unwrap(obj)
		if err != nil {
			return nil, err
		}
		if arr == nil {
			list = []json.RawMessage{body}
		} else if err := json.Unmarshal(arr, &list); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("expected a list of trusted publishers")
	}
	out := make([]TrustedPublisher, 0, len(list))
	for i, raw := range list {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("trusted publisher %d: %w", i+1, err)
		}
		if m == nil {
			continue
		}
		out = append(out, decodeEntry(m))
	}
	return out, nil
}

// unwrap finds the array inside a wrapping object; nil means obj is itself one entry.
func unwrap(obj map[string]json.RawMessage) (json.RawMessage, error) {
	if _, ok := obj["type"]; ok {
		return nil, nil
	}
	if _, ok := obj["claims"]; ok {
		return nil, nil
	}
	for _, k := range wrapperKeys {
		if v, ok := obj[k]; ok && isArray(v) {
			return v, nil
		}
	}
	var arrays []json.RawMessage
	for _, v := range obj {
		if isArray(v) {
			arrays = append(arrays, v)
		}
	}
	switch {
	case len(arrays) == 1:
		return arrays[0], nil
	case len(obj) == 0:
		return json.RawMessage("[]"), nil
	}
	return nil, errors.New("an object that neither is a trusted publisher nor wraps a list of them")
}

func isArray(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '['
}

// decodeEntry reads one entry in the registry's shape ({id, type, claims, permissions},
// claims per provider as `npm trust <provider>` posts them), or in the flattened shape
// `npm trust list --json` prints ({id, type, file, repository|project, environment}).
func decodeEntry(m map[string]json.RawMessage) TrustedPublisher {
	tp := TrustedPublisher{Type: str(m["type"]), ID: str(m["id"])}
	var claims map[string]json.RawMessage
	_ = json.Unmarshal(m["claims"], &claims) // absent or not an object: the flattened shape
	switch tp.Type {
	case "gitlab":
		tp.Repository = str(claims["project_path"])
		tp.WorkflowFile = fileOf(claims["ci_config_ref_uri"])
	case "circleci":
		origin := first(str(claims["vcs_origin"]), str(claims["oidc.circleci.com/vcs-origin"]))
		if _, rest, ok := strings.Cut(origin, "/"); ok && strings.Contains(rest, "/") {
			origin = rest // github.com/owner/repo -> owner/repo
		}
		tp.Repository = origin
	case "buildkite":
		if org, pipe := str(claims["organization_slug"]), str(claims["pipeline_slug"]); org != "" || pipe != "" {
			tp.Repository = org + "/" + pipe
		}
	default:
		tp.Repository = str(claims["repository"])
		tp.WorkflowFile = fileOf(claims["workflow_ref"])
	}
	tp.Environment = str(claims["environment"])
	// The flattened shape, or fields a registry puts beside the claims.
	tp.Repository = first(tp.Repository, str(m["repository"]), str(m["project"]))
	tp.WorkflowFile = first(tp.WorkflowFile, str(m["file"]))
	tp.Environment = first(tp.Environment, str(m["environment"]))

	var perms []any
	_ = json.Unmarshal(m["permissions"], &perms)
	for _, p := range perms {
		if s, ok := p.(string); ok && s != "" {
			tp.Permissions = append(tp.Permissions, s)
		}
	}
	if tp.Permissions == nil {
		if b, ok := boolOf(m["allowPublish"]); ok && b {
			tp.Permissions = append(tp.Permissions, "createPackage")
		}
		if b, ok := boolOf(m["allowStagePublish"]); ok && b {
			tp.Permissions = append(tp.Permissions, "createStagedPackage")
		}
	}
	return tp
}

// fileOf reads a workflow_ref-like claim: {"file": "release.yml"} as npm posts it, or a
// full ref string ("owner/repo/.github/workflows/release.yml@refs/heads/main").
func fileOf(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		return str(obj["file"])
	}
	return workflowPath(str(raw))
}

// str is a JSON string or number as text; anything else is "".
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func boolOf(raw json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	if s := str(raw); s != "" {
		v, err := strconv.ParseBool(s)
		return v, err == nil
	}
	return false, false
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
