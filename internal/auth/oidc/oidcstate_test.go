package oidc

import (
	"github.com/ern-cpms/cpms/internal/auth"

	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOIDCStateSealing(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 32)
	now := time.Unix(1_700_000_000, 0)
	st := State{State: "s-123", Nonce: "n-456", Verifier: "v-789"}
	sealed, err := EncodeState(key, st, now.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sealed {
		// RFC 6265 cookie-octets, and nothing that needs quoting.
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`",;\`, c) {
			t.Fatalf("sealed value %q has %q, not allowed in a cookie", sealed, c)
		}
	}
	p64, m64, _ := strings.Cut(sealed, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		key   []byte
		value string
		now   time.Time
		want  error
	}{
		{"valid", key, sealed, now, nil},
		{"valid just before expiry", key, sealed, now.Add(10*time.Minute - time.Second), nil},
		{"expired at expiry", key, sealed, now.Add(10 * time.Minute), ErrState},
		{"expired later", key, sealed, now.Add(time.Hour), ErrState},
		{"other key", other, sealed, now, ErrState},
		{"short key", key[:31], sealed, now, ErrConfig},
		{"payload altered", key, flip(p64, 3) + "." + m64, now, ErrState},
		{"mac altered", key, p64 + "." + flip(m64, 3), now, ErrState},
		{"mac missing", key, p64, now, ErrState},
		{"mac empty", key, p64 + ".", now, ErrState},
		{"empty", key, "", now, ErrState},
		{"padded", key, p64 + "=." + m64, now, ErrState},
		{"oversized", key, strings.Repeat("A", 2000) + "." + m64, now, ErrState},
		{"csrf token of same key is not a state", key, p64 + "." + auth.CSRFToken(key, "x"), now, ErrState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeState(tt.key, tt.value, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				if err.Error() != tt.want.Error() {
					t.Errorf("message %q carries more than the kind's", err.Error())
				}
				return
			}
			if diff := cmp.Diff(st, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := EncodeState(key[:16], st, now); !errors.Is(err, ErrConfig) {
		t.Errorf("EncodeState with a short key: err = %v, want ErrConfig", err)
	}
	if Detail(mustErr(DecodeState(key, sealed, now.Add(time.Hour)))) == "" {
		t.Error("expired state: no cause for the operator's log")
	}
}

func mustErr(_ State, err error) error { return err }

// FuzzOIDCState checks that any state seals and opens to itself, and that
// opening arbitrary input never panics and yields only ErrState.
func FuzzOIDCState(f *testing.F) {
	key := bytes.Repeat([]byte{3}, 32)
	now := time.Unix(1_700_000_000, 0)
	f.Add("state", "nonce", "verifier", "")
	f.Add("", "\x00\"\\", "ünïcødé", "eyJzIjoiIn0.AAAA")
	f.Fuzz(func(t *testing.T, s, n, v, garbage string) {
		st := State{State: s, Nonce: n, Verifier: v}
		sealed, err := EncodeState(key, st, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) <= maxSealedState {
			got, err := DecodeState(key, sealed, now)
			if err != nil {
				t.Fatalf("own value refused: %v", err)
			}
			if diff := cmp.Diff(st, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
		}
		if _, err := DecodeState(key, garbage, now); err != nil && !errors.Is(err, ErrState) {
			t.Fatalf("garbage: unexpected error kind %v", err)
		}
	})
}
