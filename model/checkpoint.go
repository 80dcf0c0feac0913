package model

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"commentbot/tokens"
)

// Checkpoint format (all integers little-endian):
//
//	magic    8 bytes  "CBOTLM\r\n"
//	version  uint32   CheckpointVersion
//	hdrLen   uint32   length of the JSON header
//	header   JSON     config, level, vocabulary (tokens, unknown id, hash),
//	                  parameter count, training state, metrics, Adam scalars
//	weights  float32 × params
//	adam m   float32 × params   (when the header says the optimizer is present)
//	adam v   float32 × params
//	carry    float32 × carry        (the hidden state carried between batches)
//	sha256   32 bytes over everything before it
const (
	checkpointMagic = "CBOTLM\r\n"
	// CheckpointVersion is the format version Encode writes and Decode reads.
	CheckpointVersion = 1
	// MaxCheckpointBytes bounds what Decode reads.
	MaxCheckpointBytes = 1 << 32
)

// jfloat is a float64 that survives JSON as a string when not finite.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte(strconv.Quote(strconv.FormatFloat(x, 'g', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(x, 'g', -1, 64)), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		var err error
		if s, err = strconv.Unquote(s); err != nil {
			return err
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f = jfloat(x)
	return nil
}

// ckptState is TrainState in the header. Fields added after the first
// release are pointers or omitempty, so that files written before them
// decode with defaults (see Decode).
type ckptState struct {
	Epoch     int             `json:"epoch"`
	Step      int64           `json:"step"`
	Tokens    int64           `json:"tokens"`
	Position  tokens.Position `json:"position"`
	LR        jfloat          `json:"lr"`
	PeakLR    *jfloat         `json:"peak_lr,omitempty"`
	BestValid jfloat          `json:"best_valid"`
	BadEvals  int             `json:"bad_evals"`
	Plateau   *ckptPlateau    `json:"plateau,omitempty"`
	RNG       []byte          `json:"rng"`
}

type ckptPlateau struct {
	Reductions int    `json:"reductions"`
	Ref        jfloat `json:"ref"`
	RefTokens  int64  `json:"ref_tokens"`
	Best       struct {
		Step    int64  `json:"step"`
		Tokens  int64  `json:"tokens"`
		Seconds jfloat `json:"seconds"`
	} `json:"best"`
	BestStdErr jfloat `json:"best_stderr"`
}

type ckptMetric struct {
	Step      int64   `json:"step"`
	Epoch     int     `json:"epoch"`
	Tokens    int64   `json:"tokens"`
	Loss      jfloat  `json:"loss"`
	ValidLoss jfloat  `json:"valid_loss"`
	StdErr    *jfloat `json:"stderr,omitempty"`
	LR        jfloat  `json:"lr"`
	Seconds   jfloat  `json:"seconds"`
	Event     string  `json:"event,omitempty"`
}

type ckptHeader struct {
	Config    Config       `json:"config"`
	Level     string       `json:"level"`
	Tokens    []string     `json:"tokens"`
	Unknown   int          `json:"unknown"`
	VocabHash string       `json:"vocab_hash"`
	Params    int          `json:"params"`
	Optimizer bool         `json:"optimizer"`
	Beta1     jfloat       `json:"beta1"`
	Beta2     jfloat       `json:"beta2"`
	Epsilon   jfloat       `json:"epsilon"`
	AdamStep  int64        `json:"adam_step"`
	Carry     int          `json:"carry"`
	State     ckptState    `json:"state"`
	Metrics   []ckptMetric `json:"metrics"`
}

// Encode writes c to w in the checkpoint format. c.Optimizer may be nil (a
// model for serving only). Encode does not modify c, but c must not be
// trained while it is encoded.
func Encode(w io.Writer, c *Checkpoint) error {
	if c == nil || c.Model == nil {
		return fmt.Errorf("model: encode: nil checkpoint or model")
	}
	m := c.Model
	h := ckptHeader{
		Config: m.cfg, Level: m.cfg.Kind.Level(), Tokens: m.voc.tokens, Unknown: m.voc.unk,
		VocabHash: m.voc.hash, Params: m.lo.size, Carry: len(c.State.Carry),
		State: encodeState(c.State),
	}
	if a := c.Optimizer; a != nil {
		if len(a.M) != m.lo.size || len(a.V) != m.lo.size {
			return fmt.Errorf("model: encode: optimizer state for %d parameters, model has %d", len(a.M), m.lo.size)
		}
		h.Optimizer, h.Beta1, h.Beta2, h.Epsilon, h.AdamStep = true, jfloat(a.Beta1), jfloat(a.Beta2), jfloat(a.Epsilon), a.Step
	}
	for _, mt := range c.Metrics {
		se := jfloat(mt.StdErr)
		h.Metrics = append(h.Metrics, ckptMetric{Step: mt.Step, Epoch: mt.Epoch, Tokens: mt.Tokens, Loss: jfloat(mt.Loss),
			ValidLoss: jfloat(mt.ValidLoss), StdErr: &se, LR: jfloat(mt.LR), Seconds: jfloat(mt.Seconds), Event: mt.Event})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("model: encode header: %w", err)
	}
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<16)
	var buf [8]byte
	bw.WriteString(checkpointMagic)
	binary.LittleEndian.PutUint32(buf[:4], CheckpointVersion)
	bw.Write(buf[:4])
	binary.LittleEndian.PutUint32(buf[:4], uint32(len(hdr)))
	bw.Write(buf[:4])
	bw.Write(hdr)
	floats := func(xs []float32) {
		for _, x := range xs {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(x))
			bw.Write(buf[:4])
		}
	}
	floats(m.w)
	if c.Optimizer != nil {
		floats(c.Optimizer.M)
		floats(c.Optimizer.V)
	}
	floats(c.State.Carry)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("model: encode: %w", err)
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("model: encode: %w", err)
	}
	return nil
}

// Decode reads a checkpoint written by Encode. It refuses — and never
// returns a partly loaded checkpoint — data that is not a checkpoint,
// truncated or corrupted (ErrCorrupt), of another format version
// (ErrVersion), or whose vocabulary does not match its recorded hash
// (ErrVocabMismatch). c.Optimizer is nil when the checkpoint has none.
func Decode(r io.Reader) (*Checkpoint, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxCheckpointBytes+1))
	if err != nil {
		return nil, fmt.Errorf("model: decode: %w", err)
	}
	hdr, payload, err := unseal(data)
	if err != nil {
		return nil, err
	}
	h, voc, lo, err := decodeHeader(hdr)
	if err != nil {
		return nil, err
	}
	arrays := int64(1)
	if h.Optimizer {
		arrays = 3
	}
	if h.Carry < 0 || int64(len(payload)) != arrays*4*int64(lo.size)+4*int64(h.Carry) {
		return nil, corrupt("%d bytes of parameters, want %d", len(payload), arrays*4*int64(lo.size)+4*int64(h.Carry))
	}
	var carry []float32
	if h.Carry > 0 {
		carry = make([]float32, h.Carry)
	}
	floats := func(dst []float32) bool {
		for i := range dst {
			x := math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return false
			}
			dst[i] = x
		}
		payload = payload[4*len(dst):]
		return true
	}
	m := newLM(h.Config, voc)
	if !floats(m.w) {
		return nil, corrupt("non-finite weight")
	}
	c := &Checkpoint{Model: m}
	if h.Optimizer {
		a := NewAdam(lo.size, float64(h.Beta1), float64(h.Beta2), float64(h.Epsilon))
		a.Step = h.AdamStep
		if !floats(a.M) || !floats(a.V) {
			return nil, corrupt("non-finite optimizer moment")
		}
		if !(a.Beta1 >= 0 && a.Beta1 < 1 && a.Beta2 >= 0 && a.Beta2 < 1 && a.Epsilon > 0 && a.Step >= 0) {
			return nil, corrupt("optimizer parameters β₁=%v β₂=%v ε=%v step=%d", a.Beta1, a.Beta2, a.Epsilon, a.Step)
		}
		c.Optimizer = a
	}
	if !floats(carry) {
		return nil, corrupt("non-finite carried state")
	}
	if c.State, err = decodeState(h.State); err != nil {
		return nil, corrupt("%v", err)
	}
	c.State.Carry = carry
	c.Metrics = decodeMetrics(h.Metrics)
	return c, nil
}

// corrupt is an error wrapping ErrCorrupt.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// unseal checks a checkpoint's frame — size, magic, version, checksum — and
// returns its JSON header and the arrays that follow it.
func unseal(data []byte) (hdr, payload []byte, err error) {
	const fixed = len(checkpointMagic) + 8
	if len(data) > MaxCheckpointBytes {
		return nil, nil, corrupt("larger than %d bytes", MaxCheckpointBytes)
	}
	if len(data) < len(checkpointMagic) || string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, nil, corrupt("not a commentbot model checkpoint (bad magic)")
	}
	if len(data) < fixed+sha256.Size {
		return nil, nil, corrupt("truncated: %d bytes", len(data))
	}
	if v := binary.LittleEndian.Uint32(data[len(checkpointMagic):]); v != CheckpointVersion {
		return nil, nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrVersion, v, CheckpointVersion)
	}
	body, want := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], want) {
		return nil, nil, corrupt("checksum mismatch (truncated or corrupted)")
	}
	hlen := int64(binary.LittleEndian.Uint32(data[len(checkpointMagic)+4:]))
	if hlen > int64(len(body)-fixed) {
		return nil, nil, corrupt("header of %d bytes overruns the data", hlen)
	}
	return body[fixed : fixed+int(hlen)], body[fixed+int(hlen):], nil
}

// decodeHeader reads the JSON header and checks it against itself: a valid
// config, its level, a vocabulary that hashes to the recorded hash, and the
// parameter count the config needs.
func decodeHeader(hdr []byte) (ckptHeader, *vocabTable, *layout, error) {
	var h ckptHeader
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, nil, nil, corrupt("header: %v", err)
	}
	if err := h.Config.Validate(); err != nil {
		return h, nil, nil, corrupt("%v", err)
	}
	if h.Level != h.Config.Kind.Level() {
		return h, nil, nil, corrupt("level %q does not fit kind %q", h.Level, h.Config.Kind)
	}
	voc, err := newVocabTable(h.Config.Kind, h.Tokens, h.Unknown, h.VocabHash)
	if err != nil {
		return h, nil, nil, corrupt("vocabulary: %v", err)
	}
	if got := tokens.Hash(h.Tokens); got != h.VocabHash {
		return h, nil, nil, fmt.Errorf("%w: checkpoint's %d tokens hash to %.12s, recorded %.12s", ErrVocabMismatch, len(h.Tokens), got, h.VocabHash)
	}
	lo := newLayout(h.Config, len(h.Tokens))
	if h.Params != lo.size {
		return h, nil, nil, corrupt("%d parameters recorded, config needs %d", h.Params, lo.size)
	}
	return h, voc, lo, nil
}

// decodeMetrics is the training history of a header.
func decodeMetrics(ms []ckptMetric) []Metric {
	var out []Metric
	for _, mt := range ms {
		se := math.NaN() // files from before the standard error
		if mt.StdErr != nil {
			se = float64(*mt.StdErr)
		}
		out = append(out, Metric{Step: mt.Step, Epoch: mt.Epoch, Tokens: mt.Tokens, Loss: float64(mt.Loss),
			ValidLoss: float64(mt.ValidLoss), StdErr: se, LR: float64(mt.LR), Seconds: float64(mt.Seconds), Event: mt.Event})
	}
	return out
}

func encodeState(st TrainState) ckptState {
	peak := jfloat(st.PeakLR)
	pl := &ckptPlateau{Reductions: st.Plateau.Reductions, Ref: jfloat(st.Plateau.Ref), RefTokens: st.Plateau.RefTokens,
		BestStdErr: jfloat(st.Plateau.BestStdErr)}
	pl.Best.Step, pl.Best.Tokens, pl.Best.Seconds = st.Plateau.Best.Step, st.Plateau.Best.Tokens, jfloat(st.Plateau.Best.Seconds)
	return ckptState{Epoch: st.Epoch, Step: st.Step, Tokens: st.Tokens, Position: st.Position, LR: jfloat(st.LR),
		PeakLR: &peak, BestValid: jfloat(st.BestValid), BadEvals: st.BadEvals, Plateau: pl, RNG: st.RNG}
}

// decodeState checks a header's training state. A file written before the
// peak rate and the plateau bookkeeping existed gets the defaults a run in
// progress would have had: the peak is its rate, no reduction yet, and the
// patience counts from its best held-out loss at its last step.
func decodeState(s ckptState) (TrainState, error) {
	if s.Epoch < 0 || s.Step < 0 || s.Tokens < 0 || s.BadEvals < 0 || !finite(float64(s.LR)) || s.LR < 0 || math.IsNaN(float64(s.BestValid)) {
		return TrainState{}, fmt.Errorf("training state %+v", s)
	}
	if err := rand.NewPCG(0, 0).UnmarshalBinary(s.RNG); len(s.RNG) > 0 && err != nil {
		return TrainState{}, fmt.Errorf("training random state: %v", err)
	}
	st := TrainState{Epoch: s.Epoch, Step: s.Step, Tokens: s.Tokens, Position: s.Position, LR: float64(s.LR), PeakLR: float64(s.LR),
		BestValid: float64(s.BestValid), BadEvals: s.BadEvals, RNG: s.RNG,
		Plateau: PlateauState{Ref: float64(s.BestValid), RefTokens: s.Tokens, BestStdErr: math.NaN()}}
	if s.PeakLR != nil {
		st.PeakLR = float64(*s.PeakLR)
	}
	if p := s.Plateau; p != nil {
		st.Plateau = PlateauState{Reductions: p.Reductions, Ref: float64(p.Ref), RefTokens: p.RefTokens, BestStdErr: float64(p.BestStdErr),
			Best: Mark{Step: p.Best.Step, Tokens: p.Best.Tokens, Seconds: float64(p.Best.Seconds)}}
	}
	if !finite(st.PeakLR) || st.PeakLR < 0 || st.Plateau.Reductions < 0 || math.IsNaN(st.Plateau.Ref) || st.Plateau.RefTokens < 0 {
		return TrainState{}, fmt.Errorf("training state: peak rate %v, plateau %+v", st.PeakLR, st.Plateau)
	}
	return st, nil
}
