package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// PutCentre inserts the centre or updates its name and country.
func (s *Store) PutCentre(ctx context.Context, c cpms.Centre) error {
	_, err := s.db.Exec(ctx, `INSERT INTO centres (code, name, country) VALUES (?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, country = excluded.country`,
		c.Code, c.Name, c.Country)
	return wrap("put centre", err)
}

// PutERN inserts or updates the ERN and replaces its thematic areas (kept in the given order)
// and member centres, which must exist (else ErrNotFound).
func (s *Store) PutERN(ctx context.Context, e cpms.ERN) error {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO erns (code, name) VALUES (?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name`, e.Code, e.Name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM ern_areas WHERE ern = ?", e.Code); err != nil {
			return err
		}
		for i, a := range e.ThematicAreas {
			if _, err := tx.Exec(ctx, "INSERT INTO ern_areas (ern, pos, name) VALUES (?, ?, ?)", e.Code, i, a); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM ern_centres WHERE ern = ?", e.Code); err != nil {
			return err
		}
		for _, c := range e.Centres {
			_, err := tx.Exec(ctx, "INSERT INTO ern_centres (ern, centre) VALUES (?, ?) ON CONFLICT (ern, centre) DO NOTHING", e.Code, c)
			if isForeignKeyViolation(err) {
				return notFound("member centre")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("put ERN", err)
}

// Centre returns the centre with this code.
func (s *Store) Centre(ctx context.Context, code string) (cpms.Centre, error) {
	var c cpms.Centre
	err := s.db.QueryRow(ctx, "SELECT code, name, country FROM centres WHERE code = ?", code).Scan(&c.Code, &c.Name, &c.Country)
	if errors.Is(err, sql.ErrNoRows) {
		return cpms.Centre{}, notFound("centre")
	}
	if err != nil {
		return cpms.Centre{}, wrap("read centre", err)
	}
	return c, nil
}

// Centres returns every centre, by code.
func (s *Store) Centres(ctx context.Context) ([]cpms.Centre, error) {
	rows, err := s.db.Query(ctx, "SELECT code, name, country FROM centres ORDER BY code")
	if err != nil {
		return nil, wrap("list centres", err)
	}
	defer rows.Close()
	out := []cpms.Centre{}
	for rows.Next() {
		var c cpms.Centre
		if err := rows.Scan(&c.Code, &c.Name, &c.Country); err != nil {
			return nil, wrap("list centres", err)
		}
		out = append(out, c)
	}
	return listDone(out, "list centres", rows.Err())
}

// ERN returns the ERN with this code, its thematic areas and its member centres (by code).
func (s *Store) ERN(ctx context.Context, code string) (cpms.ERN, error) {
	list, err := s.erns(ctx, "WHERE code = ?", code)
	if err != nil {
		return cpms.ERN{}, err
	}
	if len(list) == 0 {
		return cpms.ERN{}, notFound("ERN")
	}
	return list[0], nil
}

// ERNs returns every ERN, by code.
func (s *Store) ERNs(ctx context.Context) ([]cpms.ERN, error) {
	return s.erns(ctx, "")
}

// erns reads the ERNs that where selects, with their areas and centres.
func (s *Store) erns(ctx context.Context, where string, args ...any) ([]cpms.ERN, error) {
	rows, err := s.db.Query(ctx, "SELECT code, name FROM erns "+where+" ORDER BY code", args...)
	if err != nil {
		return nil, wrap("read ERNs", err)
	}
	defer rows.Close()
	out := []cpms.ERN{}
	index := map[string]int{}
	for rows.Next() {
		e := cpms.ERN{ThematicAreas: []string{}, Centres: []string{}}
		if err := rows.Scan(&e.Code, &e.Name); err != nil {
			return nil, wrap("read ERNs", err)
		}
		index[e.Code] = len(out)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read ERNs", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// The areas and centres of the selected ERNs: all of them when listing, else one ERN's.
	sub := ""
	if where != "" {
		sub = "WHERE ern IN (SELECT code FROM erns " + where + ")"
	}
	areas, err := s.db.Query(ctx, "SELECT ern, name FROM ern_areas "+sub+" ORDER BY ern, pos", args...)
	if err != nil {
		return nil, wrap("read ERN areas", err)
	}
	defer areas.Close()
	for areas.Next() {
		var ern, name string
		if err := areas.Scan(&ern, &name); err != nil {
			return nil, wrap("read ERN areas", err)
		}
		if i, ok := index[ern]; ok {
			out[i].ThematicAreas = append(out[i].ThematicAreas, name)
		}
	}
	if err := areas.Err(); err != nil {
		return nil, wrap("read ERN areas", err)
	}
	areas.Close()
	centres, err := s.db.Query(ctx, "SELECT ern, centre FROM ern_centres "+sub+" ORDER BY ern, centre", args...)
	if err != nil {
		return nil, wrap("read ERN centres", err)
	}
	defer centres.Close()
	for centres.Next() {
		var ern, centre string
		if err := centres.Scan(&ern, &centre); err != nil {
			return nil, wrap("read ERN centres", err)
		}
		if i, ok := index[ern]; ok {
			out[i].Centres = append(out[i].Centres, centre)
		}
	}
	return listDone(out, "read ERN centres", centres.Err())
}

// ERNMember tells whether the ERN exists and the centre belongs to it, in one statement.
func (s *Store) ERNMember(ctx context.Context, ern, centre string) (bool, bool, error) {
	var known, member int
	err := s.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM erns WHERE code = ?),
		(SELECT COUNT(*) FROM ern_centres WHERE ern = ? AND centre = ?)`, ern, ern, centre).Scan(&known, &member)
	if err != nil {
		return false, false, wrap("read ERN membership", err)
	}
	return known > 0, member > 0, nil
}
