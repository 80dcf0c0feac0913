package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"commentbot/internal/fakediscord"
)

// `commentbot run` in HTTP-interactions mode (the mode for stateless replicas): with
// DISCORD_PUBLIC_KEY and bot.http_listen set, the gateway is not opened; a signed PING
// gets PONG, a signed /comment is deferred in the HTTP answer and edited through REST
// with the footer, a request signed by another key gets 401, and without a token the
// mode is refused with a reason.
func TestRunServesHTTPInteractions(t *testing.T) {
	fake := fakediscord.Start(fakediscord.Options{})
	restore := fake.Install()
	t.Cleanup(func() { fake.Close(); restore() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, deadReddit(t), deadReddit(t)+"token")
	rewriteConfig(t, cfg, "bot:\n", "bot:\n  http_listen: "+addr+"\n  guild_id: \""+e2eGuild+"\"\n")

	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize))
	secrets := map[string]string{"DISCORD_TOKEN": e2eToken, "DISCORD_APP_ID": fake.AppID(),
		"DISCORD_PUBLIC_KEY": hex.EncodeToString(priv.Public().(ed25519.PublicKey))}
	logs := &lockedBuffer{}
	env := Env{Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs, Getenv: func(k string) string { return secrets[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 2, ready: func() { close(ready) }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	}()
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatal("models not ready")
	}

	post := func(key ed25519.PrivateKey, body []byte) (int, string) {
		t.Helper()
		var resp *http.Response
		for range 50 { // the listener starts right after the models are ready
			stamp := strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
			req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(stamp), body...))))
			req.Header.Set("X-Signature-Timestamp", stamp)
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	ping := []byte(`{"id":"1","application_id":"` + fake.AppID() + `","type":1,"token":"p","version":1}`)
	if code, body := post(priv, ping); code != 200 || body != `{"type":1}` {
		t.Fatalf("PING: %d %s, want 200 PONG", code, body)
	}
	if code, _ := post(other, []byte(strings.Replace(string(ping), `"1"`, `"2"`, 1))); code != http.StatusUnauthorized {
		t.Errorf("PING signed by another key: %d, want 401", code)
	}
	if fake.Connected() {
		t.Error("HTTP mode opened the gateway too")
	}

	i := &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, GuildID: e2eGuild, ChannelID: "c1",
		AppID: fake.AppID(), Member: &discordgo.Member{User: &discordgo.User{ID: "u1"}},
		Data: discordgo.ApplicationCommandInteractionData{ID: "1", Name: "comment", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "model", Type: discordgo.ApplicationCommandOptionString, Value: "word"}}}}
	i.ID, i.Token = fake.NewInteraction()
	body, _ := json.Marshal(i)
	// The first response is the HTTP answer, which the fake cannot see: tell it.
	fake.Register(i.ID, i.Token, discordgo.InteractionResponseDeferredChannelMessageWithSource)
	code, resp := post(priv, body)
	if code != 200 || !strings.Contains(resp, `"type":5`) {
		t.Fatalf("/comment: %d %s, want 200 with a deferred response (type 5)", code, resp)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	err = fake.Wait(wctx, func() bool {
		l, ok := fake.Interaction(i.Token)
		return ok && len(l.Edits) > 0
	})
	l, _ := fake.Interaction(i.Token)
	if err != nil || len(l.Edits) == 0 || !strings.Contains(l.Edits[0].Text(), "-# word v1 · temperature 0.8 · seed") {
		t.Fatalf("no edit with the footer: %v %+v", err, l)
	}
}

// HTTP mode without a bot token is refused with the reason, before serving anything.
func TestRunHTTPInteractionsNeedsToken(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, deadReddit(t), deadReddit(t)+"token")
	rewriteConfig(t, cfg, "bot:\n", "bot:\n  http_listen: 127.0.0.1:0\n")
	env := Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		Getenv: func(k string) string {
			if k == "DISCORD_PUBLIC_KEY" {
				return strings.Repeat("ab", 32)
			}
			return ""
		}}
	err := serve(context.Background(), common{configPath: cfg}, env, runOptions{trainSteps: 1})
	if err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN") {
		t.Errorf("serve = %v, want an error naming DISCORD_TOKEN", err)
	}
}
