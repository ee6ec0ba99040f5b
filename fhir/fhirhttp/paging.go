package fhirhttp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/ern-cpms/cpms/fhir"
)

// Paging links never carry the search itself: a search for a patient's name or record number
// must not reappear in URLs that the server writes and that proxies, browsers and client logs
// keep. Each link holds only _page, the query sealed (AES-GCM) under a deployment key that
// every instance shares, so a link made on one instance pages on another. Opening a link runs
// the search again with the rights of whoever opens it.

const (
	pageParam   = "_page"
	pageSecret  = "fhir.paging"
	pageMaxAge  = 24 * time.Hour
	pageVersion = 1
)

type sealedPage struct {
	V     int                 `json:"v"`
	Type  string              `json:"t"`
	Query map[string][]string `json:"q"`
	At    int64               `json:"at"`
}

func (s *Server) pageAEAD(ctx context.Context) (cipher.AEAD, error) {
	key, err := s.svc.Secret(ctx, pageSecret)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal returns the _page value for the search q of resource type typ.
func (s *Server) seal(ctx context.Context, typ string, q url.Values) (string, error) {
	aead, err := s.pageAEAD(ctx)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(sealedPage{V: pageVersion, Type: typ, Query: q, At: s.svc.Now().Unix()})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(typ))), nil
}

var errPage = fhir.Errorf(fhir.StatusBadRequest, fhir.IssueInvalid,
	"the paging link is not valid here or has expired (links last 24 hours): search again")

// unseal returns the search held by a _page value of resource type typ.
func (s *Server) unseal(ctx context.Context, typ, token string) (url.Values, error) {
	aead, err := s.pageAEAD(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, errPage
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(typ))
	if err != nil {
		return nil, errPage
	}
	var sp sealedPage
	if json.Unmarshal(plain, &sp) != nil || sp.V != pageVersion || sp.Type != typ {
		return nil, errPage
	}
	if age := s.svc.Now().Sub(time.Unix(sp.At, 0)); age > pageMaxAge || age < -time.Minute {
		return nil, errPage
	}
	return url.Values(sp.Query), nil
}

// pageQuery replaces a request's query by the sealed one when it holds _page; the other
// parameters of such a request are ignored but for _format and _pretty.
func (s *Server) pageQuery(ctx context.Context, typ string, q url.Values) (url.Values, error) {
	token := q.Get(pageParam)
	if token == "" {
		return q, nil
	}
	sq, err := s.unseal(ctx, typ, token)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"_format", "_pretty"} {
		if v, ok := q[k]; ok {
			sq[k] = v
		}
	}
	return sq, nil
}

// pageLink is the URL of the page of the search at offset.
func (s *Server) pageLink(ctx context.Context, base, typ string, query url.Values, count, offset int) (string, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("_count", strconv.Itoa(count))
	if offset > 0 {
		q.Set("_offset", strconv.Itoa(offset))
	} else {
		q.Del("_offset")
	}
	token, err := s.seal(ctx, typ, q)
	if err != nil {
		return "", err
	}
	return base + "/" + typ + "?" + pageParam + "=" + token, nil
}
