package reddit

import (
	"fmt"
	"runtime"
)

// Credentials are the Reddit API credentials. Callers fill them from
// the environment (CredentialsFromEnv); they are never read from the
// config file nor logged.
type Credentials struct {
	ClientID, ClientSecret string // the app's id and secret (reddit.com/prefs/apps)
	Username, Password     string // a script app's own account, for the password grant
}

// CredentialsFromEnv reads REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET,
// REDDIT_USERNAME and REDDIT_PASSWORD through getenv (os.Getenv in main).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		ClientID: getenv("REDDIT_CLIENT_ID"), ClientSecret: getenv("REDDIT_CLIENT_SECRET"),
		Username: getenv("REDDIT_USERNAME"), Password: getenv("REDDIT_PASSWORD"),
	}
}

// AuthMode is how the ingester authenticates.
type AuthMode string

const (
	// AuthPassword: a script app's client id and secret plus its account's
	// username and password (OAuth password grant, go-reddit's NewClient).
	AuthPassword AuthMode = "password"
	// AuthAppOnly: client id and secret only (OAuth client_credentials grant,
	// application-only access, read-only).
	AuthAppOnly AuthMode = "app-only"
	// AuthReadonly: no credentials; unauthenticated requests to reddit.com
	// (go-reddit's NewReadonlyClient), with Reddit's lower rate limit.
	AuthReadonly AuthMode = "readonly"
)

// Mode picks the auth mode the credentials allow: all four fields →
// AuthPassword, id and secret → AuthAppOnly, else AuthReadonly.
func (c Credentials) Mode() AuthMode {
	switch {
	case c.ClientID != "" && c.ClientSecret != "" && c.Username != "" && c.Password != "":
		return AuthPassword
	case c.ClientID != "" && c.ClientSecret != "":
		return AuthAppOnly
	}
	return AuthReadonly
}

// String hides the secrets, so that a credentials value logged by accident
// leaks nothing.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{mode: %s, client_id set: %t, username: %q}", c.Mode(), c.ClientID != "", c.Username)
}

// UserAgent is a User-Agent in the form Reddit's API rules ask for:
// "<platform>:<app ID>:<version> (by /u/<username>)"; without a username the
// "(by …)" part is left out.
func UserAgent(appID, version, username string) string {
	ua := runtime.GOOS + ":" + appID + ":" + version
	if username != "" {
		ua += " (by /u/" + username + ")"
	}
	return ua
}
