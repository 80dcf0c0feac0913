package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"commentbot/config"
)

// ErrMismatch marks a checkpoint that does not fit its model's slot: another kind,
// token level or size than the config says, or a vocabulary other than the one its
// metadata records (a file from another lineage).
var ErrMismatch = errors.New("scheduler: checkpoint does not match the config")

// Check reports, wrapping ErrMismatch and naming every difference, why m — version
// info.Version of the model configured as mc — may not serve as that model:
//
//   - its kind is not mc.Kind, or its vocabulary is not of the kind's token level;
//   - its embedding width or recurrent layer widths differ from the config's;
//   - its vocabulary is larger than vocab_size plus the level's special tokens;
//   - its vocabulary hash differs from the one recorded in the version's metadata.
//
// A nil result means it may serve.
func Check(mc config.ModelConfig, info VersionInfo, m Model) error {
	sp := m.Spec()
	want := ModelConfig(mc)
	level := levelOf(want.Kind)
	var why []string
	if sp.Kind != mc.Kind {
		why = append(why, fmt.Sprintf("it is a %s checkpoint and the config says %s", sp.Kind, mc.Kind))
	}
	if sp.Level != string(level) {
		why = append(why, fmt.Sprintf("its vocabulary is %s-level and %s needs %s-level", orNone(sp.Level), mc.Kind, level))
	}
	if sp.Embed != want.Embed {
		why = append(why, fmt.Sprintf("embedding width %d, the config says %d", sp.Embed, want.Embed))
	}
	if !slices.Equal(sp.Hidden, want.Hidden) {
		why = append(why, fmt.Sprintf("hidden layers %v, the config says %v", sp.Hidden, want.Hidden))
	}
	if limit := mc.VocabSize + len(level.Specials()); sp.Vocab > limit {
		why = append(why, fmt.Sprintf("%d vocabulary tokens, the config allows %d", sp.Vocab, limit))
	}
	if info.VocabHash != "" && info.VocabHash != m.VocabHash() {
		why = append(why, fmt.Sprintf("its vocabulary is not the one recorded in the metadata of v%d (a checkpoint of another lineage)", info.Version))
	}
	if len(why) > 0 {
		return fmt.Errorf("%w: %s v%d: %s", ErrMismatch, mc.Name, info.Version, strings.Join(why, "; "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
