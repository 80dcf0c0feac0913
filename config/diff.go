package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// A Change is one key whose value differs between two configs.
type Change struct {
	// Key is the YAML path: "bot.max_temperature", "models[char].hidden", or
	// "models[rnn]" for a model added or removed.
	Key string
	// Old and New are the values as the file would spell them (long ones cut);
	// "(absent)" for a model that is not in that config.
	Old, New string
}

// String is "key: old → new".
func (c Change) String() string { return c.Key + ": " + c.Old + " → " + c.New }

// Diff lists every key whose value differs from a to b, in the order of the file;
// models are matched by name, so reordering them changes nothing.
func Diff(a, b Config) []Change {
	var out []Change
	diffStruct("", reflect.ValueOf(a), reflect.ValueOf(b), &out)
	return out
}

var modelsType = reflect.TypeFor[Models]()

func diffStruct(prefix string, a, b reflect.Value, out *[]Change) {
	t := a.Type()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		key = prefix + key
		fa, fb := a.Field(i), b.Field(i)
		switch {
		case fa.Type() == modelsType:
			diffModels(key, fa.Interface().(Models), fb.Interface().(Models), out)
		case fa.Kind() == reflect.Struct:
			diffStruct(key+".", fa, fb, out)
		case !reflect.DeepEqual(fa.Interface(), fb.Interface()):
			*out = append(*out, Change{Key: key, Old: show(fa), New: show(fb)})
		}
	}
}

func diffModels(key string, a, b Models, out *[]Change) {
	byName := func(ms Models) map[string]ModelConfig {
		m := make(map[string]ModelConfig, len(ms))
		for _, mc := range ms {
			m[mc.Name] = mc
		}
		return m
	}
	am, bm := byName(a), byName(b)
	for _, mc := range a {
		k := fmt.Sprintf("%s[%s]", key, mc.Name)
		if nb, ok := bm[mc.Name]; ok {
			diffStruct(k+".", reflect.ValueOf(mc), reflect.ValueOf(nb), out)
		} else {
			*out = append(*out, Change{Key: k, Old: mc.Kind, New: "(absent)"})
		}
	}
	for _, mc := range b {
		if _, ok := am[mc.Name]; !ok {
			*out = append(*out, Change{Key: fmt.Sprintf("%s[%s]", key, mc.Name), Old: "(absent)", New: mc.Kind})
		}
	}
}

// show renders a value compactly: strings quoted, durations as "10s", lists in
// brackets, at most 60 characters.
func show(v reflect.Value) string {
	var s string
	switch x := v.Interface().(type) {
	case string:
		s = fmt.Sprintf("%q", x)
	case time.Duration:
		s = x.String()
	default:
		s = fmt.Sprintf("%v", x)
	}
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return s
}
