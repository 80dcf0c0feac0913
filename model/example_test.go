package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"commentbot/model"
	"commentbot/text"
	"commentbot/tokens"
)

// A model is built from a Config and a vocabulary, sampled with a seed (same
// seed, same text), and saved and restored through Encode/Decode. It works
// on token ids: the caller encodes the prompt and decodes the sample.
func Example() {
	v, _ := text.NewVocab([]string{tokens.CharUnknown, tokens.CharEnd, "a", "b", "c", " "})
	cfg := model.DefaultConfig(model.CharLSTM)
	cfg.Hidden = []int{16, 16}
	m, err := model.New(cfg, v, rand.NewPCG(1, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	level := text.Level(m.Kind().Level())
	prompt := level.Prompt("ab")
	o := model.SampleOptions{Temperature: 0.8, Prompt: v.Encode(prompt, nil), MaxTokens: 20, Seed: 42}
	sample := func(m *model.LM) string {
		s, _ := m.Sample(context.Background(), o)
		return level.Text(append(prompt, v.Decode(s.Tokens, nil)...))
	}
	s1, s2 := sample(m), sample(m)
	fmt.Println("same seed, same text:", s1 == s2)
	fmt.Println("continues the prompt:", strings.HasPrefix(s1, "ab"))

	_, err = m.Sample(context.Background(), model.SampleOptions{Temperature: 5})
	fmt.Println("temperature 5 refused:", errors.Is(err, model.ErrTemperature))

	var buf bytes.Buffer
	if err := model.Encode(&buf, model.NewCheckpoint(m, 7)); err != nil {
		fmt.Println(err)
		return
	}
	cp, err := model.Decode(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("restored model, same text:", sample(cp.Model) == s1)
	// Output:
	// same seed, same text: true
	// continues the prompt: true
	// temperature 5 refused: true
	// restored model, same text: true
}
