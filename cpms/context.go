package cpms

import "context"

type ctxKey int

const (
	principalKey ctxKey = iota
	requestKey
)

// WithPrincipal returns a context carrying the authenticated principal; the edges' shared
// authentication puts it there and every handler reads it back with PrincipalFrom.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal of the request, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// WithRequestInfo and RequestInfoFrom carry the client address and request ID for the audit trail.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey, ri)
}

func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestKey).(RequestInfo)
	return ri
}
