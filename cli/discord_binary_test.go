package cli

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"commentbot/internal/fakediscord"
)

// freeAddr returns a loopback address nothing listens on yet.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// discordBinary is the binary serving Discord (a fake reached through bot.api_url)
// in gateway or HTTP mode, with /healthz on metrics.
type discordBinary struct {
	*proc
	fake    *fakediscord.Server
	cfg     string
	metrics string // host:port of /metrics and /healthz
	listen  string // host:port of the interactions endpoint (HTTP mode)
	key     ed25519.PrivateKey
}

// startDiscordBinary starts `commentbot run` against fake, in HTTP mode when http.
func startDiscordBinary(t *testing.T, fake *fakediscord.Server, http bool) *discordBinary {
	t.Helper()
	dir := t.TempDir()
	d := &discordBinary{fake: fake, cfg: binConfig(t, dir, false), metrics: freeAddr(t),
		key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))}
	bot := fmt.Sprintf("bot:\n  guild_id: %q\n  api_url: %q\n", e2eGuild, fake.APIURL())
	env := map[string]string{"DISCORD_TOKEN": e2eToken, "DISCORD_APP_ID": fake.AppID()}
	if http {
		d.listen = freeAddr(t)
		bot += "  http_listen: " + d.listen + "\n"
		env["DISCORD_PUBLIC_KEY"] = hex.EncodeToString(d.key.Public().(ed25519.PublicKey))
	}
	rewriteConfig(t, d.cfg, "bot:\n", bot)
	rewriteConfig(t, d.cfg, "metrics:\n  listen: \"\"\n", "metrics:\n  listen: "+d.metrics+"\n")
	d.proc = startBinary(t, env, "run", "--config", d.cfg)
	return d
}

// health reads /healthz's discord entry; ok is false while it cannot be read.
func (d *discordBinary) health() (map[string]any, bool) {
	resp, err := http.Get("http://" + d.metrics + "/healthz")
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var body struct {
		Discord map[string]any `json:"discord"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return nil, false
	}
	return body.Discord, true
}

// waitHealth waits until /healthz's discord entry satisfies cond and returns it.
func (d *discordBinary) waitHealth(what string, within time.Duration, cond func(map[string]any) bool) map[string]any {
	d.t.Helper()
	var h map[string]any
	d.waitFor("/healthz with "+what, within, func() bool {
		var ok bool
		h, ok = d.health()
		return ok && cond(h)
	})
	return h
}

// signed sends body to the interactions endpoint, signed now with the app's key.
func (d *discordBinary) signed(t *testing.T, body []byte) (int, string) {
	t.Helper()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.listen+"/", bytes.NewReader(body))
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(d.key, append([]byte(stamp), body...))))
	req.Header.Set("X-Signature-Timestamp", stamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(out))
}

// Tried, on the real binary in both Discord modes: Discord's REST API failing at
// start — the command registration answering 500 three times (HTTP mode), the gateway
// lookup 503 twice and then the registration 500 twice (gateway mode). Survives: the
// bot does not exit; the log says it retries; /healthz reports the failure with the
// error; in HTTP mode a signed PING gets PONG meanwhile; the registration succeeds on
// a later attempt and /healthz says registered (and connected). Then a reload lowers
// bot.max_temperature: the commands are registered again with the new bound.
func TestBinaryDiscordRESTDownAtStart(t *testing.T) {
	for _, mode := range []string{"http", "gateway"} {
		t.Run(mode, func(t *testing.T) {
			fake := fakediscord.Start(fakediscord.Options{HeartbeatInterval: 2 * time.Second})
			t.Cleanup(fake.Close)
			if mode == "http" {
				fake.InjectError(http.MethodPut, "/commands", 3, http.StatusInternalServerError, 0, "Internal Server Error")
			} else {
				fake.InjectError(http.MethodGet, "/gateway", 2, http.StatusServiceUnavailable, 0, "upstream connect error")
				fake.InjectError(http.MethodPut, "/commands", 2, http.StatusInternalServerError, 0, "Internal Server Error")
			}
			d := startDiscordBinary(t, fake, mode == "http")
			if mode == "http" {
				h := d.waitHealth("a failed registration", 60*time.Second, func(h map[string]any) bool { return h["commands"] == "retrying" })
				if !strings.Contains(fmt.Sprint(h["last_error"]), "500") || h["next_attempt"] == nil {
					t.Errorf("/healthz during the failures: %v", h)
				}
				ping := []byte(`{"id":"1","application_id":"` + fake.AppID() + `","type":1,"token":"p","version":1}`)
				if code, body := d.signed(t, ping); code != http.StatusOK || body != `{"type":1}` {
					t.Errorf("PING while registration fails: %d %s", code, body)
				}
			} else {
				h := d.waitHealth("the gateway retrying", 60*time.Second, func(h map[string]any) bool { return h["gateway_error"] != nil })
				if h["gateway"] != "connecting" || !strings.Contains(fmt.Sprint(h["gateway_error"]), "503") {
					t.Errorf("/healthz while the gateway lookup fails: %v", h)
				}
			}
			h := d.waitHealth("registered commands", 60*time.Second, func(h map[string]any) bool { return h["commands"] == "registered" })
			if mode == "gateway" && h["gateway"] != "connected" {
				t.Errorf("/healthz after the retries: %v", h)
			}
			if cmds, _ := fake.Commands(e2eGuild); len(cmds) != 3 {
				t.Errorf("%d commands registered after the retries", len(cmds))
			}
			if !strings.Contains(d.stderr.String(), "retries") {
				t.Errorf("the log does not say the bot retries")
			}

			rewriteConfig(t, d.cfg, "bot:\n", "bot:\n  max_temperature: 1.2\n")
			d.waitFor("the commands registered with max_temperature 1.2", 20*time.Second, func() bool {
				cmds, _ := fake.Commands(e2eGuild)
				return len(cmds) == 3 && cmds[0].Options[1].MaxValue == 1.2
			})
			if code := d.stop(30 * time.Second); code != 0 {
				t.Errorf("exit code %d after SIGTERM", code)
			}
		})
	}
}

// closed reads from conn until the server closes it and reports how long that took.
func closed(conn net.Conn, start time.Time) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		ch <- time.Since(start)
	}()
	return ch
}

// trickle writes one byte of data every interval until it is all sent or a write fails.
func trickle(conn net.Conn, data string, interval time.Duration) {
	for i := range len(data) {
		if _, err := conn.Write([]byte{data[i]}); err != nil {
			return
		}
		time.Sleep(interval)
	}
}

// Tried, against the real binary's interactions listener with raw TCP: a client that
// sends its headers and then one byte of its 100-byte body every 2 s; one that sends
// its headers a byte a second; one that makes a request and then keeps the connection
// open doing nothing; and a signed 2 MiB body. Survives: the slow body is cut off by
// the 10 s read timeout, the slow headers by the 5 s header timeout, the idle
// connection by the 30 s idle timeout (each closed by the server long before the
// client would finish), the big body gets 413, and a PING still gets PONG.
func TestBinarySlowClients(t *testing.T) {
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	d := startDiscordBinary(t, fake, true)
	ping := []byte(`{"id":"1","application_id":"` + fake.AppID() + `","type":1,"token":"p","version":1}`)
	d.waitFor("the interactions listener", 30*time.Second, func() bool {
		c, err := net.Dial("tcp", d.listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	dial := func() net.Conn {
		c, err := net.Dial("tcp", d.listen)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	start := time.Now()
	body := dial()
	go func() {
		fmt.Fprintf(body, "POST / HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
		trickle(body, strings.Repeat("x", 100), 2*time.Second)
	}()
	bodyClosed := closed(body, start)
	headers := dial()
	go trickle(headers, "POST / HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", time.Second)
	headersClosed := closed(headers, start)
	idle := dial()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	fmt.Fprintf(idle, "POST / HTTP/1.1\r\nHost: bot\r\nContent-Length: %d\r\nX-Signature-Ed25519: %s\r\nX-Signature-Timestamp: %s\r\n\r\n%s",
		len(ping), hex.EncodeToString(ed25519.Sign(d.key, append([]byte(stamp), ping...))), stamp, ping)
	idleClosed := closed(idle, start)

	big := bytes.Repeat([]byte(" "), 2<<20)
	if code, _ := d.signed(t, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: %d, want 413", code)
	}
	ping2 := bytes.Replace(ping, []byte(`"1"`), []byte(`"2"`), 1)
	if code, body := d.signed(t, ping2); code != http.StatusOK || body != `{"type":1}` {
		t.Errorf("PING beside the slow clients: %d %s", code, body)
	}
	for _, c := range []struct {
		name     string
		ch       <-chan time.Duration
		min, max time.Duration
	}{
		{"slow headers", headersClosed, 4 * time.Second, 20 * time.Second},  // the client needed ~95 s
		{"slow body", bodyClosed, 9 * time.Second, 25 * time.Second},        // the client needed ~200 s
		{"idle connection", idleClosed, 25 * time.Second, 50 * time.Second}, // the client never closes
	} {
		select {
		case d := <-c.ch:
			if d < c.min || d > c.max {
				t.Errorf("%s closed after %v, want between %v and %v", c.name, d.Round(time.Millisecond), c.min, c.max)
			}
		case <-time.After(90 * time.Second):
			t.Errorf("%s still open after 90 s", c.name)
		}
	}
}
