// Package cpmshttp is the JSON API of the web application under /api, and the HTTP plumbing that
// every edge of the server shares: request IDs, structured access logs, metrics, panic recovery,
// body limits, and authentication of sessions (cookie + anti-forgery token) and bearer tokens.
// Errors leave as problem JSON (RFC 9457), written in one place.
package cpmshttp
