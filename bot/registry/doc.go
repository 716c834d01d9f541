// Package registry asks the npm registry the two questions a publish failure can turn on:
// does the package exist (and is this version already published), and which trusted
// publishers does it list. Client.ForBot answers them as the bot's Registry, in the bot's
// types.
//
// It is read-only and small on purpose. A Client sends GET requests through the net/http
// client it is given: the package document (GET <base>/<name>, scoped names escaped as
// @scope%2fname, in npm's abbreviated "corgi" form to keep it small) and, with a token,
// the trusted-publisher list (GET <base>/-/package/<name>/trust, the endpoint `npm trust
// list` reads). Every answer is read through a size cap, decoded leniently (unknown fields
// are ignored; the trust list may be a bare array, an object wrapping one, or a single
// entry), and kept in a short in-memory cache per name so a burst of failures of one
// package asks the registry once.
//
// Compare is pure: it sets a run's identity (repository, workflow file, environment)
// against the trusted publishers exactly as the registry does (case-sensitive, bare file
// name), and when nothing matches it finds the closest entry with sahilm/fuzzy and says in
// plain sentences which fields differ.
//
// Errors say what was being asked and wrap sentinels the caller can test with errors.Is:
// ErrUnavailable when the registry could not be asked (network, timeout, 429, 5xx), so the
// diagnosis falls back to the log; ErrNoToken, ErrUnauthorized, ErrNotFound, ErrTooLarge,
// ErrMalformed and ErrInvalidName for the rest. The token is a Secret: it prints as
// <secret>, and no error or log line carries it.
package registry
