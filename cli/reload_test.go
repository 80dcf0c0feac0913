package cli

import (
	"reflect"
	"strings"
	"testing"

	"commentbot/config"
)

// Every cleaning rule of the corpus section must rebuild the ingester on reload;
// a key added to config.CorpusConfig without that would be reported as applied
// while the running ingester kept its old rules (as bot_names once was).
func TestReloadRebuildsIngesterForEveryCleaningKey(t *testing.T) {
	typ := reflect.TypeFor[config.CorpusConfig]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		key = "corpus." + key
		want := key != "corpus.validation_fraction"
		if got := ingesterKey(key); got != want {
			t.Errorf("ingesterKey(%q) = %v, want %v", key, got, want)
		}
	}
	for _, key := range []string{"reddit.subreddits", "reddit.base_url", "reddit.max_per_run"} {
		if !ingesterKey(key) {
			t.Errorf("ingesterKey(%q) = false, want true", key)
		}
	}
	if ingesterKey("bot.cooldown") {
		t.Error(`ingesterKey("bot.cooldown") = true, want false`)
	}
}
