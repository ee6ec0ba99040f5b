package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
)

// Secret returns the named secret, creating it with create the first time. Every process
// racing to create it inserts only if nothing is there yet and then reads what is stored, so
// all of them return the value that was stored first.
func (s *Store) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	v, ok, err := s.secret(ctx, name)
	if err != nil || ok {
		return v, wrap("read secret", err)
	}
	nv, err := create()
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		name, base64.StdEncoding.EncodeToString(nv)); err != nil {
		return nil, wrap("store secret", err)
	}
	v, ok, err = s.secret(ctx, name)
	if err == nil && !ok {
		err = errors.New("the secret vanished after it was stored")
	}
	if err != nil {
		return nil, wrap("read secret", err)
	}
	return v, nil
}

func (s *Store) secret(ctx context.Context, name string) ([]byte, bool, error) {
	var enc string
	err := s.db.QueryRow(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, false, errors.New("a stored secret is not valid base64")
	}
	return v, true, nil
}

// Setting returns the named value and whether it is set.
func (s *Store) Setting(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("read setting", err)
	}
	return v, true, nil
}

// PutSetting sets the named value, replacing any other.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return wrap("put setting", err)
}
