#!/bin/sh
# pretrain.sh [WORKDIR] — reproduce the shipped checkpoints in pretrained/weights from a
# fresh machine (issue 15). Run from anywhere as root (it installs Debian packages);
# WORKDIR (default: ../pt beside the repository) receives the corpora, the binary, the
# two data directories and the logs. It takes about two hours on 2 cores: both
# trainings run at once, with time budgets (112 and 55 minutes), so the step counts a
# machine reaches depend on its speed; the manifest records what this one reached.
#
#   1. Debian packages: fortunes (the fortunes, BSD-style licence) and
#      r-cran-janeaustenr (Jane Austen's six novels, public domain; R exports them).
#   2. The corpora, with tools/pretraincorpus: pt.ndjson (fortunes, Austen and the
#      project's own threads in tools/pretrain/written) for the char model, and
#      pt-word.ndjson (fortunes and the threads: conversational words) for the word model.
#   3. The binary at the current commit, and the two trainings from scratch, seed 1,
#      with tools/pretrain/char.yaml and word.yaml (default model sizes, larger batches).
#   4. tools/pretrain/export writes pretrained/weights/{char-lstm,word-lstm}.ckpt and
#      their manifest entries (provenance: corpus digest and sources, command, config,
#      seed, commit, Go version, held-out loss, bits per character on the embedded
#      sample, the sample's token coverage; the same two on ../shared/data's seed sample
#      of real Reddit comments when it is there).
# The corpora stay out of the repository; commit pretrained/weights afterwards.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$repo/../pt}
mkdir -p "$work"
work=$(cd "$work" && pwd)

missing=""
[ -f /usr/share/games/fortunes/fortunes ] || missing="$missing fortunes"
command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(janeaustenr)' >/dev/null 2>&1 || missing="$missing r-cran-janeaustenr"
if [ -n "$missing" ]; then
	echo "installing Debian packages:$missing" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
fi

cd "$repo"
echo "building the corpora in $work" >&2
Rscript -e 'library(janeaustenr); b <- austen_books(); writeLines(as.character(b$text), commandArgs(TRUE)[1])' "$work/austen.txt"
go run ./tools/pretraincorpus --fortunes /usr/share/games/fortunes --austen "$work/austen.txt" \
	--written tools/pretrain/written >"$work/pt.ndjson"
go run ./tools/pretraincorpus --fortunes /usr/share/games/fortunes \
	--written tools/pretrain/written >"$work/pt-word.ndjson"

commit=$(git rev-parse HEAD)
goversion=$(go env GOVERSION)
CGO_ENABLED=0 go build -o "$work/cb2" .
cp tools/pretrain/char.yaml tools/pretrain/word.yaml "$work/"

char_cmd="./cb2 train --config char.yaml --model char --full --minutes 112 --seed 1 --data pt.ndjson"
word_cmd="./cb2 train --config word.yaml --model word --full --minutes 55 --seed 1 --data pt-word.ndjson"
echo "training both models (about 2 hours); logs in $work/char.err and $work/word.err" >&2
(cd "$work" && $char_cmd >char.out 2>char.err) &
char_pid=$!
(cd "$work" && $word_cmd >word.out 2>word.err) &
word_pid=$!
status=0
wait $char_pid || status=$?
wait $word_pid || status=$?
if [ $status -ne 0 ]; then
	echo "a training failed (exit $status); see $work/char.err and $work/word.err" >&2
	exit $status
fi

# The seed sample (real Reddit comments, in no corpus) is measured on when it is there.
set --
seed="$repo/../shared/data/reddit-comments-2015-08.sample.csv"
[ -f "$seed" ] && set -- --reference "$seed"
go run ./tools/pretrain/export --data-dir "$work/char-data" --model char --corpus "$work/pt.ndjson" \
	--config tools/pretrain/char.yaml --seed 1 --commit "$commit" --go-version "$goversion" --command "$char_cmd" "$@"
go run ./tools/pretrain/export --data-dir "$work/word-data" --model word --corpus "$work/pt-word.ndjson" \
	--config tools/pretrain/word.yaml --seed 1 --commit "$commit" --go-version "$goversion" --command "$word_cmd" "$@"
go test ./pretrained/
echo "pretrained/weights is ready to commit" >&2
