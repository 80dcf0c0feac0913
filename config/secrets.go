package config

import (
	"fmt"
	"log/slog"
)

// Secrets come from the environment only, never from the config file, and are never
// logged: String and LogValue print which are set, not their values.
type Secrets struct {
	DiscordToken     string // DISCORD_TOKEN: the gateway transport
	DiscordAppID     string // DISCORD_APP_ID
	DiscordPublicKey string // DISCORD_PUBLIC_KEY: hex ed25519 key of the HTTP interactions endpoint
	RedditClientID   string // REDDIT_CLIENT_ID
	RedditSecret     string // REDDIT_CLIENT_SECRET
	RedditUsername   string // REDDIT_USERNAME: with REDDIT_PASSWORD, the script-app password grant
	RedditPassword   string // REDDIT_PASSWORD
}

// SecretsFromEnv reads the secrets through getenv (os.Getenv in the program).
func SecretsFromEnv(getenv func(string) string) Secrets {
	return Secrets{
		DiscordToken:     getenv("DISCORD_TOKEN"),
		DiscordAppID:     getenv("DISCORD_APP_ID"),
		DiscordPublicKey: getenv("DISCORD_PUBLIC_KEY"),
		RedditClientID:   getenv("REDDIT_CLIENT_ID"),
		RedditSecret:     getenv("REDDIT_CLIENT_SECRET"),
		RedditUsername:   getenv("REDDIT_USERNAME"),
		RedditPassword:   getenv("REDDIT_PASSWORD"),
	}
}

// String names the secrets that are set, never their values.
func (s Secrets) String() string {
	set := func(v string) string {
		if v == "" {
			return "unset"
		}
		return "set"
	}
	return fmt.Sprintf("discord_token=%s discord_app_id=%s discord_public_key=%s reddit_client_id=%s reddit_client_secret=%s reddit_username=%s reddit_password=%s",
		set(s.DiscordToken), set(s.DiscordAppID), set(s.DiscordPublicKey), set(s.RedditClientID), set(s.RedditSecret), set(s.RedditUsername), set(s.RedditPassword))
}

// GoString keeps %#v from printing the values.
func (s Secrets) GoString() string { return "config.Secrets{" + s.String() + "}" }

// Format keeps every fmt verb from printing the values.
func (s Secrets) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue keeps log/slog from printing the values.
func (s Secrets) LogValue() slog.Value { return slog.StringValue(s.String()) }
