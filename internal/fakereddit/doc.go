// Package fakereddit is an in-process Reddit for tests: an httptest server that
// speaks the parts of Reddit's API commentbot uses, so that tests drive the real
// go-reddit client (OAuth, User-Agent, request building, error mapping) over
// loopback and never reach the internet.
//
// It serves
//
//   - POST /api/v1/access_token: OAuth2 tokens for the password grant (script
//     apps) and the client_credentials grant (app-only), client id and secret in
//     HTTP basic auth or in the form, as Reddit accepts them;
//   - GET /r/{sub}/comments[.json]: the newest comments of a subreddit or of a
//     multi ("a+b"), newest first, as a Reddit Listing of t1 things, with
//     after/before/limit paging (limit defaults to 25 and is capped at 100),
//     bodies HTML-escaped (&, <, > as entities) unless raw_json=1 is given,
//     exactly as Reddit's legacy JSON encoding does;
//   - X-Ratelimit-Used, X-Ratelimit-Remaining and X-Ratelimit-Reset headers from
//     a fixed window (600 requests per 600 s by default, Reddit's OAuth budget),
//     and a 429 once the window is spent.
//
// Faults are queued with SetFault and consumed in order by the matching
// endpoint: 429 with or without rate-limit headers and Retry-After, 500, 503,
// a handler that hangs until the client gives up, malformed or truncated JSON.
// SetSubredditStatus makes a subreddit answer 404 (does not exist) or 403
// (private), and OnListing runs a hook before each listing is served (tests use
// it to cancel a context in the middle of a run). The clock is injectable
// (WithClock) so that a test whose code under test sleeps on a fake clock sees
// the rate-limit window move with it.
//
// Comment ids are base-36 and assigned in increasing order across the whole
// server, so "newer" is "larger id", as on Reddit.
package fakereddit
