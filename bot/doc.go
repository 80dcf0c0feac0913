// Package bot is the part of commentbot that users touch: the slash commands
// /comment, /models and /retrain, answered by one handler over three transports —
// the discordgo gateway (Bot.Connect), the HTTP interactions endpoint
// (Bot.HTTPInteractions, an http.Handler) and a local console (Bot.ServeConsole).
//
// The bot does no training and no sampling itself: it depends on the Generator
// interface it defines (list models, generate one comment, retrain), which the caller
// adapts from the live model set, and on an optional Originality check (the corpus
// n-gram index).
//
// What users can rely on:
//
//   - Deadline. Discord wants a first response within 3 s. /comment always defers
//     (a "thinking…" response) once its input is valid, then edits the original
//     response with the comment; generation runs under Config.GenerationTimeout and is
//     answered with a plain message when it runs out.
//   - Safety. Messages carry allowed_mentions {"parse": []}, so generated "@everyone"
//     pings nobody; the word filter masks whole words, case-insensitively, as
//     [expletive]; content is cut to 2000 characters on a rune boundary, footer
//     included; a message is never empty.
//   - Originality. A sample for which Originality.Copies(level, text) is true (a run
//     of ≥ 8 words, or ≥ 50 characters for char models, of a training comment) is
//     discarded and sampled again with a new seed, at most Config.OriginalityRetries
//     times; Stats counts samples and rejections.
//   - Reproducibility. Every comment ends with a footer "model version · temperature T
//     · seed S": `commentbot generate --model M --temperature T --seed S` reproduces it.
//   - Abuse limits. A per-user cooldown, a per-channel rate over a sliding minute and
//     a cap on concurrent generations; refusals are ephemeral and say when to retry.
//     A Generator whose model is writing all it may, with a full queue, returns
//     ErrBusy, answered with the same plain "busy" message.
//   - Bad input (unknown or disabled model, temperature out of range or not a number,
//     prompt too long, missing options, /retrain in a DM or without Manage Server) gets
//     an ephemeral plain-language answer; the handler never panics on missing options
//     and logs every failed Discord call.
//   - Replays. The HTTP endpoint refuses a request whose interaction id or decoded
//     signature it has seen within ReplayWindow (in this process), and bodies over
//     1 MiB with 413. The console refuses lines over MaxConsoleLine and escapes
//     control characters in what it prints.
//   - Reloads. Apply puts a new Config in force for the next command; Refresh sends
//     Discord the new bounds and choices. A failed registration never stops a
//     transport: it is retried with backoff and reported by Health, as is a gateway
//     that cannot connect yet (ConnectRetrying).
//
// Scheduled posts go through a Poster (Bot.Poster with the bot token): a REST-only
// session, so it works for gateway and HTTP-interactions deployments alike. Post
// applies the same output safety as /comment (word filter, allowed_mentions
// {"parse": []}, 2000 characters on a rune boundary) without a footer, refuses blank
// text and non-snowflake channel ids without sending, waits out 429s itself (so ctx
// is honoured; discordgo's own retry sleeps through ctx and retries without bound) and
// reports a 403 as ErrNoAccess naming the channel. PostOriginal adds the originality
// check when the caller knows the model's level.
//
// Shutdown stops taking interactions and waits for the ones in flight.
package bot
