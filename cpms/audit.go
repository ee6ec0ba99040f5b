package cpms

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Outcome of an audited event, with the values of the DICOM/ATNA EventOutcomeIndicator.
type Outcome int

const (
	OutcomeSuccess      Outcome = 0
	OutcomeMinorFailure Outcome = 4 // e.g. wrong password, refused permission
	OutcomeSeriousFail  Outcome = 8
	OutcomeMajorFailure Outcome = 12
)

// AuditEvent is one record of the append-only audit trail: who (and on behalf of whom) did
// what to which object — and which patient — when, from where, and with what outcome. Its shape
// follows the ATNA audit message (event, active participant, network access point, participant
// objects) so that the IHE work can emit the same events. Detail never holds patient data.
type AuditEvent struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"` // e.g. "login", "role.grant", "patient.read"
	Outcome    Outcome   `json:"outcome"`
	Actor      string    `json:"actor"`   // username or "system:BE10/pacs"
	ActorID    string    `json:"actorId"` // user ID, token ID for systems
	OnBehalfOf string    `json:"onBehalfOf,omitempty"`
	ObjectType string    `json:"objectType,omitempty"` // "user", "session", "token", "patient", …
	ObjectID   string    `json:"objectId,omitempty"`
	PatientID  string    `json:"patientId,omitempty"` // the product's patient ID, never a name
	Source     string    `json:"source,omitempty"`    // client network address
	RequestID  string    `json:"requestId,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PrevHash   string    `json:"prevHash"`
	Hash       string    `json:"hash"`
}

// GenesisHash is the PrevHash of the first record.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is the hash of an event: SHA-256 over its previous hash and a canonical encoding of
// every other field. Times count to the microsecond, as both database engines keep them.
func ChainHash(e AuditEvent) string {
	c := e
	c.Hash = ""
	c.At = c.At.UTC().Truncate(time.Microsecond)
	b, err := json.Marshal(c) // struct fields marshal in declaration order: canonical
	if err != nil {
		panic(err) // only plain fields: cannot fail
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Link sets e's sequence number, previous hash and hash to follow prev (nil for the first).
func Link(prev *AuditEvent, e *AuditEvent) {
	if prev == nil {
		e.Seq, e.PrevHash = 1, GenesisHash
	} else {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = ChainHash(*e)
}

// ChainVerifier checks records one after the other, in sequence order.
type ChainVerifier struct {
	prev  *AuditEvent
	Count int64
}

// Next checks e against the record before it; the error names the first broken record.
func (v *ChainVerifier) Next(e AuditEvent) error {
	wantSeq, wantPrev := int64(1), GenesisHash
	if v.prev != nil {
		wantSeq, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case e.Seq != wantSeq:
		return Errorf(KindConflict, "audit record %d: expected record %d (a record is missing or inserted)", e.Seq, wantSeq)
	case e.PrevHash != wantPrev:
		return Errorf(KindConflict, "audit record %d: does not follow record %d (the chain was altered)", e.Seq, wantSeq-1)
	case ChainHash(e) != e.Hash:
		return Errorf(KindConflict, "audit record %d: its content does not match its hash (the record was altered)", e.Seq)
	}
	v.prev = &e
	v.Count++
	return nil
}
