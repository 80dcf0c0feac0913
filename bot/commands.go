package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Command names.
const (
	CmdComment = "comment"
	CmdModels  = "models"
	CmdRetrain = "retrain"
	CmdHelp    = "help" // console only
)

// moderatorPerms may /retrain: Manage Server or Administrator.
const moderatorPerms = discordgo.PermissionManageGuild | discordgo.PermissionAdministrator

// maxChoices is Discord's limit on the choices of one option.
const maxChoices = 25

// Commands returns the slash commands for the models currently enabled, as they are
// registered: /comment offers the enabled models as choices and bounds temperature,
// prompt and length by the config; /retrain is hidden from members without Manage
// Server (DefaultMemberPermissions) and from DMs.
func (b *Bot) Commands(ctx context.Context) []*discordgo.ApplicationCommand {
	models := b.gen.Models(ctx)
	var enabled, all []*discordgo.ApplicationCommandOptionChoice
	for _, m := range models {
		c := &discordgo.ApplicationCommandOptionChoice{Name: m.Name, Value: m.Name}
		if m.Enabled && len(enabled) < maxChoices {
			enabled = append(enabled, c)
		}
		if len(all) < maxChoices {
			all = append(all, c)
		}
	}
	cfg := b.conf().cfg
	minT, minLen, one := cfg.MinTemperature, 1, 1.0
	modPerms := int64(discordgo.PermissionManageGuild)
	noDM := false
	comment := &discordgo.ApplicationCommand{
		Name:        CmdComment,
		Description: "Write a Reddit-style comment with one of the bot's language models",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "model",
				Description: "which model writes (default: the best by held-out bits per character)", Choices: enabled},
			{Type: discordgo.ApplicationCommandOptionNumber, Name: "temperature",
				Description: fmt.Sprintf("randomness, %g–%g (default %g)", cfg.MinTemperature, cfg.MaxTemperature, cfg.Temperature),
				MinValue:    &minT, MaxValue: cfg.MaxTemperature},
			{Type: discordgo.ApplicationCommandOptionString, Name: "prompt",
				Description: "text for the comment to start with", MinLength: &minLen, MaxLength: cfg.MaxPromptChars},
			{Type: discordgo.ApplicationCommandOptionInteger, Name: "length",
				Description: "how many words (char models: characters) to write",
				MinValue:    &one, MaxValue: float64(cfg.MaxLength)},
		},
	}
	if cfg.MaxPromptChars == 0 {
		comment.Options = append(comment.Options[:2], comment.Options[3])
	}
	return []*discordgo.ApplicationCommand{
		comment,
		{Name: CmdModels, Description: "List the models: kind, version, when trained, held-out loss, corpus size"},
		{Name: CmdRetrain, Description: "Fine-tune a model now (moderators)",
			DefaultMemberPermissions: &modPerms, DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "model", Required: true,
					Description: "the model to fine-tune", Choices: all},
			}},
	}
}

// invocation is one command from any transport, reduced to what the handler needs.
type invocation struct {
	id        string // interaction id (logging)
	command   string
	options   map[string]any // string, float64 or json.Number values; absent = omitted
	userID    string
	channelID string
	inGuild   bool  // false in DMs (i.Member nil)
	perms     int64 // member permissions in the channel
	roles     []string
	trusted   bool // the console operator: no abuse limits, moderator everywhere
}

// fromInteraction reads an application-command interaction without ever calling a
// value method on a possibly nil option; ok is false for other interaction types.
func fromInteraction(i *discordgo.Interaction) (invocation, bool) {
	if i == nil || i.Type != discordgo.InteractionApplicationCommand {
		return invocation{}, false
	}
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok {
		return invocation{}, false
	}
	inv := invocation{id: i.ID, command: data.Name, options: map[string]any{}, channelID: i.ChannelID}
	for _, o := range data.Options {
		if o != nil && o.Value != nil {
			inv.options[o.Name] = o.Value
		}
	}
	switch {
	case i.Member != nil:
		inv.inGuild = true
		inv.perms = i.Member.Permissions
		inv.roles = i.Member.Roles
		if i.Member.User != nil {
			inv.userID = i.Member.User.ID
		}
	case i.User != nil:
		inv.userID = i.User.ID
	}
	return inv, true
}

// userError is a refusal shown to the user as is (ephemerally).
type userError struct{ msg string }

func (e userError) Error() string { return e.msg }

func refuse(format string, args ...any) error { return userError{fmt.Sprintf(format, args...)} }

func (inv invocation) str(name string) (string, bool, error) {
	v, ok := inv.options[name]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, refuse("The %s option must be text.", name)
	}
	return s, true, nil
}

// number reads a number option: a JSON number from Discord or text from the console.
func (inv invocation) number(name string) (float64, bool, error) {
	v, ok := inv.options[name]
	if !ok {
		return 0, false, nil
	}
	var f float64
	var err error
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		f, err = x.Float64()
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	default:
		err = fmt.Errorf("%T", v)
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, true, refuse("The %s option must be a number, like 0.8.", name)
	}
	return f, true, nil
}

// commentArgs are the validated options of /comment.
type commentArgs struct {
	model ModelInfo
	temp  float64
	text  string
	len   int
}

// parseComment validates /comment's options against the config and the models.
func (b *Bot) parseComment(ctx context.Context, cfg Config, inv invocation) (commentArgs, error) {
	for name := range inv.options {
		switch name {
		case "model", "temperature", "prompt", "length":
		default:
			return commentArgs{}, refuse("/comment has no option %q; it takes model, temperature, prompt and length.", name)
		}
	}
	var a commentArgs
	name, given, err := inv.str("model")
	if err != nil {
		return a, err
	}
	if a.model, err = b.pickModel(ctx, name, given); err != nil {
		return a, err
	}
	t, given, err := inv.number("temperature")
	switch {
	case err != nil:
		return a, err
	case !given:
		t = cfg.Temperature
	case t < cfg.MinTemperature || t > cfg.MaxTemperature:
		return a, refuse("Temperature %g is out of range: use a number from %g to %g.", t, cfg.MinTemperature, cfg.MaxTemperature)
	}
	a.temp = t
	if a.text, _, err = inv.str("prompt"); err != nil {
		return a, err
	}
	if n := len([]rune(a.text)); n > cfg.MaxPromptChars {
		return a, refuse("The prompt is %d characters long; the limit is %d.", n, cfg.MaxPromptChars)
	}
	l, given, err := inv.number("length")
	switch {
	case err != nil:
		return a, err
	case !given:
	case l != math.Trunc(l) || l < 1 || l > float64(cfg.MaxLength):
		return a, refuse("Length must be a whole number from 1 to %d.", cfg.MaxLength)
	default:
		a.len = int(l)
	}
	return a, nil
}

// pickModel finds the named model or, when none was given, the default one
// (ModelInfo.Default), else the first enabled one.
func (b *Bot) pickModel(ctx context.Context, name string, given bool) (ModelInfo, error) {
	models := b.gen.Models(ctx)
	var names []string
	for _, m := range models {
		if m.Enabled {
			names = append(names, m.Name)
		}
	}
	if !given || strings.TrimSpace(name) == "" {
		for _, m := range models {
			if m.Enabled && m.Default {
				return m, nil
			}
		}
		for _, m := range models {
			if m.Enabled {
				return m, nil
			}
		}
		return ModelInfo{}, refuse("No model is enabled right now; a moderator can enable one in the config.")
	}
	for _, m := range models {
		if strings.EqualFold(m.Name, name) {
			if !m.Enabled {
				return m, refuse("The model %q is switched off right now. Enabled: %s.", m.Name, listOrNone(names))
			}
			return m, nil
		}
	}
	return ModelInfo{}, refuse("There is no model called %q. Enabled: %s.", cutRunes(name, 40), listOrNone(names))
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// registrationKey is the JSON of a command set, to notice when it changed.
func registrationKey(cmds []*discordgo.ApplicationCommand) string {
	b, err := json.Marshal(cmds)
	if err != nil {
		panic(fmt.Sprintf("bot: command definitions do not marshal: %v", err)) // programmer error
	}
	return string(b)
}
