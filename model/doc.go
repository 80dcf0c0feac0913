// Package model is commentbot's language model: one recurrent network over
// token ids that serves the three configurations of the product —
// word-lstm (embedding → LSTM → softmax), char-lstm (one-hot → LSTM →
// dropout → LSTM → dropout → softmax) and rnn (the seed's tanh RNN) — with
// its training, evaluation, sampling and checkpoint codec.
//
// It works on token ids only: batches of ids (tokens.Batch) come in, a
// sample's ids go out, and the caller encodes prompts and decodes samples
// (package text). Besides the standard library, gonum and its own kernels
// (model/kernel) it imports only the leaf package tokens (special tokens,
// the vocabulary hash, Batch), so it links no tokenizer, store or network
// client.
//
// # Model
//
// An LM maps token ids to an input (a learned embedding row, or for one-hot
// input the id's row of the first layer's input weights), runs a stack of
// LSTM or tanh-RNN layers with inverted dropout between them and before the
// output, and ends in a softmax over the vocabulary. The equations are on
// work.forward and work.backward (forward.go, backward.go). Sizes and
// hyper-parameters are a Config; DefaultConfig gives the product defaults
// per Kind, which package config presents as the defaults of its models.
//
// # Numerics and speed
//
// The numeric core is generic over kernel.Float: training and sampling run
// in float32, and the gradient check runs the same code in float64 against
// finite differences. One LSTM cell (cell.go: lstmCell and
// lstmCellBackward) serves training and sampling in both precisions.
// Training is minibatched truncated BPTT over B streams × T steps predicting
// every position, with the hidden state carried from batch to batch;
// forward.go and backward.go read layer by layer, with the shape of every
// product. The large products are GEMMs: the input projection of all T
// steps of a layer at once, one recurrent GEMM per step, the output layer
// for all steps at once, and the weight gradients as whole-sequence GEMMs.
// Workspaces are allocated once per batch shape; nothing is allocated in the
// step loop. Row strides that are multiples of 64 floats are padded by a
// cache line (power-of-two strides made gonum's GEMM up to 2× slower).
// Sampling is batch 1 (GEMV) with pooled per-call scratch.
//
// The kernels and BLAS backends — Go assembly, the GEMM worker pool,
// OpenBLAS under -tags openblas, -tags purego — are package model/kernel.
//
// # Training
//
// Train runs Adam with global-norm clipping, dropout, a learning-rate
// Schedule over the budget (constant, cosine or anneal) and per-epoch decay over a
// Batches stream (a *corpus.Batcher). It evaluates on held-out batches with
// the standard error over comments (Eval.StdErr); a Plateau — no improvement
// beyond twice the paired error of a difference on the same comments
// (Eval.DiffStdErr) for a share of the budget — restores the best weights and
// halves the rate a few times, then stops; divergence stops on the best
// weights (the last finite ones without an evaluation). It honours ctx at
// every step and a budget of epochs, steps or time, and reports Progress to
// a callback. Everything needed to resume — weights, Adam moments, data
// position, carried state, dropout RNG state, metrics — is a Checkpoint, encoded with Encode and read back with Decode through
// io.Writer/io.Reader; the package opens no files (write the atomic
// temp-file/fsync/rename helper where files are owned).
//
// # Concurrency
//
// Sample, Evaluate and Clone only read an LM, so many goroutines may sample
// from one model while another goroutine trains a Clone. Randomness is always
// injected (a rand.Source for initialisation, a seed for sampling and
// dropout); there is no package-level mutable state.
package model
