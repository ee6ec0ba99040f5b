package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// quietLog is the logger of administrative commands: warnings and errors only.
func quietLog(c *cli) *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openFor(c *cli, sf *storageFlags) (*backend, error) {
	b, err := sf.open(c.ctx, backendOptions{log: quietLog(c)})
	if err != nil {
		return nil, describe(err)
	}
	return b, nil
}

// adminCommand is the shape of every administrative command: flags (with the storage flags)
// that define declares, positional arguments (nargs of them; -1 for any), the check that define
// may return (run before anything is opened), the backend opened on the data, then fn.
func adminCommand(c *cli, args []string, name, usage string, nargs int, define func(f *flags) (check func() error), fn func(b *backend, f *flags) error) error {
	f := newFlags(c, name, usage)
	sf := addStorageFlags(f)
	var check func() error
	if define != nil {
		check = define(f)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	switch {
	case nargs == 0 && f.NArg() > 0:
		return usagef("unexpected arguments: %s", strings.Join(f.Args(), " "))
	case nargs > 0 && f.NArg() != nargs:
		return usagef("usage: cpms %s", usage)
	}
	b, err := openFor(c, sf)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(b, f)
}

func migrate(c *cli, args []string) error {
	return adminCommand(c, args, "migrate", "migrate [--data DIR | --database-url URL]", 0, nil, func(b *backend, f *flags) error {
		v, err := b.db.Version(c.ctx, "cpms")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "database %s is at schema version %d\n", b.db.Where, v)
		return nil
	})
}

func demo(c *cli, args []string) error {
	return adminCommand(c, args, "demo", "demo [--data DIR]", 0, nil, func(b *backend, f *flags) error {
		n, err := b.svc.SeedDemo(c.ctx, operator())
		if err != nil {
			return describe(err)
		}
		images, err := b.seedDemoImages(c.ctx)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "demo network loaded (%d users created, %d images stored); password %q\n", n, images, cpms.DemoPassword)
		return nil
	})
}

func subcommand(c *cli, name string, args []string, subs map[string]func(*cli, []string) error, usage string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(c.stdout, "usage: cpms %s %s\n", name, usage)
		if len(args) == 0 {
			return usagef("give a subcommand")
		}
		return nil
	}
	fn, ok := subs[args[0]]
	if !ok {
		return usagef("unknown subcommand %q; usage: cpms %s %s", args[0], name, usage)
	}
	return fn(c, args[1:])
}

func userCmd(c *cli, args []string) error {
	return subcommand(c, "user", args, map[string]func(*cli, []string) error{
		"add": userAdd, "list": userList, "grant": userGrant, "disable": userDisable(true), "enable": userDisable(false),
		"reset-password": userResetPassword,
	}, "add|list|grant|disable|enable|reset-password [flags] (each takes --help)")
}

// roleFlags parse one role grant.
type roleFlags struct{ role, ern, centre, expires *string }

func addRoleFlags(f *flags) *roleFlags {
	return &roleFlags{
		role:    f.String("role", "", "role: "+rolesList()),
		ern:     f.String("ern", "", "ERN code, e.g. EuroBloodNet"),
		centre:  f.String("centre", "", "centre code, e.g. BE10 (for HP, Assistant and Guest)"),
		expires: f.String("expires", "", "end of the grant, YYYY-MM-DD (required for Guest)"),
	}
}

func rolesList() string {
	var s []string
	for _, r := range cpms.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func (rf *roleFlags) grant() (*cpms.RoleGrant, error) {
	if *rf.role == "" {
		return nil, nil
	}
	g := &cpms.RoleGrant{Role: cpms.Role(*rf.role), ERN: *rf.ern, Centre: *rf.centre}
	if *rf.expires != "" {
		t, err := time.Parse("2006-01-02", *rf.expires)
		if err != nil {
			return nil, usagef("--expires %q: want YYYY-MM-DD", *rf.expires)
		}
		g.ExpiresAt = &t
	}
	return g, nil
}

func userAdd(c *cli, args []string) error {
	var (
		username, display, email *string
		pwStdin                  *bool
		rf                       *roleFlags
	)
	define := func(f *flags) func() error {
		username = f.String("username", "", "login name (lower case)")
		display = f.String("display-name", "", "name shown to others")
		email = f.String("email", "", "e-mail address for notifications")
		pwStdin = f.Bool("password-stdin", false, "read the password from standard input instead of generating a temporary one")
		rf = addRoleFlags(f)
		return nil
	}
	usage := "user add --username NAME --display-name \"Full Name\" [--email E] [--role R --ern E --centre C] [--password-stdin]"
	return adminCommand(c, args, "user add", usage, 0, define, func(b *backend, f *flags) error {
		nu := cpms.NewUser{Username: *username, DisplayName: *display, Email: *email}
		g, err := rf.grant()
		if err != nil {
			return err
		}
		if g != nil {
			nu.Roles = append(nu.Roles, *g)
		}
		if *pwStdin {
			line, err := bufio.NewReader(c.stdin).ReadString('\n')
			if err != nil && err != io.EOF {
				return err
			}
			nu.Password = strings.TrimRight(line, "\r\n")
			if nu.Password == "" {
				return usagef("no password on standard input")
			}
		}
		u, temp, err := b.svc.CreateUser(c.ctx, operator(), nu, cpms.RequestInfo{Source: "cli"})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "created user %s (%s)\n", u.Username, u.ID)
		if temp != "" {
			fmt.Fprintf(c.stdout, "temporary password (to be changed at first sign-in):\n%s\n", temp)
		}
		return nil
	})
}

func userList(c *cli, args []string) error {
	var ern, centre, q *string
	define := func(f *flags) func() error {
		ern = f.String("ern", "", "only users with a role in this ERN")
		centre = f.String("centre", "", "only users with a role at this centre")
		q = f.String("query", "", "part of the username or name")
		return nil
	}
	return adminCommand(c, args, "user list", "user list [--ern E] [--centre C] [--query Q]", 0, define, func(b *backend, f *flags) error {
		us, err := b.svc.Users(c.ctx, operator(), cpms.UserFilter{ERN: *ern, Centre: *centre, Query: *q})
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tSTATUS\tTOTP\tROLES")
		now := b.svc.Now()
		for _, u := range us {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			var roles []string
			for _, g := range u.Roles {
				r := string(g.Role) + " " + g.ERN
				if g.Centre != "" {
					r += "/" + g.Centre
				}
				if !g.Active(now) {
					r += " (expired)"
				}
				roles = append(roles, r)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", u.Username, u.DisplayName, status, u.TOTPEnabled, strings.Join(roles, ", "))
		}
		return tw.Flush()
	})
}

func userGrant(c *cli, args []string) error {
	var (
		username *string
		rf       *roleFlags
	)
	define := func(f *flags) func() error {
		username = f.String("username", "", "the user")
		rf = addRoleFlags(f)
		return func() error {
			if *rf.role == "" || *username == "" {
				return usagef("--username and --role are required")
			}
			return nil
		}
	}
	usage := "user grant --username NAME --role R [--ern E] [--centre C] [--expires YYYY-MM-DD]"
	return adminCommand(c, args, "user grant", usage, 0, define, func(b *backend, f *flags) error {
		g, err := rf.grant()
		if err != nil {
			return err
		}
		u, err := b.svc.UserByUsername(c.ctx, *username)
		if err != nil {
			return describe(err)
		}
		if _, err := b.svc.GrantRole(c.ctx, operator(), u.ID, *g, cpms.RequestInfo{Source: "cli"}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "granted %s to %s\n", g.Role, u.Username)
		return nil
	})
}

func userDisable(disable bool) func(*cli, []string) error {
	verb := "enable"
	if disable {
		verb = "disable"
	}
	return func(c *cli, args []string) error {
		return adminCommand(c, args, "user "+verb, "user "+verb+" USERNAME", 1, nil, func(b *backend, f *flags) error {
			u, err := b.svc.UserByUsername(c.ctx, f.Arg(0))
			if err != nil {
				return describe(err)
			}
			if err := b.svc.SetDisabled(c.ctx, operator(), u.ID, disable, cpms.RequestInfo{Source: "cli"}); err != nil {
				return describe(err)
			}
			fmt.Fprintf(c.stdout, "%sd %s\n", verb, u.Username)
			return nil
		})
	}
}

func userResetPassword(c *cli, args []string) error {
	return adminCommand(c, args, "user reset-password", "user reset-password USERNAME", 1, nil, func(b *backend, f *flags) error {
		u, err := b.svc.UserByUsername(c.ctx, f.Arg(0))
		if err != nil {
			return describe(err)
		}
		temp, err := b.svc.ResetPassword(c.ctx, operator(), u.ID, cpms.RequestInfo{Source: "cli"})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "temporary password for %s (to be changed at next sign-in):\n%s\n", u.Username, temp)
		return nil
	})
}

func tokenCmd(c *cli, args []string) error {
	return subcommand(c, "token", args, map[string]func(*cli, []string) error{
		"create": tokenCreate, "list": tokenList, "revoke": tokenRevoke,
	}, "create|list|revoke [flags] (each takes --help)")
}

func tokenCreate(c *cli, args []string) error {
	var (
		username, centre, system, name *string
		ttl                            *time.Duration
	)
	define := func(f *flags) func() error {
		username = f.String("user", "", "a personal access token acting as this user")
		centre = f.String("centre", "", "a system token for this centre…")
		system = f.String("system", "", "…and this system: pacs (DICOMweb) or his (XDS and FHIR)")
		name = f.String("name", "", "what the token is for")
		ttl = f.Duration("ttl", 0, "lifetime (0: until revoked)")
		return func() error {
			if (*username == "") == (*centre == "") {
				return usagef("give either --user or --centre with --system")
			}
			if *centre != "" && *system == "" {
				return usagef("--centre needs --system pacs or his")
			}
			return nil
		}
	}
	usage := "token create (--user NAME | --centre CODE --system pacs|his) [--name N] [--ttl 8760h]"
	return adminCommand(c, args, "token create", usage, 0, define, func(b *backend, f *flags) error {
		plain, t, err := b.svc.CreateToken(c.ctx, operator(), cpms.NewToken{Username: *username, Centre: *centre,
			System: cpms.System(*system), Name: *name, TTL: *ttl}, cpms.RequestInfo{Source: "cli"})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "token %s (%s) created; it is shown once:\n%s\n", t.ID, t.Name, plain)
		return nil
	})
}

func tokenList(c *cli, args []string) error {
	var username, centre *string
	define := func(f *flags) func() error {
		username = f.String("user", "", "only this user's tokens")
		centre = f.String("centre", "", "only this centre's system tokens")
		return nil
	}
	return adminCommand(c, args, "token list", "token list [--user NAME | --centre CODE]", 0, define, func(b *backend, f *flags) error {
		filter := cpms.TokenFilter{Centre: *centre}
		if *username != "" {
			u, err := b.svc.UserByUsername(c.ctx, *username)
			if err != nil {
				return describe(err)
			}
			filter.UserID = u.ID
		}
		ts, err := b.svc.Tokens(c.ctx, operator(), filter)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tFOR\tCREATED\tSTATUS")
		now := b.svc.Now()
		for _, t := range ts {
			owner := "user " + t.UserID
			if t.Centre != "" {
				owner = t.Centre + " " + string(t.System)
			}
			status := "active"
			switch {
			case t.RevokedAt != nil:
				status = "revoked"
			case !t.Usable(now):
				status = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, owner, t.CreatedAt.Format("2006-01-02 15:04"), status)
		}
		return tw.Flush()
	})
}

func tokenRevoke(c *cli, args []string) error {
	return adminCommand(c, args, "token revoke", "token revoke TOKEN-ID", 1, nil, func(b *backend, f *flags) error {
		if err := b.svc.RevokeToken(c.ctx, operator(), f.Arg(0), cpms.RequestInfo{Source: "cli"}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(c.stdout, "revoked token %s\n", f.Arg(0))
		return nil
	})
}

func auditCmd(c *cli, args []string) error {
	return subcommand(c, "audit", args, map[string]func(*cli, []string) error{"verify": auditVerify}, "verify [flags]")
}

func auditVerify(c *cli, args []string) error {
	return adminCommand(c, args, "audit verify", "audit verify [--data DIR | --database-url URL]", 0, nil, func(b *backend, f *flags) error {
		n, err := cpms.VerifyAudit(c.ctx, b.store)
		if err != nil {
			return fmt.Errorf("audit trail broken after %d intact records: %w", n, describe(err))
		}
		fmt.Fprintf(c.stdout, "audit trail intact: %d records\n", n)
		return nil
	})
}
