// Package config is commentbot's typed configuration: the YAML file moderators edit, the
// defaults that make the file optional, validation that reports every problem at once,
// the secrets that come only from the environment, and Watch, which reloads the file when
// it changes or on SIGHUP.
//
// Precedence: Default() is the base; Load overlays the file on it, so a file names only
// what it changes. Secrets never come from the file: a key such as discord_token in the
// file is an unknown key and is refused.
package config
