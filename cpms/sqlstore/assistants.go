package sqlstore

import (
	"context"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// AppointAssistant records that the clinician appointed the assistant. Appointing again keeps
// the first appointment; ErrNotFound when either user is unknown.
func (s *Store) AppointAssistant(ctx context.Context, clinicianID, assistantID string, at time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO assistants (clinician_id, assistant_id, appointed_at) VALUES (?, ?, ?)
		ON CONFLICT (clinician_id, assistant_id) DO NOTHING`, clinicianID, assistantID, ts(at))
	return wrap("appoint assistant", errUser(err))
}

// DismissAssistant ends an appointment; ErrNotFound when there is none.
func (s *Store) DismissAssistant(ctx context.Context, clinicianID, assistantID string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM assistants WHERE clinician_id = ? AND assistant_id = ?", clinicianID, assistantID)
	return wrap("dismiss assistant", rowsOrNotFound(res, err, "assistant appointment"))
}

// IsAssistant reports whether the clinician has appointed the assistant.
func (s *Store) IsAssistant(ctx context.Context, clinicianID, assistantID string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM assistants WHERE clinician_id = ? AND assistant_id = ?",
		clinicianID, assistantID).Scan(&n)
	return n > 0, wrap("read assistant", err)
}

// Assistants returns the assistants the clinician appointed, by username.
func (s *Store) Assistants(ctx context.Context, clinicianID string) ([]cpms.User, error) {
	list, err := listUsers(ctx, s.db, `FROM users u JOIN assistants a ON a.assistant_id = u.id
		WHERE a.clinician_id = ? ORDER BY u.username`, clinicianID)
	return listDone(list, "list assistants", err)
}

// Principals returns the clinicians who appointed the assistant, by username.
func (s *Store) Principals(ctx context.Context, assistantID string) ([]cpms.User, error) {
	list, err := listUsers(ctx, s.db, `FROM users u JOIN assistants a ON a.clinician_id = u.id
		WHERE a.assistant_id = ? ORDER BY u.username`, assistantID)
	return listDone(list, "list principals", err)
}
