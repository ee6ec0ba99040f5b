package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/dicomweb/dicomwebhttp"
	"github.com/ern-cpms/cpms/fhir/fhirhttp"
	"github.com/ern-cpms/cpms/internal/auth/oidc"
	"github.com/ern-cpms/cpms/viewer"
)

type serveFlags struct {
	addr            *string
	demo            *bool
	tlsCert, tlsKey *string
	logLevel        *string
	logFormat       *string
	oidcIssuer      *string
	oidcClientID    *string
	oidcSecret      *string
	oidcRedirect    *string
	oidcLabel       *string
	publicURL       *string
	debugAddr       *string
	storage         *storageFlags
}

func serve(c *cli, args []string) error {
	f := newFlags(c, "serve", "serve [--addr 127.0.0.1:8080] [--data ./cpms-data] [--demo] [--tls-cert F --tls-key F] [flags]")
	sf := &serveFlags{
		addr:         f.str("addr", "CPMS_ADDR", "127.0.0.1:8080", "address to listen on, host:port"),
		demo:         f.boolean("demo", "CPMS_DEMO", false, "load the demo network on first start and allow its password-only sign-in"),
		tlsCert:      f.str("tls-cert", "CPMS_TLS_CERT", "", "PEM certificate (chain) for HTTPS; see 'cpms cert dev'"),
		tlsKey:       f.str("tls-key", "CPMS_TLS_KEY", "", "PEM private key for HTTPS"),
		logLevel:     f.str("log-level", "CPMS_LOG_LEVEL", "info", "debug, info, warn or error"),
		logFormat:    f.str("log-format", "CPMS_LOG_FORMAT", "json", "json or text"),
		oidcIssuer:   f.str("oidc-issuer", "CPMS_OIDC_ISSUER", "", "OpenID Connect issuer URL of the identity provider (enables its sign-in)"),
		oidcClientID: f.str("oidc-client-id", "CPMS_OIDC_CLIENT_ID", "", "client ID registered at the identity provider"),
		oidcSecret:   f.str("oidc-client-secret", "CPMS_OIDC_CLIENT_SECRET", "", "client secret registered at the identity provider"),
		oidcRedirect: f.str("oidc-redirect-url", "CPMS_OIDC_REDIRECT_URL", "", "redirect URL registered at the identity provider (default: public URL + /api/auth/oidc/callback)"),
		oidcLabel:    f.str("oidc-label", "CPMS_OIDC_LABEL", "identity provider", "name of the identity provider on the login page"),
		publicURL:    f.str("public-url", "CPMS_PUBLIC_URL", "", "URL users reach the server at (default: from --addr)"),
		debugAddr:    f.str("debug-addr", "CPMS_DEBUG_ADDR", "", "address of a separate listener for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off by default, never expose it"),
		storage:      addStorageFlags(f),
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(f.Args(), " "))
	}
	if err := sf.validate(); err != nil {
		return err
	}
	log, err := newLogger(c.stderr, *sf.logLevel, *sf.logFormat)
	if err != nil {
		return err
	}
	return runServer(c.ctx, sf, log, c.stdout)
}

func (sf *serveFlags) validate() error {
	var problems []string
	if _, port, err := net.SplitHostPort(*sf.addr); err != nil || port == "" {
		problems = append(problems, fmt.Sprintf("--addr (CPMS_ADDR) %q is not host:port", *sf.addr))
	}
	if (*sf.tlsCert == "") != (*sf.tlsKey == "") {
		problems = append(problems, "--tls-cert and --tls-key (CPMS_TLS_CERT, CPMS_TLS_KEY) go together")
	}
	oidc := []string{*sf.oidcIssuer, *sf.oidcClientID, *sf.oidcSecret}
	set := 0
	for _, v := range oidc {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != len(oidc) {
		problems = append(problems, "OpenID Connect needs --oidc-issuer, --oidc-client-id and --oidc-client-secret together")
	}
	if err := sf.storage.validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return usageError{strings.Join(problems, "; ")}
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level (CPMS_LOG_LEVEL) %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usagef("--log-format (CPMS_LOG_FORMAT) %q: want json or text", format)
}

func runServer(ctx context.Context, sf *serveFlags, log *slog.Logger, stdout io.Writer) error {
	b, err := sf.storage.open(ctx, backendOptions{log: log, demo: *sf.demo})
	if err != nil {
		return describe(err)
	}
	defer b.Close()
	if *sf.demo {
		n, err := b.svc.SeedDemo(ctx, operator())
		if err != nil {
			return fmt.Errorf("loading the demo network: %w", describe(err))
		}
		images, err := b.seedDemoImages(ctx)
		if err != nil {
			return fmt.Errorf("loading the demo images: %w", describe(err))
		}
		log.Info("demo network ready", "users_created", n, "images_stored", images)
	}
	secure := *sf.tlsCert != ""
	scheme := "http"
	if secure {
		scheme = "https"
	}
	public := strings.TrimRight(*sf.publicURL, "/")
	if public == "" {
		public = scheme + "://" + *sf.addr
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := cpmshttp.NewMetrics(reg)

	authn := &cpmshttp.Authenticator{Service: b.svc, Log: log, Secure: secure}
	var oidcLogin *cpmshttp.OIDCLogin
	if *sf.oidcIssuer != "" {
		redirect := *sf.oidcRedirect
		if redirect == "" {
			redirect = public + "/api/auth/oidc/callback"
		}
		client, err := oidc.New(ctx, oidc.Config{Issuer: *sf.oidcIssuer, ClientID: *sf.oidcClientID,
			ClientSecret: *sf.oidcSecret, RedirectURL: redirect})
		if err != nil {
			return fmt.Errorf("OpenID Connect provider %s: %w (%s)", *sf.oidcIssuer, err, oidc.Detail(err))
		}
		oidcLogin = &cpmshttp.OIDCLogin{Client: client, Label: *sf.oidcLabel}
	}
	api, err := cpmshttp.New(cpmshttp.Config{Service: b.svc, Auth: authn, Logger: log, OIDC: oidcLogin})
	if err != nil {
		return err
	}
	fhirAPI, err := fhirhttp.New(fhirhttp.Config{Service: b.svc, Logger: log, BaseURL: public + fhirhttp.Prefix, Version: buildVersion()})
	if err != nil {
		return err
	}
	dicomAPI, err := dicomwebhttp.New(dicomwebhttp.Config{Store: b.images, Logger: log, BaseURL: public})
	if err != nil {
		return err
	}
	authn.Errors = map[string]func(http.ResponseWriter, *http.Request, error){fhirhttp.Prefix: fhirhttp.WriteOutcome,
		dicomwebhttp.Prefix: dicomwebhttp.WriteError}
	ui, err := viewer.New(viewer.Config{Logger: log, ProductName: "CPMS", Version: buildVersion()})
	if err != nil {
		return err
	}

	app := http.NewServeMux()
	app.Handle("/api/", withTimeout(30*time.Second, api))
	app.Handle("/fhir", withTimeout(30*time.Second, fhirAPI))
	app.Handle("/fhir/", withTimeout(30*time.Second, fhirAPI))
	app.Handle("/dicomweb/", dicomAPI) // no overall timeout: studies are large; reads and writes stream
	app.Handle("/", ui)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	root.HandleFunc("GET /readyz", readyz(b))
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	root.Handle("/", authn.Wrap(app))

	srv := &http.Server{
		Handler:           cpmshttp.Observe(log, metrics, cpmshttp.SecurityHeaders(secure, root)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if secure {
		cert, err := tls.LoadX509KeyPair(*sf.tlsCert, *sf.tlsKey)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", *sf.addr)
	if err != nil {
		return err
	}
	go sweepSessions(ctx, b.svc, log)
	if *sf.debugAddr != "" {
		if err := serveDebug(ctx, *sf.debugAddr, log); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, "CPMS is serving at %s\n", public)
	if *sf.demo {
		fmt.Fprintf(stdout, "Demo logins (password %q): %s\n", cpms.DemoPassword, strings.Join(demoUsernames(), ", "))
	}
	log.Info("serving", "addr", ln.Addr().String(), "tls", secure, "database", b.db.Where, "demo", *sf.demo)

	errc := make(chan error, 1)
	go func() {
		if secure {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func demoUsernames() []string {
	_, _, users := cpms.DemoNetwork()
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Username
	}
	return out
}

// withTimeout bounds the time an API request may take.
func withTimeout(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func readyz(b *backend) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok", "blobs": "ok"}
		status := http.StatusOK
		if err := b.svc.Ping(ctx); err != nil {
			checks["database"], status = "unreachable", http.StatusServiceUnavailable
		}
		if err := b.blobs.Ping(ctx); err != nil {
			checks["blobs"], status = "unreachable", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(checks)
	}
}

func sweepSessions(ctx context.Context, svc *cpms.Service, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := svc.SweepSessions(ctx); err != nil {
				log.Warn("sweeping sessions", "err", err)
			} else if n > 0 {
				log.Info("swept ended sessions", "count", n)
			}
		}
	}
}

// serveDebug serves Go's profiler on its own listener, apart from the product's port, until ctx
// ends.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug listener", "err", err)
		}
	}()
	log.Info("profiler listening", "addr", ln.Addr().String())
	return nil
}
