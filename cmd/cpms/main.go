// Command cpms is the CPMS gateway: one binary that serves the web application and the
// standards surfaces, and the commands that administer its data (migrate, demo, user, token,
// audit, cert). Every flag has an environment variable; all wiring of the product happens here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env reads the environment; tests pass their own.
type env func(string) string

// cli is what every command gets.
type cli struct {
	ctx    context.Context
	getenv env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", serve},
		{"migrate", "create or upgrade the database schema", migrate},
		{"demo", "load the demo network (idempotent)", demo},
		{"user", "manage users: add, list, grant, disable, enable, reset-password", userCmd},
		{"token", "manage bearer tokens: create, list, revoke", tokenCmd},
		{"audit", "check the audit trail: verify", auditCmd},
		{"cert", "write a self-signed certificate for local HTTPS: dev", certCmd},
		{"version", "print the version", version},
	}
}

// errUsage marks errors whose message is a usage problem (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mainUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(c, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "cpms %s: %v\n", cmd.name, err)
			return 2
		}
		fmt.Fprintf(stderr, "cpms %s: %v\n", cmd.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "cpms: unknown command %q\n\n", args[0])
	mainUsage(stderr)
	return 2
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: cpms <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'cpms <command> --help' for its flags. Every flag can also be set with the environment variable shown there.")
}

// flags is a flag set whose defaults come from environment variables, named in the help.
type flags struct {
	*flag.FlagSet
	getenv env
	envs   map[string]string // flag name → environment variable
	errs   []string
}

func newFlags(c *cli, name, usage string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f := &flags{FlagSet: fs, getenv: c.getenv, envs: map[string]string{}}
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "usage: cpms %s\n\n", usage)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr)
	}
	return f
}

func (f *flags) envName(name, envVar string, usage string) string {
	if envVar == "" {
		return usage
	}
	f.envs[name] = envVar
	return usage + " (env " + envVar + ")"
}

func (f *flags) str(name, envVar, def, usage string) *string {
	if v := f.getenv(envVar); envVar != "" && v != "" {
		def = v
	}
	return f.String(name, def, f.envName(name, envVar, usage))
}

func (f *flags) boolean(name, envVar string, def bool, usage string) *bool {
	if v := f.getenv(envVar); envVar != "" && v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			def = true
		case "0", "false", "no", "off":
			def = false
		default:
			f.errs = append(f.errs, fmt.Sprintf("%s=%q is not a boolean", envVar, v))
		}
	}
	return f.Bool(name, def, f.envName(name, envVar, usage))
}

// parse parses args and reports environment values that did not parse.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if len(f.errs) > 0 {
		sort.Strings(f.errs)
		return usageError{strings.Join(f.errs, "; ")}
	}
	return nil
}

func version(c *cli, args []string) error {
	f := newFlags(c, "version", "version")
	if err := f.parse(args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "cpms", buildVersion())
	return nil
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v + " " + bi.GoVersion
}
