package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

const userCols = `u.id, u.username, u.display_name, u.email, u.disabled, u.created_at,
	u.password_hash, u.must_change_password, u.totp_secret, u.totp_enabled, u.totp_last_step,
	u.failed_logins, u.locked_until, u.oidc_issuer, u.oidc_subject`

func scanUser(sc scanner) (cpms.User, error) {
	var (
		u               cpms.User
		locked          sql.NullTime
		issuer, subject sql.NullString
	)
	err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Disabled, &u.CreatedAt,
		&u.PasswordHash, &u.MustChangePassword, &u.TOTPSecret, &u.TOTPEnabled, &u.TOTPLastStep,
		&u.FailedLogins, &locked, &issuer, &subject)
	u.CreatedAt = u.CreatedAt.UTC()
	u.LockedUntil = zeroTimeOf(locked)
	u.OIDCIssuer, u.OIDCSubject = issuer.String, subject.String
	return u, err
}

// searchText is what Users' Query searches: username and display name folded to lower case
// here, so that names beyond ASCII fold the same way on every engine.
func searchText(u *cpms.User) string {
	return strings.ToLower(u.Username) + "\n" + strings.ToLower(u.DisplayName)
}

// CreateUser stores a new account together with the role grants in u.Roles.
func (s *Store) CreateUser(ctx context.Context, u cpms.User) error {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, username, display_name, search_text, email, disabled,
			created_at, password_hash, must_change_password, totp_secret, totp_enabled, totp_last_step,
			failed_logins, locked_until, oidc_issuer, oidc_subject)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, u.DisplayName, searchText(&u), u.Email, u.Disabled,
			ts(u.CreatedAt), u.PasswordHash, u.MustChangePassword, u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep,
			u.FailedLogins, zeroNullTime(u.LockedUntil), nullString(u.OIDCIssuer), nullString(u.OIDCSubject))
		if sqldb.IsUniqueViolation(err) {
			return conflict("the user ID, username or sign-in identity is already in use")
		}
		if err != nil {
			return err
		}
		for _, g := range u.Roles {
			if err := insertGrant(ctx, tx, u.ID, g); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("create user", err)
}

// UserByID returns the user with this ID.
func (s *Store) UserByID(ctx context.Context, id string) (cpms.User, error) {
	return s.oneUser(ctx, "WHERE u.id = ?", id)
}

// UserByUsername returns the user with this username.
func (s *Store) UserByUsername(ctx context.Context, username string) (cpms.User, error) {
	return s.oneUser(ctx, "WHERE u.username = ?", username)
}

// UserByOIDC returns the user linked to this OpenID Connect identity.
func (s *Store) UserByOIDC(ctx context.Context, issuer, subject string) (cpms.User, error) {
	if issuer == "" || subject == "" {
		return cpms.User{}, notFound("user")
	}
	return s.oneUser(ctx, "WHERE u.oidc_issuer = ? AND u.oidc_subject = ?", issuer, subject)
}

func (s *Store) oneUser(ctx context.Context, where string, args ...any) (cpms.User, error) {
	list, err := listUsers(ctx, s.db, "FROM users u "+where, args...)
	if err != nil {
		return cpms.User{}, wrap("read user", err)
	}
	if len(list) == 0 {
		return cpms.User{}, notFound("user")
	}
	return list[0], nil
}

// Users returns the users matching f, by username. ERN and Centre select users holding a
// grant (active or not) in that ERN and at that centre; with both set, one grant must match
// both.
func (s *Store) Users(ctx context.Context, f cpms.UserFilter) ([]cpms.User, error) {
	var (
		where []string
		args  []any
	)
	if f.ERN != "" || f.Centre != "" {
		var cond []string
		if f.ERN != "" {
			cond = append(cond, "g.ern = ?")
			args = append(args, f.ERN)
		}
		if f.Centre != "" {
			cond = append(cond, "g.centre = ?")
			args = append(args, f.Centre)
		}
		where = append(where, "EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND "+strings.Join(cond, " AND ")+")")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `u.search_text LIKE ? ESCAPE '\'`)
		args = append(args, likePattern(strings.ToLower(q)))
	}
	query := "FROM users u"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY u.username"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	list, err := listUsers(ctx, s.db, query, args...)
	return listDone(list, "list users", err)
}

// listUsers reads the users that rest ("FROM users u … [ORDER BY …]") selects, with their
// grants.
func listUsers(ctx context.Context, q querier, rest string, args ...any) ([]cpms.User, error) {
	rows, err := q.Query(ctx, "SELECT "+userCols+" "+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []cpms.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, fillRoles(ctx, q, out)
}

// fillRoles sets the Roles of each user: every grant, by creation time.
func fillRoles(ctx context.Context, q querier, users []cpms.User) error {
	index := make(map[string]int, len(users))
	ids := make([]string, 0, len(users))
	for i := range users {
		users[i].Roles = []cpms.RoleGrant{}
		index[users[i].ID] = i
		ids = append(ids, users[i].ID)
	}
	for _, part := range chunks(ids, 500) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := q.Query(ctx, `SELECT user_id, id, role, ern, centre, expires_at, granted_by, created_at
			FROM role_grants WHERE user_id IN (`+placeholders(len(part))+`) ORDER BY created_at, id`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				userID  string
				g       cpms.RoleGrant
				expires sql.NullTime
			)
			if err := rows.Scan(&userID, &g.ID, &g.Role, &g.ERN, &g.Centre, &expires, &g.GrantedBy, &g.CreatedAt); err != nil {
				rows.Close()
				return err
			}
			g.ExpiresAt, g.CreatedAt = timeOf(expires), g.CreatedAt.UTC()
			u := &users[index[userID]]
			u.Roles = append(u.Roles, g)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// UpdateUser reads the user, lets fn change it and writes the account fields back, in one
// transaction. The ID, creation time and roles are not written.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(u *cpms.User) error) (cpms.User, error) {
	var out cpms.User
	var fnErr error // fn's own error, returned as it is
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		lock := ""
		if tx.Dialect() == sqldb.Postgres {
			lock = " FOR UPDATE"
		}
		list, err := listUsers(ctx, tx, "FROM users u WHERE u.id = ?"+lock, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return notFound("user")
		}
		u := list[0]
		if fnErr = fn(&u); fnErr != nil {
			return fnErr
		}
		u.ID, u.CreatedAt, u.Roles = list[0].ID, list[0].CreatedAt, list[0].Roles
		_, err = tx.Exec(ctx, `UPDATE users SET username = ?, display_name = ?, search_text = ?, email = ?,
			disabled = ?, password_hash = ?, must_change_password = ?, totp_secret = ?, totp_enabled = ?,
			totp_last_step = ?, failed_logins = ?, locked_until = ?, oidc_issuer = ?, oidc_subject = ?
			WHERE id = ?`,
			u.Username, u.DisplayName, searchText(&u), u.Email,
			u.Disabled, u.PasswordHash, u.MustChangePassword, u.TOTPSecret, u.TOTPEnabled,
			u.TOTPLastStep, u.FailedLogins, zeroNullTime(u.LockedUntil), nullString(u.OIDCIssuer), nullString(u.OIDCSubject),
			u.ID)
		if sqldb.IsUniqueViolation(err) {
			return conflict("the username or sign-in identity is already in use")
		}
		if err != nil {
			return err
		}
		if !u.LockedUntil.IsZero() {
			u.LockedUntil = ts(u.LockedUntil)
		}
		out = u
		return nil
	})
	if fnErr != nil {
		return cpms.User{}, fnErr
	}
	if err != nil {
		return cpms.User{}, wrap("update user", err)
	}
	return out, nil
}

// GrantRole gives the user a role; ErrConflict when the same role, ERN and centre is already
// granted (or the grant ID is taken), ErrNotFound for an unknown user.
func (s *Store) GrantRole(ctx context.Context, userID string, g cpms.RoleGrant) error {
	return wrap("grant role", insertGrant(ctx, s.db, userID, g))
}

func insertGrant(ctx context.Context, q querier, userID string, g cpms.RoleGrant) error {
	_, err := q.Exec(ctx, `INSERT INTO role_grants (id, user_id, role, ern, centre, expires_at, granted_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, userID, string(g.Role), g.ERN, g.Centre, nullTime(g.ExpiresAt), g.GrantedBy, ts(g.CreatedAt))
	switch {
	case sqldb.IsUniqueViolation(err):
		return conflict("this role is already granted")
	case isForeignKeyViolation(err):
		return notFound("user")
	}
	return err
}

// RevokeRole removes one of the user's grants; ErrNotFound when the user has no such grant.
func (s *Store) RevokeRole(ctx context.Context, userID, grantID string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM role_grants WHERE id = ? AND user_id = ?", grantID, userID)
	return wrap("revoke role", rowsOrNotFound(res, err, "role grant"))
}

// userExists reports ErrNotFound for an unknown user.
func userExists(ctx context.Context, q querier, id string) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE id = ?", id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("user")
	}
	return nil
}

// errUser maps a foreign-key violation on a user reference to ErrNotFound.
func errUser(err error) error {
	if isForeignKeyViolation(err) {
		return notFound("user")
	}
	return err
}

// rowsOrNotFound returns ErrNotFound (for what) when res changed no row.
func rowsOrNotFound(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// SetRecoveryCodes replaces the user's recovery codes by these hashes, all unused.
func (s *Store) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)
				ON CONFLICT (user_id, hash) DO NOTHING`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("set recovery codes", err)
}

// UseRecoveryCode marks an unused code with this hash as used at at. Of several concurrent
// uses of one code, exactly one succeeds.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) (bool, error) {
	res, err := s.db.Exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL",
		ts(at), userID, hash)
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	n, err := rowsAffected(res)
	return n == 1, wrap("use recovery code", err)
}
