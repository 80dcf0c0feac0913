// Package fakediscord is an in-process fake of the parts of Discord that a slash-command
// bot touches, for tests that drive a real discordgo session without the internet.
//
// It serves, on one loopback httptest server:
//
//   - the REST API that discordgo v0.29.0 calls for slash commands: GET /gateway and
//     /gateway/bot, PUT application commands (bulk overwrite, guild and global),
//     POST interactions/{id}/{token}/callback, PATCH webhooks/{app}/{token}/messages/@original
//     and POST webhooks/{app}/{token} (follow-ups), and POST channels/{id}/messages
//     (scheduled posts; refused like Discord when empty or over 2000 characters), JSON
//     or multipart bodies;
//   - a gateway websocket speaking the real protocol: op 10 HELLO, op 2 IDENTIFY → READY
//     dispatch, op 1 heartbeat → op 11 ACK, op 6 RESUME → replay of the missed dispatches
//     then RESUMED (or op 9 when the session is unknown), dispatches numbered by sequence.
//
// Every REST request is recorded; every interaction keeps a log (dispatch time, callback,
// edits, follow-ups) so tests can measure latency from INTERACTION_CREATE to the answer.
// Discord's rules are enforced where a bot can break them: a callback later than the
// deadline (3 s) is refused with 404 Unknown interaction, a second callback with 400
// "already acknowledged", an edit before the callback with 404. 429 responses with
// Discord's JSON body and Retry-After / X-RateLimit-* headers can be injected, and the
// gateway connection can be dropped to exercise discordgo's reconnect-and-resume. Other
// errors (a 403 Missing Access with Discord's JSON error body) and delays (a request
// that hangs until the client gives up) can be injected the same way.
//
// discordgo computes its Endpoint* strings once at init; Install points them at the fake
// and returns a function restoring them. Those variables are process-wide, so tests using
// the fake must not run in parallel with each other.
package fakediscord
