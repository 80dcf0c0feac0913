package model

import (
	"errors"
	"math"
	"testing"
)

// TestConfigValidate wants every default valid and each broken field
// refused with ErrConfig.
func TestConfigValidate(t *testing.T) {
	for _, k := range []Kind{WordLSTM, CharLSTM, RNN} {
		if err := DefaultConfig(k).Validate(); err != nil {
			t.Errorf("DefaultConfig(%s): %v", k, err)
		}
	}
	cases := []struct {
		name   string
		mutate func(*Config)
	}{
		{"unknown kind", func(c *Config) { c.Kind = "gru" }},
		{"negative embed", func(c *Config) { c.Embed = -1 }},
		{"no layers", func(c *Config) { c.Hidden = nil }},
		{"zero width", func(c *Config) { c.Hidden = []int{128, 0} }},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }},
		{"NaN dropout", func(c *Config) { c.Dropout = math.NaN() }},
		{"zero learning rate", func(c *Config) { c.LearningRate = 0 }},
		{"decay above 1", func(c *Config) { c.LRDecay = 1.1 }},
		{"beta1 1", func(c *Config) { c.Beta1 = 1 }},
		{"zero epsilon", func(c *Config) { c.Epsilon = 0 }},
		{"negative clip", func(c *Config) { c.Clip = -1 }},
		{"Inf clip", func(c *Config) { c.Clip = math.Inf(1) }},
		{"zero streams", func(c *Config) { c.Streams = 0 }},
		{"zero steps", func(c *Config) { c.Steps = 0 }},
		{"zero max temperature", func(c *Config) { c.MaxTemperature = 0 }},
		{"negative patience", func(c *Config) { c.Patience = -1 }},
	}
	for _, c := range cases {
		cfg := DefaultConfig(CharLSTM)
		c.mutate(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", c.name, err)
		}
	}
	want := map[Kind]struct {
		embed   int
		hidden  []int
		dropout float64
		lr      float64
	}{
		WordLSTM: {128, []int{256}, 0.2, 0.001},
		CharLSTM: {0, []int{128, 512}, 0.4, 0.001},
		RNN:      {64, []int{128}, 0, 0.003},
	}
	for k, w := range want {
		c := DefaultConfig(k)
		if c.Embed != w.embed || len(c.Hidden) != len(w.hidden) || c.Dropout != w.dropout || c.LearningRate != w.lr || c.Clip != 5 {
			t.Errorf("DefaultConfig(%s) = %+v", k, c)
		}
		for i := range w.hidden {
			if c.Hidden[i] != w.hidden[i] {
				t.Errorf("DefaultConfig(%s).Hidden = %v, want %v", k, c.Hidden, w.hidden)
			}
		}
	}
}
