// Package cli is the commentbot command line: one function per subcommand, each parsing
// its own flags (every one answers --help), wiring config, store, reddit, originality,
// model, scheduler and bot together. It holds no logic a package should: it only translates flags into calls
// and results into text.
package cli
