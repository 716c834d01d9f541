package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// serveEnv is the environment of `pubdoc serve` (ARCHITECTURE.md, docs/deploy.md).
var serveEnv = []string{
	"PUBDOC_ADDR", "PUBDOC_DATA_DIR", "PUBDOC_DATABASE_URL",
	"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PUBDOC_SLACK_API_URL",
	"GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY",
	"GITHUB_API_URL", "PUBDOC_NPM_REGISTRY_URL", "NPM_TOKEN",
	"PUBDOC_ROUTES", "PUBDOC_THREAD_WINDOW", "PUBDOC_LOG_LEVEL", "PUBDOC_API_TOKEN", "PUBDOC_ADMIN_ADDR",
}

// secretEnv are the variables that may also be given as NAME_FILE.
var secretEnv = []string{
	"PUBDOC_DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
	"GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY", "NPM_TOKEN", "PUBDOC_API_TOKEN",
}

func documentedEnv(name string) bool {
	if slices.Contains(serveEnv, name) {
		return true
	}
	base, ok := strings.CutSuffix(name, "_FILE")
	return ok && slices.Contains(secretEnv, base)
}

// The bot scopes and events of the Slack app, each explained in docs/slack.md. Adding one
// is a decision (every workspace admin reads the list): change docs/slack.md with it.
var (
	wantSlackScopes = []string{
		"app_mentions:read", "channels:history", "chat:write", "commands",
		"files:read", "files:write", "groups:history", "im:history", "mpim:history",
	}
	wantSlackEvents = []string{
		"app_mention", "message.channels", "message.groups", "message.im", "message.mpim",
	}
)

// slackManifest is the part of Slack's app manifest (v1) the files use; decoding is
// strict, so a misspelt key fails here instead of being dropped by Slack.
type slackManifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
		MinorVersion int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name            string `yaml:"name"`
		Description     string `yaml:"description"`
		BackgroundColor string `yaml:"background_color"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			HomeTabEnabled             bool `yaml:"home_tab_enabled"`
			MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		Shortcuts []struct {
			Name        string `yaml:"name"`
			Type        string `yaml:"type"`
			CallbackID  string `yaml:"callback_id"`
			Description string `yaml:"description"`
		} `yaml:"shortcuts"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			URL          string `yaml:"url"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape bool   `yaml:"should_escape"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled             bool   `yaml:"is_enabled"`
			RequestURL            string `yaml:"request_url"`
			MessageMenuOptionsURL string `yaml:"message_menu_options_url"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeStrict decodes one YAML document into v; unknown keys are errors.
func decodeStrict(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func loadSlackManifest(t *testing.T, name string) slackManifest {
	t.Helper()
	var m slackManifest
	decodeStrict(t, name, readFile(t, name), &m)
	if m.Metadata.MajorVersion != 1 {
		t.Errorf("%s: _metadata.major_version = %d, want 1", name, m.Metadata.MajorVersion)
	}
	if got := sorted(m.OAuthConfig.Scopes.Bot); !slices.Equal(got, wantSlackScopes) {
		t.Errorf("%s: bot scopes = %v, want exactly %v", name, got, wantSlackScopes)
	}
	if got := sorted(m.Settings.EventSubscriptions.BotEvents); !slices.Equal(got, wantSlackEvents) {
		t.Errorf("%s: bot events = %v, want exactly %v", name, got, wantSlackEvents)
	}
	// A message.X event is delivered only with the X:history scope.
	for _, ev := range m.Settings.EventSubscriptions.BotEvents {
		if kind, ok := strings.CutPrefix(ev, "message."); ok {
			if !slices.Contains(m.OAuthConfig.Scopes.Bot, kind+":history") {
				t.Errorf("%s: event %s needs the %s:history scope", name, ev, kind)
			}
		}
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/pubdoc" {
		t.Fatalf("%s: slash commands = %+v, want the one /pubdoc", name, m.Features.SlashCommands)
	}
	if len(m.Features.Shortcuts) != 1 || m.Features.Shortcuts[0].CallbackID != "pubdoc_diagnose" ||
		m.Features.Shortcuts[0].Type != "message" || m.Features.Shortcuts[0].Name != "Diagnose this log" {
		t.Fatalf("%s: shortcuts = %+v, want the message shortcut \"Diagnose this log\" (pubdoc_diagnose)", name, m.Features.Shortcuts)
	}
	if !m.Features.AppHome.MessagesTabEnabled || m.Features.AppHome.MessagesTabReadOnlyEnabled {
		t.Errorf("%s: people cannot DM the bot: the App Home messages tab must be enabled and writable", name)
	}
	if !m.Settings.Interactivity.IsEnabled {
		t.Errorf("%s: interactivity is off: no buttons, shortcut or modal", name)
	}
	if m.Settings.OrgDeployEnabled || m.Settings.TokenRotationEnabled {
		t.Errorf("%s: org deploy and token rotation must stay off (pubdoc uses one xoxb- token)", name)
	}
	if n := len(m.DisplayInformation.Description); n == 0 || n > 140 {
		t.Errorf("%s: display_information.description is %d characters; Slack wants 1–140", name, n)
	}
	return m
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSlackManifestHTTP(t *testing.T) {
	m := loadSlackManifest(t, "slack-app-manifest.yaml")
	if m.Settings.SocketModeEnabled {
		t.Error("socket_mode_enabled must be false in the HTTP manifest")
	}
	urls := map[string]struct{ got, want string }{
		"event_subscriptions.request_url":        {m.Settings.EventSubscriptions.RequestURL, "/slack/events"},
		"interactivity.request_url":              {m.Settings.Interactivity.RequestURL, "/slack/interactivity"},
		"interactivity.message_menu_options_url": {m.Settings.Interactivity.MessageMenuOptionsURL, "/slack/interactivity"},
		"slash_commands[/pubdoc].url":            {m.Features.SlashCommands[0].URL, "/slack/commands"},
	}
	for key, u := range urls {
		if !strings.HasPrefix(u.got, "https://") || !strings.HasSuffix(u.got, u.want) {
			t.Errorf("%s = %q, want https://…%s", key, u.got, u.want)
		}
	}
}

func TestSlackManifestSocketMode(t *testing.T) {
	m := loadSlackManifest(t, "slack-app-manifest.socket-mode.yaml")
	if !m.Settings.SocketModeEnabled {
		t.Error("socket_mode_enabled must be true in the Socket Mode manifest")
	}
	if m.Settings.EventSubscriptions.RequestURL != "" || m.Settings.Interactivity.RequestURL != "" ||
		m.Settings.Interactivity.MessageMenuOptionsURL != "" || m.Features.SlashCommands[0].URL != "" {
		t.Error("the Socket Mode manifest must name no request URL: Slack would call it instead of the socket")
	}
	// Everything but the transport is the same app.
	h := loadSlackManifest(t, "slack-app-manifest.yaml")
	if m.Features.SlashCommands[0].UsageHint != h.Features.SlashCommands[0].UsageHint ||
		m.Features.Shortcuts[0] != h.Features.Shortcuts[0] || m.DisplayInformation != h.DisplayInformation {
		t.Error("the two Slack manifests differ in more than the transport")
	}
}

// TestSlackDocsExplainEveryScope: docs/slack.md says why each scope and event is asked for.
func TestSlackDocsExplainEveryScope(t *testing.T) {
	doc := string(readFile(t, "../docs/slack.md"))
	for _, s := range append(slices.Clone(wantSlackScopes), wantSlackEvents...) {
		if !strings.Contains(doc, "`"+s+"`") {
			t.Errorf("docs/slack.md does not explain `%s`", s)
		}
	}
	for _, s := range []string{"connections:write", "xapp-", "xoxb-", "pubdoc_diagnose", "oidc-npm-too-old"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/slack.md does not mention %s", s)
		}
	}
}

func TestGitHubAppManifest(t *testing.T) {
	var m struct {
		Name           string `json:"name"`
		URL            string `json:"url"`
		Description    string `json:"description"`
		HookAttributes struct {
			URL    string `json:"url"`
			Active bool   `json:"active"`
		} `json:"hook_attributes"`
		RedirectURL        string            `json:"redirect_url"`
		Public             bool              `json:"public"`
		DefaultPermissions map[string]string `json:"default_permissions"`
		DefaultEvents      []string          `json:"default_events"`
	}
	dec := json.NewDecoder(bytes.NewReader(readFile(t, "github-app-manifest.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("github-app-manifest.json: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Error("github-app-manifest.json has data after its object")
	}
	wantPerms := map[string]string{"actions": "read", "contents": "read", "metadata": "read"}
	if len(m.DefaultPermissions) != len(wantPerms) {
		t.Errorf("default_permissions = %v, want exactly %v", m.DefaultPermissions, wantPerms)
	}
	for k, v := range wantPerms {
		if m.DefaultPermissions[k] != v {
			t.Errorf("default_permissions[%s] = %q, want %q", k, m.DefaultPermissions[k], v)
		}
	}
	if got := sorted(m.DefaultEvents); !slices.Equal(got, []string{"workflow_job", "workflow_run"}) {
		t.Errorf("default_events = %v, want workflow_run and workflow_job", got)
	}
	if !strings.HasPrefix(m.HookAttributes.URL, "https://") || !strings.HasSuffix(m.HookAttributes.URL, "/github/webhook") || !m.HookAttributes.Active {
		t.Errorf("hook_attributes = %+v, want an active https://…/github/webhook", m.HookAttributes)
	}
	if m.Public {
		t.Error("the App must not be public: anyone could install it and send Pubdoc their runs")
	}
	if m.Name == "" || len(m.Name) > 34 || m.URL == "" || m.RedirectURL == "" {
		t.Errorf("name (1–34 characters), url and redirect_url are required: %q %q %q", m.Name, m.URL, m.RedirectURL)
	}
}

// routesFile is the PUBDOC_ROUTES schema of ARCHITECTURE.md.
type routesFile struct {
	Routes []struct {
		Repos         []string `yaml:"repos"`
		Channel       string   `yaml:"channel"`
		AllowChannels []string `yaml:"allow_channels"`
	} `yaml:"routes"`
	DefaultChannel string `yaml:"default_channel"`
}

func checkRoutes(t *testing.T, name string, data []byte) {
	t.Helper()
	var r routesFile
	decodeStrict(t, name, data, &r)
	if len(r.Routes) == 0 {
		t.Errorf("%s: no routes", name)
	}
	channel := regexp.MustCompile(`^[CG][A-Z0-9]{8,}$`)
	for i, rt := range r.Routes {
		if len(rt.Repos) == 0 || !channel.MatchString(rt.Channel) {
			t.Errorf("%s: route %d needs repos and a channel ID, has %+v", name, i+1, rt)
		}
		for _, g := range rt.Repos {
			if _, err := path.Match(g, ""); err != nil || !strings.Contains(g, "/") {
				t.Errorf("%s: route %d: %q is not an owner/repo glob", name, i+1, g)
			}
		}
		for _, c := range rt.AllowChannels {
			if !channel.MatchString(c) {
				t.Errorf("%s: route %d: allow_channels holds %q, not a channel ID", name, i+1, c)
			}
		}
	}
	if r.DefaultChannel != "" && !channel.MatchString(r.DefaultChannel) {
		t.Errorf("%s: default_channel %q is not a channel ID", name, r.DefaultChannel)
	}
}

func TestRoutesExample(t *testing.T) {
	checkRoutes(t, "routes.example.yaml", readFile(t, "routes.example.yaml"))
}

// k8sObject is the part of a Kubernetes object the checks read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Ports    []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Image string `yaml:"image"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		EnvFrom []struct {
			SecretRef *struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
		} `yaml:"envFrom"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		StartupProbe   *probe `yaml:"startupProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string    `yaml:"name"`
		EmptyDir  *struct{} `yaml:"emptyDir"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// loadK8s decodes every document of a manifest file.
func loadK8s(t *testing.T, name string) []k8sObject {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, name)))
	var out []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: a document without apiVersion, kind or metadata.name", name)
		}
		out = append(out, o)
	}
}

func TestKubernetesManifestsParse(t *testing.T) {
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no k8s manifests: %v", err)
	}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		if len(loadK8s(t, f)) == 0 {
			t.Errorf("%s: no objects", f)
		}
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Namespace  string   `yaml:"namespace"`
		Resources  []string `yaml:"resources"`
		Images     []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
			NewTag  string `yaml:"newTag"`
		} `yaml:"images"`
	}
	decodeStrict(t, "k8s/kustomization.yaml", readFile(t, "k8s/kustomization.yaml"), &k)
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("k8s", r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
		if strings.Contains(r, "example") {
			t.Errorf("kustomization.yaml applies %s: its placeholders would overwrite the real objects", r)
		}
	}
	for _, want := range []string{"deployment.yaml", "service.yaml", "configmap-routes.yaml"} {
		if !slices.Contains(k.Resources, want) {
			t.Errorf("kustomization.yaml does not list %s", want)
		}
	}
}

func TestKubernetesDeployment(t *testing.T) {
	objs := loadK8s(t, "k8s/deployment.yaml")
	if len(objs) != 1 || objs[0].Kind != "Deployment" {
		t.Fatalf("k8s/deployment.yaml: want one Deployment, have %d objects", len(objs))
	}
	d := objs[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports = %+v, want 8080", c.Ports)
	}
	portOf := func(p any) int {
		switch p := p.(type) {
		case int:
			return p
		case string:
			for _, cp := range c.Ports {
				if cp.Name == p {
					return cp.ContainerPort
				}
			}
		}
		return 0
	}
	for _, pr := range []struct {
		name string
		p    *probe
		path string
	}{
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"startupProbe", c.StartupProbe, "/healthz"},
	} {
		if pr.p == nil {
			t.Errorf("no %s", pr.name)
			continue
		}
		if pr.p.HTTPGet.Path != pr.path || portOf(pr.p.HTTPGet.Port) != 8080 {
			t.Errorf("%s hits %s on %v, want %s on 8080", pr.name, pr.p.HTTPGet.Path, pr.p.HTTPGet.Port, pr.path)
		}
	}

	env := map[string]string{}
	for _, e := range c.Env {
		if !documentedEnv(e.Name) {
			t.Errorf("the deployment sets %s, which docs/deploy.md does not describe", e.Name)
		}
		env[e.Name] = e.Value
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "pubdoc-secrets" {
		t.Errorf("envFrom = %+v, want the secret pubdoc-secrets", c.EnvFrom)
	}

	mounts := map[string]string{} // mount path → volume
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]bool{} // name → is an emptyDir
	configMaps := map[string]string{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v.EmptyDir != nil
		if v.ConfigMap != nil {
			configMaps[v.Name] = v.ConfigMap.Name
		}
	}
	if !volumes[mounts["/data"]] || env["PUBDOC_DATA_DIR"] != "/data" {
		t.Error("PUBDOC_DATA_DIR must be /data, an emptyDir: the root file system is read-only")
	}
	routesDir, routesFile := path.Split(env["PUBDOC_ROUTES"])
	if cm := configMaps[mounts[path.Clean(routesDir)]]; cm != "pubdoc-routes" || routesFile != "routes.yaml" {
		t.Errorf("PUBDOC_ROUTES = %q is not the routes.yaml key of the pubdoc-routes ConfigMap", env["PUBDOC_ROUTES"])
	}
	cms := loadK8s(t, "k8s/configmap-routes.yaml")
	if len(cms) != 1 || cms[0].Metadata.Name != "pubdoc-routes" || cms[0].Data["routes.yaml"] == "" {
		t.Fatal("k8s/configmap-routes.yaml: want the ConfigMap pubdoc-routes with a routes.yaml key")
	}
	checkRoutes(t, "k8s/configmap-routes.yaml", []byte(cms[0].Data["routes.yaml"]))

	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser != 65532 {
		t.Error("the pod must run as non-root uid 65532 (the image's nonroot user)")
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Error("the container must have a read-only root file system and no privilege escalation")
	}
	// pubdoc drains for 25 s after SIGTERM (cmd/pubdoc/serve.go), then returns jobs to the queue.
	if pod.TerminationGracePeriodSeconds < 30 {
		t.Errorf("terminationGracePeriodSeconds = %d: too short for the drain", pod.TerminationGracePeriodSeconds)
	}
	if c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Error("the container needs memory requests and limits")
	}

	svcs := loadK8s(t, "k8s/service.yaml")
	if len(svcs) != 1 || len(svcs[0].Spec.Ports) != 1 || svcs[0].Spec.Ports[0].Port != 80 || portOf(svcs[0].Spec.Ports[0].TargetPort) != 8080 {
		t.Error("k8s/service.yaml: want port 80 to the container's 8080")
	}
	secrets := loadK8s(t, "k8s/secret.example.yaml")
	if len(secrets) != 1 || secrets[0].Metadata.Name != "pubdoc-secrets" {
		t.Fatal("k8s/secret.example.yaml: want the Secret pubdoc-secrets")
	}
	for k, v := range secrets[0].StringData {
		if !documentedEnv(k) {
			t.Errorf("secret.example.yaml sets %s, which docs/deploy.md does not describe", k)
		}
		if k != "GITHUB_APP_ID" && !strings.Contains(strings.ToUpper(v), "EXAMPLE") {
			t.Errorf("secret.example.yaml: %s must be an obvious placeholder (contain EXAMPLE)", k)
		}
	}
}

// dockerInstruction is one instruction of a Dockerfile, continuation lines joined.
type dockerInstruction struct{ cmd, args string }

func parseDockerfile(t *testing.T, name string) [][]dockerInstruction {
	t.Helper()
	var stages [][]dockerInstruction
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, name)))
	var cur string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur += l + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		cur = ""
		in := dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before the first FROM", name, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) != 2 {
		t.Fatalf("want two stages (build, runtime), have %d", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasPrefix(build[0].args, "golang:1.26") || !strings.Contains(build[0].args, "bookworm") || !strings.HasSuffix(build[0].args, " AS build") {
		t.Errorf("build stage: FROM %s, want golang:1.26-bookworm AS build", build[0].args)
	}
	const buildCmd = "CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/pubdoc ./cmd/pubdoc"
	if !slices.ContainsFunc(build, func(in dockerInstruction) bool { return in.cmd == "RUN" && strings.Contains(in.args, buildCmd) }) {
		t.Errorf("build stage does not RUN %s", buildCmd)
	}
	if final[0].args != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("runtime stage: FROM %s, want gcr.io/distroless/static-debian12:nonroot", final[0].args)
	}
	want := map[string]string{
		"ENTRYPOINT": `["/pubdoc"]`,
		"CMD":        `["serve"]`,
		"USER":       "65532:65532",
		"EXPOSE":     "8080",
		"WORKDIR":    "/data",
		"ENV":        "PUBDOC_DATA_DIR=/data PUBDOC_ADDR=:8080",
	}
	got := map[string]string{}
	for _, in := range final {
		got[in.cmd] = in.args
		if in.cmd == "RUN" {
			t.Error("the runtime stage cannot RUN: distroless has no shell")
		}
		if in.cmd == "COPY" && !strings.Contains(in.args, "--from=build") {
			t.Errorf("runtime COPY %s does not come from the build stage", in.args)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("runtime stage: %s %s, want %s %s", k, got[k], k, v)
		}
	}
	if !slices.Contains(final, dockerInstruction{"COPY", "--from=build --chown=65532:65532 /out/data /data"}) {
		t.Error("the runtime stage must create /data owned by nonroot (65532)")
	}
}

// TestDockerignoreKeepsSources: Dockerfile.dockerignore must not leave out anything the
// build reads: go.mod, go.sum, a Go file the go command would compile, or a file a
// //go:embed directive names.
func TestDockerignoreKeepsSources(t *testing.T) {
	var patterns []string
	for _, line := range strings.Split(string(readFile(t, "Dockerfile.dockerignore")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "!") {
				t.Fatalf("Dockerfile.dockerignore: the test does not handle exceptions (%s)", line)
			}
			patterns = append(patterns, path.Clean(line))
		}
	}
	excluded := func(rel string) string {
		parts := strings.Split(rel, "/")
		for _, p := range patterns {
			for i := 1; i <= len(parts); i++ { // a pattern that matches a directory leaves out its files
				if globSegments(strings.Split(p, "/"), parts[:i]) {
					return p
				}
			}
		}
		return ""
	}

	root := ".."
	need := []string{"go.mod", "go.sum"}
	embedRE := regexp.MustCompile(`(?m)^//go:embed\s+(.+)$`)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// The directories the go command skips, and nested modules.
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		need = append(need, filepath.ToSlash(rel))
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range embedRE.FindAllSubmatch(src, -1) {
			for _, pat := range strings.Fields(string(m[1])) {
				pat = strings.TrimPrefix(strings.Trim(pat, "\"`"), "all:")
				matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), pat))
				if len(matches) == 0 {
					t.Errorf("%s: //go:embed %s matches nothing", rel, pat)
				}
				for _, em := range matches {
					_ = filepath.WalkDir(em, func(ep string, ed fs.DirEntry, err error) error {
						if err == nil && !ed.IsDir() {
							r, _ := filepath.Rel(root, ep)
							need = append(need, filepath.ToSlash(r))
						}
						return err
					})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(need) < 10 {
		t.Fatalf("found only %d files the build needs: is the walk wrong?", len(need))
	}
	for _, f := range need {
		if p := excluded(f); p != "" {
			t.Errorf("Dockerfile.dockerignore pattern %q leaves out %s, which the build needs", p, f)
		}
	}
}

// globSegments matches a path, split at "/", against a .dockerignore pattern split the
// same way: each segment as path.Match does, "**" as any number of segments.
func globSegments(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if globSegments(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], name[0])
	return ok && globSegments(pat[1:], name[1:])
}

func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build *struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			EnvFile     any               `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []any             `yaml:"volumes"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Ports       []string `yaml:"ports"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			StopGracePeriod string `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	pg, ok := c.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:16") || pg.Healthcheck == nil || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Error("want a postgres:16 service with a pg_isready healthcheck")
	}
	app, ok := c.Services["pubdoc"]
	if !ok {
		t.Fatal("no pubdoc service")
	}
	if app.Build == nil || app.Build.Context != ".." || app.Build.Dockerfile != "deploy/Dockerfile" {
		t.Errorf("pubdoc build = %+v, want context .. and dockerfile deploy/Dockerfile", app.Build)
	}
	if app.DependsOn["postgres"].Condition != "service_healthy" {
		t.Error("pubdoc must wait for postgres to be healthy")
	}
	if app.Healthcheck != nil {
		t.Error("pubdoc cannot have a healthcheck: the distroless image has no shell or curl to run it")
	}
	// Published on loopback only: what is reachable from elsewhere is the operator's
	// decision (a TLS proxy in front), not the default.
	if !slices.Equal(app.Ports, []string{"127.0.0.1:8080:8080"}) {
		t.Errorf("pubdoc ports = %v, want only 127.0.0.1:8080:8080", app.Ports)
	}
	if app.EnvFile == nil {
		t.Error("pubdoc has no env_file")
	}
	for k := range app.Environment {
		if !documentedEnv(k) {
			t.Errorf("docker-compose.yml sets %s, which docs/deploy.md does not describe", k)
		}
	}
	if u := app.Environment["PUBDOC_DATABASE_URL"]; !strings.HasPrefix(u, "postgres://") || !strings.Contains(u, "@postgres:5432/") {
		t.Errorf("PUBDOC_DATABASE_URL = %q, want the postgres service", u)
	}
	if !strings.Contains(strings.ReplaceAll(string(readFile(t, "docker-compose.yml")), " ", ""), "target:"+app.Environment["PUBDOC_ROUTES"]) {
		t.Errorf("PUBDOC_ROUTES = %q is not where the routes file is mounted", app.Environment["PUBDOC_ROUTES"])
	}
	if app.StopGracePeriod == "" {
		t.Error("pubdoc needs a stop_grace_period longer than Docker's 10 s default for its drain")
	}
}

// TestEnvDocumented: every variable the env example names is a known one and described
// in docs/deploy.md, and every variable of pubdoc serve is in both.
func TestEnvDocumented(t *testing.T) {
	doc := string(readFile(t, "../docs/deploy.md"))
	var names []string
	nameRE := regexp.MustCompile(`^#?\s?([A-Z][A-Z0-9_]*)=`)
	for _, line := range strings.Split(string(readFile(t, "pubdoc.env.example")), "\n") {
		if m := nameRE.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	for _, n := range names {
		if !documentedEnv(n) {
			t.Errorf("pubdoc.env.example names %s, which pubdoc serve does not read", n)
		}
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("pubdoc.env.example names %s, which docs/deploy.md does not describe", n)
		}
	}
	for _, n := range serveEnv {
		if !slices.Contains(names, n) {
			t.Errorf("pubdoc.env.example lacks %s", n)
		}
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/deploy.md does not describe %s", n)
		}
	}
	for _, ep := range []string{"/slack/events", "/slack/commands", "/slack/interactivity", "/github/webhook", "/api/diagnose", "/healthz", "/readyz", "/metrics"} {
		if !strings.Contains(doc, ep) {
			t.Errorf("docs/deploy.md does not mention %s", ep)
		}
	}
}

// TestDocsLinks: the relative links of docs/slack.md and docs/deploy.md name files that
// exist and headings that exist (GitHub's anchors).
func TestDocsLinks(t *testing.T) {
	linkRE := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE := regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	anchors := func(file string) map[string]bool {
		out := map[string]bool{}
		for _, m := range headingRE.FindAllStringSubmatch(string(readFile(t, file)), -1) {
			var b strings.Builder
			for _, r := range strings.ToLower(m[1]) {
				switch {
				case r == ' ':
					b.WriteRune('-')
				case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
					b.WriteRune(r)
				}
			}
			out[b.String()] = true
		}
		return out
	}
	for _, doc := range []string{"../docs/slack.md", "../docs/deploy.md"} {
		for _, m := range linkRE.FindAllStringSubmatch(string(readFile(t, doc)), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			if file == "" {
				file = doc
			} else {
				file = filepath.Join(filepath.Dir(doc), file)
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, target)
				continue
			}
			if anchor != "" && !anchors(file)[anchor] {
				t.Errorf("%s links to %s: no such heading", doc, target)
			}
		}
	}
}
