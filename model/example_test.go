package model_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"commentbot/model"
	"commentbot/text"
	"commentbot/tokens"
)

// A model is built from a Config and a vocabulary, sampled with a seed (same
// seed, same text), and saved and restored through Encode/Decode.
func Example() {
	v, _ := text.NewVocab([]string{tokens.CharUnknown, tokens.CharEnd, "a", "b", "c", " "})
	cfg := model.DefaultConfig(model.CharLSTM)
	cfg.Hidden = []int{16, 16}
	m, err := model.New(cfg, v, rand.NewPCG(1, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	o := model.SampleOptions{Temperature: 0.8, Prompt: "ab", MaxTokens: 20, Seed: 42}
	s1, _ := m.Sample(context.Background(), o)
	s2, _ := m.Sample(context.Background(), o)
	fmt.Println("same seed, same text:", s1.Text == s2.Text)

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
	s3, _ := cp.Model.Sample(context.Background(), o)
	fmt.Println("restored model, same text:", s3.Text == s1.Text)
	// Output:
	// same seed, same text: true
	// temperature 5 refused: true
	// restored model, same text: true
}
