package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/bot/registry"
	"github.com/pubdoc/pubdoc/bot/slackbot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/config"
	"github.com/pubdoc/pubdoc/internal/metrics"
	"github.com/pubdoc/pubdoc/internal/secret"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/store"
)

// drainTimeout is how long SIGTERM waits for in-flight jobs before sending them back to
// the queue; Kubernetes' default grace period is 30 s.
const drainTimeout = 25 * time.Second

// serveConfig is pubdoc serve's share of the configuration (internal/config), in the
// adapters' own types.
type serveConfig struct {
	addr string
	// adminAddr, when set, is a second listener for /metrics and /api/diagnose, which
	// the public one then does not serve.
	adminAddr     string
	store         store.Config
	routes        string
	window        time.Duration
	webhookSecret secret.Secret
	// apiToken guards /api/diagnose; empty turns it off.
	apiToken secret.Secret
	slack    slackbot.Config
	github   gha.Config
	// registryURL is where the public npm registry is reached; look-ups are always on.
	registryURL string
	npmToken    secret.Secret
}

func serveConfigFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (serveConfig, error) {
	c, err := config.FromEnv(getenv, readFile)
	if err != nil {
		return serveConfig{}, err
	}
	return serveConfig{
		addr: c.Addr, adminAddr: c.AdminAddr, routes: c.Routes, window: c.ThreadWindow,
		store:         store.Config{DataDir: c.DataDir, DatabaseURL: string(c.DatabaseURL)},
		webhookSecret: c.GitHubWebhookSecret, apiToken: c.APIToken,
		slack: slackbot.Config{
			BotToken: c.SlackBotToken, SigningSecret: c.SlackSigningSecret, AppToken: c.SlackAppToken,
			APIURL: c.SlackAPIURL, MaxFileBytes: slackbot.DefaultMaxFileBytes,
		},
		github:      githubConfig(c),
		registryURL: c.NPMRegistryURL, npmToken: c.NPMToken,
	}, nil
}

// cmdServe runs the bot until SIGTERM or SIGINT.
func cmdServe(args []string) error {
	if len(args) > 0 {
		return usagef("serve takes no arguments; it is configured by environment (see docs/deploy.md)")
	}
	c, err := config.FromEnv(os.Getenv, os.ReadFile)
	if err != nil {
		return usagef("%v", err)
	}
	logger := serveLogger(c.Level(slog.LevelInfo))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, os.Getenv, os.ReadFile, logger, nil)
}

// serve wires the bot from the environment and runs it until ctx ends. ready, when not
// nil, receives the listening address (tests).
func serve(ctx context.Context, getenv func(string) string, readFile func(string) ([]byte, error), logger *slog.Logger, ready chan<- string) error {
	cfg, err := serveConfigFromEnv(getenv, readFile)
	if err != nil {
		return usagef("%v", err)
	}
	slackCfg := cfg.slack
	if slackCfg.BotToken == "" {
		return usagef("serve needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode); see docs/slack.md")
	}
	if slackCfg.SigningSecret == "" && slackCfg.AppToken == "" {
		return usagef("serve needs SLACK_SIGNING_SECRET for Slack's HTTP requests, or SLACK_APP_TOKEN for Socket Mode; see docs/slack.md")
	}
	routes, err := bot.LoadRoutes(cfg.routes)
	if err != nil {
		return usagef("PUBDOC_ROUTES: %v", err)
	}
	kb, err := knowledge.Load()
	if err != nil {
		return fmt.Errorf("knowledge base: %w", err)
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{Eager: true})
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	slack, err := slackbot.New(slackCfg, logger)
	if err != nil {
		return usagef("%v", err)
	}
	if err := checkSlackToken(ctx, slack, logger); err != nil {
		return err
	}
	gh, err := githubFromConfig(cfg.github, logger)
	if err != nil {
		return usagef("%v", err)
	}
	// Registry look-ups are on by default, against the public registry.
	reg := registry.New(cfg.registryURL, cfg.npmToken, nil, logger)
	m := metrics.New()

	st, err := store.Open(ctx, cfg.store, logger)
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	defer func() { _ = st.Close() }() // after Stop: nothing left to flush

	var fetcher bot.GitHub
	if gh != nil {
		fetcher = gh
	}
	svc, err := bot.New(bot.Config{
		Engine: eng, Store: st, Messenger: slack, GitHub: fetcher, Routes: routes, Metrics: m,
		Registry: reg.ForBot(), ThreadWindow: cfg.window, MaxFileBytes: slackCfg.MaxFileBytes,
	}, logger)
	if err != nil {
		return err
	}

	servers, listeners, err := listen(cfg, serveMuxes(cfg, svc, slack, st, m))
	if err != nil {
		return err
	}
	ln := listeners[0]

	if err := st.Start(ctx, svc.Handle); err != nil {
		return fmt.Errorf("starting the workers: %w", err)
	}
	go reportJobs(ctx, st, m)
	go reportFeedback(ctx, st, m)
	if err := startDigests(ctx, routes, st, slack, kb, fetcher, logger); err != nil {
		return err
	}
	if slackCfg.AppToken != "" {
		go func() {
			if err := slack.RunSocketMode(ctx, svc); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("Socket Mode stopped", "err", err)
			}
		}()
	}
	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { serveErr <- srv.Serve(listeners[i]) }()
	}
	adminAt := ""
	if len(listeners) > 1 {
		adminAt = listeners[1].Addr().String()
	}
	logger.Info("pubdoc serve listening", "addr", ln.Addr().String(), "admin_addr", adminAt, "store", st.Driver(),
		"slack_http", slackCfg.SigningSecret != "", "socket_mode", slackCfg.AppToken != "",
		"github_webhook", cfg.webhookSecret != "", "github_api", gh != nil, "api", cfg.apiToken != "",
		"routes", len(routes.Routes), "npm_registry", cfg.registryURL, "npm_token", cfg.npmToken != "")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new requests; in-flight jobs finish or go back to the queue")
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(sctx); serr != nil {
			logger.Warn("HTTP shutdown", "err", serr)
		}
	}
	if serr := st.Stop(sctx); serr != nil {
		logger.Warn("stopping the workers", "err", serr)
	}
	logger.Info("stopped")
	return err
}

// muxes are serve's handlers: the public one and, with PUBDOC_ADMIN_ADDR, the admin one
// (/metrics and the API); without it admin is public.
type muxes struct{ public, admin *http.ServeMux }

// serveMuxes routes Slack, the GitHub webhook, the probes, the API and /metrics.
func serveMuxes(cfg serveConfig, svc *bot.Service, slack *slackbot.Client, st *store.Store, m *metrics.Metrics) muxes {
	mux := http.NewServeMux()
	if cfg.slack.SigningSecret != "" {
		slack.Routes(mux, svc)
	}
	if cfg.webhookSecret != "" {
		mux.Handle("POST /github/webhook", svc.WebhookHandler(gha.Webhook{Secret: cfg.webhookSecret}))
	} else {
		mux.HandleFunc("POST /github/webhook", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the GitHub webhook is off: set GITHUB_WEBHOOK_SECRET", http.StatusNotFound)
		})
	}
	probes(mux, st, slack.SocketModeReady)
	// /metrics and the API go on the admin listener when there is one, else here.
	admin := mux
	if cfg.adminAddr != "" {
		admin = http.NewServeMux()
		probes(admin, st, slack.SocketModeReady)
	}
	// Any method: the handler answers a GET with a JSON 405, where the mux would answer text.
	admin.Handle("/api/diagnose", svc.APIHandler(bot.APIConfig{Token: cfg.apiToken}))
	admin.Handle("GET /metrics", m.Handler())
	return muxes{public: mux, admin: admin}
}

// listen opens the public listener and, with PUBDOC_ADMIN_ADDR, the admin one, each with
// its server; the public one is first.
func listen(cfg serveConfig, mx muxes) ([]*http.Server, []net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	servers := []*http.Server{newHTTPServer(mx.public)}
	listeners := []net.Listener{ln}
	if cfg.adminAddr != "" {
		aln, err := net.Listen("tcp", cfg.adminAddr)
		if err != nil {
			_ = ln.Close()
			return nil, nil, fmt.Errorf("listening on %s (PUBDOC_ADMIN_ADDR): %w", cfg.adminAddr, err)
		}
		servers = append(servers, newHTTPServer(mx.admin))
		listeners = append(listeners, aln)
	}
	return servers, listeners, nil
}

// newHTTPServer serves h with timeouts that bound what a slow client can hold.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
}

// probes adds GET /healthz (the process answers) and GET /readyz (the store answers,
// and every check passes: Socket Mode connected, when it is used).
func probes(mux *http.ServeMux, st *store.Store, checks ...func() error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(pctx); err != nil {
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		for _, check := range checks {
			if err := check(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
}

// checkSlackToken calls auth.test with the bot token before anything starts: a token
// Slack refuses stops the start with one line naming SLACK_BOT_TOKEN (exit 1); a Slack
// that cannot be reached is only logged, and the first post will tell.
func checkSlackToken(ctx context.Context, slack *slackbot.Client, logger *slog.Logger) error {
	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	team, user, err := slack.CheckToken(actx)
	var pe bot.PermanentError
	switch {
	case errors.As(err, &pe) && pe.Permanent():
		return err
	case err != nil:
		logger.Warn("could not check SLACK_BOT_TOKEN at start; going on", "err", err.Error())
		return nil
	}
	logger.Info("SLACK_BOT_TOKEN checked", "team", team, "bot_user", user)
	return nil
}

// serveLogger logs JSON lines on stderr at level (info unless PUBDOC_LOG_LEVEL says
// otherwise): a server's log is read by machines.
func serveLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// githubFromConfig builds the GitHub client, or nil when no credentials are set.
func githubFromConfig(cfg gha.Config, logger *slog.Logger) (*gha.Client, error) {
	gh, err := gha.New(cfg, logger)
	if errors.Is(err, gha.ErrNoCredentials) {
		logger.Warn("no GitHub credentials: run URLs and webhooks cannot be read (set GITHUB_TOKEN or a GitHub App)")
		return nil, nil
	}
	return gh, err
}

// reportJobs keeps the jobs-by-state gauge current.
func reportJobs(ctx context.Context, st *store.Store, m *metrics.Metrics) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		if counts, err := st.JobCounts(ctx); err == nil {
			m.SetJobCounts(counts)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
