// Package cpms is the domain core of the case-discussion platform: the networks (ERNs), their
// centres and thematic areas, users and their roles, the permission policy every edge calls,
// sessions and tokens, access requests, and the hash-chained audit trail. Later it holds
// patients, consents, panels and outcomes.
//
// It imports no transport and no driver. What it needs from the outside world it names as small
// interfaces — the ports (Store, Clock) — and cmd/cpms wires real implementations to them.
package cpms
