package oidc

import (
	"github.com/ern-cpms/cpms/internal/auth"

	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	coreoidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config configures an OpenID Connect relying party ([New]).
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery document
	// states it (trailing slash included or not).
	Issuer string
	// ClientID and ClientSecret are the credentials registered for CPMS at
	// the provider. ClientSecret may be empty for a public client; PKCE is
	// used either way.
	ClientID     string
	ClientSecret string
	// RedirectURL is CPMS's callback URL registered at the provider.
	RedirectURL string
	// Scopes requested; "openid" is always added. Empty means
	// openid, email and profile.
	Scopes []string
	// HTTPClient is used for discovery, key fetching, the token exchange and
	// the userinfo request; nil means a client with a 30-second timeout.
	HTTPClient *http.Client
	// Clock returns the current time for ID token expiry checks; nil means
	// time.Now.
	Clock func() time.Time
}

// OIDC is an OpenID Connect relying party for the authorization code flow
// with PKCE (RFC 7636, S256) and a nonce (OpenID Connect Core 1.0, section
// 3.1). It is safe for concurrent use.
type Client struct {
	issuer   string
	clientID string
	client   *http.Client
	provider *coreoidc.Provider
	verifier *coreoidc.IDTokenVerifier
	oauth    oauth2.Config
}

// State is what a login started by [OIDC.Begin] must remember until the
// provider redirects back: the state parameter, the nonce expected in the ID
// token and the PKCE code verifier. The caller keeps it in a short-lived,
// HttpOnly cookie sealed with [EncodeState].
type State struct {
	State    string
	Nonce    string
	Verifier string
}

// Identity is the user a provider vouched for. Issuer and Subject together
// identify the account for good; the other fields are profile claims the
// provider may change or omit.
type Identity struct {
	Issuer            string
	Subject           string
	Email             string
	EmailVerified     bool
	Name              string
	PreferredUsername string
}

// OIDC errors. Their messages are fit to show to the user; [Detail] gives
// the operator the cause.
var (
	ErrConfig    = errors.New("single sign-on is not configured correctly")
	ErrDiscovery = errors.New("identity provider is unavailable or misconfigured")
	ErrState     = errors.New("sign-in session is missing, expired or does not match; please sign in again")
	ErrExchange  = errors.New("identity provider did not accept the sign-in")
	ErrIDToken   = errors.New("identity provider's answer could not be verified")
	ErrNonce     = errors.New("identity provider's answer does not belong to this sign-in")
	ErrUserInfo  = errors.New("identity provider did not return the user's profile")
)

// New discovers the provider at cfg.Issuer (OpenID Connect Discovery
// 1.0) and returns a relying party for it. ctx bounds the discovery request.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, ErrConfig
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	provider, err := coreoidc.NewProvider(coreoidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fail(ErrDiscovery, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{coreoidc.ScopeOpenID, "email", "profile"}
	} else if !slices.Contains(scopes, coreoidc.ScopeOpenID) {
		scopes = append([]string{coreoidc.ScopeOpenID}, scopes...)
	}
	return &Client{
		issuer:   cfg.Issuer,
		clientID: cfg.ClientID,
		client:   client,
		provider: provider,
		verifier: provider.Verifier(&coreoidc.Config{ClientID: cfg.ClientID, Now: cfg.Clock}),
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Endpoint:     provider.Endpoint(),
			Scopes:       slices.Clone(scopes),
		},
	}, nil
}

// Begin starts a login: it draws a fresh state, nonce and PKCE verifier
// from random (256 bits each) and returns the provider's authorization URL
// to redirect the browser to, and the state to remember.
func (o *Client) Begin(random io.Reader) (authURL string, st State, err error) {
	var vals [3]string
	for i := range vals {
		b := make([]byte, 32)
		if _, err := io.ReadFull(random, b); err != nil {
			return "", State{}, fail(errRandom, err)
		}
		// 43 base64url characters: a valid RFC 7636 code verifier too.
		vals[i] = base64.RawURLEncoding.EncodeToString(b)
	}
	st = State{State: vals[0], Nonce: vals[1], Verifier: vals[2]}
	authURL = o.oauth.AuthCodeURL(st.State,
		coreoidc.Nonce(st.Nonce),
		oauth2.S256ChallengeOption(st.Verifier))
	return authURL, st, nil
}

// Finish completes a login on the redirect back from the provider. gotState
// and code are the "state" and "code" query parameters of that redirect; st
// is what [OIDC.Begin] returned for this browser. Finish checks the state,
// exchanges the code (with the PKCE verifier) at the token endpoint,
// verifies the ID token's signature, issuer, audience, authorized party,
// expiry, nonce and access-token hash, and fills missing profile claims
// from the userinfo endpoint.
func (o *Client) Finish(ctx context.Context, st State, gotState, code string) (Identity, error) {
	if st.State == "" || st.Nonce == "" || st.Verifier == "" || !auth.Equal(st.State, gotState) {
		return Identity{}, ErrState
	}
	if code == "" {
		return Identity{}, ErrExchange
	}
	ctx = coreoidc.ClientContext(ctx, o.client)
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Identity{}, fail(ErrExchange, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fail(ErrIDToken, errors.New("token response has no id_token"))
	}
	idt, id, err := o.verifyIDToken(ctx, raw, st.Nonce)
	if err != nil {
		return Identity{}, err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fail(ErrIDToken, err)
		}
	}
	if (id.Email == "" || id.Name == "" || id.PreferredUsername == "") && o.provider.UserInfoEndpoint() != "" {
		if err := o.fillFromUserInfo(ctx, tok, &id); err != nil {
			return Identity{}, err
		}
	}
	return id, nil
}

// identityClaims are the ID token and userinfo claims CPMS reads (OpenID
// Connect Core 1.0, sections 2 and 5.1).
type identityClaims struct {
	Subject           string   `json:"sub"`
	Email             string   `json:"email"`
	EmailVerified     flexBool `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	AuthorizedParty   string   `json:"azp"`
}

// flexBool reads a JSON boolean, also when a provider sends it as the
// string "true" or "false".
type flexBool bool

func (b *flexBool) UnmarshalJSON(d []byte) error {
	switch string(d) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %.20s", d)
	}
	return nil
}

// verifyIDToken verifies raw as an ID token for this client and login and
// returns it with the identity it states.
func (o *Client) verifyIDToken(ctx context.Context, raw, nonce string) (*coreoidc.IDToken, Identity, error) {
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, Identity{}, fail(ErrIDToken, err)
	}
	var c identityClaims
	if err := idt.Claims(&c); err != nil {
		return nil, Identity{}, fail(ErrIDToken, err)
	}
	// OpenID Connect Core 1.0, section 3.1.3.7, steps 4 and 5.
	if c.AuthorizedParty != "" && c.AuthorizedParty != o.clientID {
		return nil, Identity{}, fail(ErrIDToken, fmt.Errorf("azp %q is not this client", c.AuthorizedParty))
	}
	if len(idt.Audience) > 1 && c.AuthorizedParty == "" {
		return nil, Identity{}, fail(ErrIDToken, errors.New("several audiences and no azp"))
	}
	// Section 3.1.3.7, step 11.
	if nonce == "" || !auth.Equal(idt.Nonce, nonce) {
		return nil, Identity{}, ErrNonce
	}
	if idt.Subject == "" {
		return nil, Identity{}, fail(ErrIDToken, errors.New("no sub claim"))
	}
	return idt, Identity{
		Issuer:            idt.Issuer,
		Subject:           idt.Subject,
		Email:             c.Email,
		EmailVerified:     bool(c.EmailVerified),
		Name:              c.Name,
		PreferredUsername: c.PreferredUsername,
	}, nil
}

// fillFromUserInfo completes id from the userinfo endpoint, after checking
// that it speaks of the same subject (OpenID Connect Core 1.0, section
// 5.3.2). Claims already in the ID token win.
func (o *Client) fillFromUserInfo(ctx context.Context, tok *oauth2.Token, id *Identity) error {
	ui, err := o.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fail(ErrUserInfo, err)
	}
	var c identityClaims
	if err := ui.Claims(&c); err != nil {
		return fail(ErrUserInfo, err)
	}
	if c.Subject != id.Subject {
		return fail(ErrUserInfo, errors.New("userinfo sub differs from the ID token's"))
	}
	if id.Email == "" {
		id.Email, id.EmailVerified = c.Email, bool(c.EmailVerified)
	}
	if id.Name == "" {
		id.Name = c.Name
	}
	if id.PreferredUsername == "" {
		id.PreferredUsername = c.PreferredUsername
	}
	return nil
}
