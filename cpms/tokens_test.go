package cpms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/auth"
)

func TestCreateToken(t *testing.T) {
	e := newEnv(t)
	e.user("henry", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("iris", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BG07"})
	e.user("ebnadmin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
	e.user("ithadmin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ithaca})
	henry, _ := e.login("henry")
	ebnAdmin, _ := e.login("ebnadmin")
	ithAdmin, _ := e.login("ithadmin")

	tests := []struct {
		name       string
		p          *cpms.Principal
		nt         cpms.NewToken
		want       cpms.Kind
		wantPrefix string
	}{
		{"own personal token", henry, cpms.NewToken{Username: "henry"}, allowed, auth.PrefixPersonal + "_"},
		{"own personal token, name in capitals", henry, cpms.NewToken{Username: "HENRY", Name: "scripts"}, allowed, auth.PrefixPersonal + "_"},
		{"another user's token", henry, cpms.NewToken{Username: "iris"}, cpms.KindPermission, ""},
		{"admin makes a user's token", ebnAdmin, cpms.NewToken{Username: "henry"}, cpms.KindPermission, ""},
		{"operator makes a user's token", operator, cpms.NewToken{Username: "henry"}, allowed, auth.PrefixPersonal + "_"},
		{"token of an unknown user", operator, cpms.NewToken{Username: "nobody"}, cpms.KindNotFound, ""},
		{"operator makes a PACS token", operator, cpms.NewToken{Centre: "BE10", System: cpms.SystemPACS}, allowed, auth.PrefixSystem + "_"},
		{"admin of the centre's ERN makes a HIS token", ebnAdmin, cpms.NewToken{Centre: "BG07", System: cpms.SystemHIS}, allowed, auth.PrefixSystem + "_"},
		{"admin of another ERN", ithAdmin, cpms.NewToken{Centre: "BG07", System: cpms.SystemHIS}, cpms.KindPermission, ""},
		{"admin of one of the centre's ERNs", ithAdmin, cpms.NewToken{Centre: "BE10", System: cpms.SystemPACS}, allowed, auth.PrefixSystem + "_"},
		{"HP makes a system token", henry, cpms.NewToken{Centre: "BE10", System: cpms.SystemPACS}, cpms.KindPermission, ""},
		{"unknown system kind", operator, cpms.NewToken{Centre: "BE10", System: "lis"}, cpms.KindInvalid, ""},
		{"unknown centre", operator, cpms.NewToken{Centre: "XX99", System: cpms.SystemPACS}, cpms.KindInvalid, ""},
		{"neither user nor centre", operator, cpms.NewToken{}, cpms.KindInvalid, ""},
		{"both user and centre", operator, cpms.NewToken{Username: "henry", Centre: "BE10", System: cpms.SystemPACS}, cpms.KindInvalid, ""},
		{"no principal", nil, cpms.NewToken{Username: "henry"}, cpms.KindUnauthenticated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, tok, err := e.svc.CreateToken(e.ctx, tt.p, tt.nt, noInfo)
			if got := kindOrAllowed(err); got != tt.want {
				t.Fatalf("CreateToken = %v (%s), want %s", err, kindName(got), kindName(tt.want))
			}
			if tt.want != allowed {
				return
			}
			if !strings.HasPrefix(plain, tt.wantPrefix) || tok.ID == "" || tok.Name == "" {
				t.Errorf("CreateToken = %q, %+v", plain, tok)
			}
			if strings.Contains(tok.Hash, plain) || tok.Hash != auth.HashToken(plain) {
				t.Errorf("stored hash %q is not the token's hash", tok.Hash)
			}
		})
	}
}

func TestAuthenticateToken(t *testing.T) {
	e := newEnv(t)
	henryUser := e.user("henry", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BE10"})
	e.user("iris", cpms.RoleGrant{Role: cpms.RoleHP, ERN: ebn, Centre: "BG07"})
	e.user("ebnadmin", cpms.RoleGrant{Role: cpms.RoleERNAdmin, ERN: ebn})
	henry, henrySession := e.login("henry")
	iris, _ := e.login("iris")
	ebnAdmin, _ := e.login("ebnadmin")

	create := func(p *cpms.Principal, nt cpms.NewToken) (string, cpms.Token) {
		t.Helper()
		plain, tok, err := e.svc.CreateToken(e.ctx, p, nt, noInfo)
		if err != nil {
			t.Fatalf("CreateToken(%+v): %v", nt, err)
		}
		return plain, tok
	}
	personal, personalTok := create(henry, cpms.NewToken{Username: "henry"})
	revoked, revokedTok := create(henry, cpms.NewToken{Username: "henry", Name: "old laptop"})
	shortLived, _ := create(henry, cpms.NewToken{Username: "henry", TTL: time.Hour})
	irisToken, _ := create(iris, cpms.NewToken{Username: "iris"})
	pacs, pacsTok := create(ebnAdmin, cpms.NewToken{Centre: "BE10", System: cpms.SystemPACS})
	his, _ := create(operator, cpms.NewToken{Centre: "BE10", System: cpms.SystemHIS})
	revokedSystem, revokedSystemTok := create(operator, cpms.NewToken{Centre: "BG07", System: cpms.SystemHIS})

	if err := e.svc.RevokeToken(e.ctx, iris, revokedTok.ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("another user revokes henry's token: %v, want a permission error", err)
	}
	if err := e.svc.RevokeToken(e.ctx, henry, pacsTok.ID, noInfo); cpms.KindOf(err) != cpms.KindPermission {
		t.Errorf("an HP revokes a system token: %v, want a permission error", err)
	}
	if err := e.svc.RevokeToken(e.ctx, henry, "no-such-token", noInfo); cpms.KindOf(err) != cpms.KindNotFound {
		t.Errorf("revoking an unknown token: %v, want not found", err)
	}
	if err := e.svc.RevokeToken(e.ctx, nil, revokedTok.ID, noInfo); cpms.KindOf(err) != cpms.KindUnauthenticated {
		t.Errorf("revoking without a principal: %v, want unauthenticated", err)
	}
	if err := e.svc.RevokeToken(e.ctx, henry, revokedTok.ID, noInfo); err != nil {
		t.Fatalf("owner revokes the token: %v", err)
	}
	if err := e.svc.RevokeToken(e.ctx, ebnAdmin, revokedSystemTok.ID, noInfo); err != nil {
		t.Fatalf("ERN admin revokes a system token of a centre of the ERN: %v", err)
	}
	if err := e.svc.SetDisabled(e.ctx, operator, e.userByName("iris").ID, true, noInfo); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)

	tests := []struct {
		name   string
		bearer string
		actor  string // "" when the token must be refused
		system cpms.System
		centre string
	}{
		{"personal token", personal, "henry", "", ""},
		{"PACS token", pacs, "system:BE10/pacs", cpms.SystemPACS, "BE10"},
		{"HIS token", his, "system:BE10/his", cpms.SystemHIS, "BE10"},
		{"revoked personal token", revoked, "", "", ""},
		{"revoked system token", revokedSystem, "", "", ""},
		{"expired token", shortLived, "", "", ""},
		{"token of a disabled user", irisToken, "", "", ""},
		{"session cookie as a token", henrySession.Cookie, "", "", ""},
		{"made-up token", auth.PrefixPersonal + "_" + strings.Repeat("a", 52), "", "", ""},
		{"empty", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.svc.AuthenticateToken(e.ctx, tt.bearer)
			if tt.actor == "" {
				wantErr(t, err, cpms.KindUnauthenticated, "invalid_token")
				return
			}
			if err != nil {
				t.Fatalf("AuthenticateToken: %v", err)
			}
			if p.Actor() != tt.actor || p.System != tt.system || p.Centre != tt.centre || p.TokenID == "" {
				t.Errorf("principal %s (system %q at %q, token %q), want %s", p.Actor(), p.System, p.Centre, p.TokenID, tt.actor)
			}
		})
	}

	p, err := e.svc.AuthenticateToken(e.ctx, personal)
	if err != nil {
		t.Fatal(err)
	}
	if p.User.ID != henryUser.ID || p.Via != "token" || p.TokenID != personalTok.ID {
		t.Errorf("personal token principal: user %s via %q token %q", p.User.ID, p.Via, p.TokenID)
	}
	if err := cpms.Authorize(p, cpms.ActDICOMweb, cpms.Resource{Centre: "BE10"}, e.svc.Now()); err != nil {
		t.Errorf("personal token of an HP at BE10 refused BE10 images: %v", err)
	}
	sys, err := e.svc.AuthenticateToken(e.ctx, pacs)
	if err != nil {
		t.Fatal(err)
	}
	if sys.User != nil || sys.Via != "system-token" {
		t.Errorf("system token principal has user %v via %q", sys.User, sys.Via)
	}
	if err := cpms.Authorize(sys, cpms.ActDICOMweb, cpms.Resource{Centre: "BE10"}, e.svc.Now()); err != nil {
		t.Errorf("PACS token refused its centre's images: %v", err)
	}
	if err := cpms.Authorize(sys, cpms.ActDICOMweb, cpms.Resource{Centre: "BG07"}, e.svc.Now()); err == nil {
		t.Error("PACS token of BE10 allowed BG07's images")
	}
	stored, err := e.store.Token(e.ctx, personalTok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(e.svc.Now()) {
		t.Errorf("last use recorded as %v, want %v", stored.LastUsedAt, e.svc.Now())
	}

	list, err := e.svc.Tokens(e.ctx, henry, cpms.TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.UserID != henryUser.ID {
			t.Errorf("henry's token list holds %+v", tok)
		}
	}
	if len(list) != 3 {
		t.Errorf("henry sees %d tokens, want his 3", len(list))
	}
	if _, err := e.svc.Tokens(e.ctx, nil, cpms.TokenFilter{}); cpms.KindOf(err) != cpms.KindUnauthenticated {
		t.Errorf("Tokens without a principal: %v", err)
	}
}
