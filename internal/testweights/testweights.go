// Package testweights builds, at test time, a directory of shipped
// checkpoints in the layout of package pretrained (manifest.json and one
// <kind>.ckpt per model): real, serving-only checkpoints of small models with
// vocabularies counted on the embedded sample, so that tests exercise the
// pretrained start without committing weights. The models are freshly
// initialised, not trained: tests check the plumbing, not the prose.
package testweights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"testing/fstest"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/model"
	"commentbot/pretrained"
	"commentbot/scheduler"
)

// Build returns a file system holding manifest.json and a checkpoint for each
// of mcs (one per kind), shaped as the configs say.
func Build(ctx context.Context, seed uint64, mcs ...config.ModelConfig) (fstest.MapFS, error) {
	fsys := fstest.MapFS{}
	man := pretrained.Manifest{Format: 1}
	for _, mc := range mcs {
		data, cp, err := checkpoint(ctx, mc, seed)
		if err != nil {
			return nil, fmt.Errorf("testweights: %s: %w", mc.Name, err)
		}
		lm, sum := cp.Model, sha256.Sum256(data)
		e := pretrained.Entry{
			Kind: mc.Kind, File: mc.Kind + ".ckpt", Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			VocabHash: lm.VocabHash(), VocabSize: lm.VocabSize(), Embed: lm.Config().Embed, Hidden: lm.Config().Hidden,
			Steps: cp.State.Step, Seed: seed, Trained: time.Unix(1_790_000_000, 0).UTC(),
			ConfigFile: "(test)", Command: "testweights.Build", Commit: "test", GoVersion: runtime.Version(),
			Corpus: pretrained.Corpus{File: "embedded sample", SHA256: "test", Comments: 1,
				Sources: []pretrained.Source{{Name: "the test sample", Origin: "corpus.Sample", Licence: "the project's"}}},
			Licence: "test weights, never shipped",
		}
		man.Models = append(man.Models, e)
		fsys[e.File] = &fstest.MapFile{Data: data}
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	fsys[pretrained.ManifestFile] = &fstest.MapFile{Data: raw}
	return fsys, nil
}

// checkpoint is a new model of mc's shape, encoded serving-only.
func checkpoint(ctx context.Context, mc config.ModelConfig, seed uint64) ([]byte, *model.Checkpoint, error) {
	m, err := scheduler.ModelEngine{}.New(ctx, mc, corpus.Sample(), seed)
	if err != nil {
		return nil, nil, err
	}
	var full bytes.Buffer
	if err := m.Encode(&full); err != nil {
		return nil, nil, err
	}
	cp, err := model.Decode(&full)
	if err != nil {
		return nil, nil, err
	}
	cp = cp.Serving()
	var out bytes.Buffer
	if err := model.Encode(&out, cp); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), cp, nil
}
