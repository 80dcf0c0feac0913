#!/bin/sh
# measure-training.sh [OUT_DIR] — issue 14's closing-note measurement: the held-out loss
# of the default char model after MINUTES of `commentbot train --full` on Debian's
# fortunes (2.3 MB of English text, tools/fortunes-corpus.sh), for this tree built pure Go
# and with -tags openblas, beside "today's behaviour": the same builds of commit $OLD
# (default 16303c9, main before issue 14), made in a temporary git worktree. Each run
# reports why it stopped, its steps and tokens, and the held-out loss of the saved
# version on the corpus's held-out part (the same comments for every run).
#
# Environment: MINUTES (default "10 30"), BUILDS (default "go openblas old-go
# old-openblas"), OLD (default 16303c9), SEED (default 1; the old binary has no --seed),
# TOGETHER (groups of builds run side by side, e.g. "go,old-go openblas,old-openblas":
# each pair shares the machine alike, which halves the time; default: one at a time).
# Run it on a quiet machine (it prints the load first): one at a time, the defaults take
# about 2 h 45 min; in pairs 1 h 20 min. A check of the script itself:
#   MINUTES=1 tools/measure-training.sh /tmp/measure
# libopenblas-dev and the fortunes package are installed with apt-get when missing.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d /tmp/commentbot-measure.XXXXXX)}
MINUTES=${MINUTES:-"10 30"}
BUILDS=${BUILDS:-"go openblas old-go old-openblas"}
OLD=${OLD:-16303c9}
SEED=${SEED:-1}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
log() { echo "measure: $*" >&2; }

corpus=$out/fortunes.ndjson
[ -s "$corpus" ] || "$repo/tools/fortunes-corpus.sh" "$corpus"

case " $BUILDS " in *openblas*)
	if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
		log "installing libopenblas-dev"
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >&2
	fi
esac

# build SRC TAGS BIN
build() {
	log "building $3 from $1${2:+ with -tags $2}"
	if [ -n "$2" ]; then
		(cd "$1" && go build -tags "$2" -o "$3" .)
	else
		(cd "$1" && CGO_ENABLED=0 go build -o "$3" .)
	fi
}
for b in $BUILDS; do
	case $b in
	go) build "$repo" "" "$out/bin/go" ;;
	openblas) build "$repo" openblas "$out/bin/openblas" ;;
	old-go | old-openblas) ;;
	*) log "unknown build $b (go, openblas, old-go, old-openblas)"; exit 2 ;;
	esac
done
case " $BUILDS " in *" old-"*)
	src=$out/old-src
	[ -d "$src" ] && git -C "$repo" worktree remove --force "$src"
	git -C "$repo" worktree add --detach "$src" "$OLD" >&2
	for b in $BUILDS; do
		case $b in
		old-go) build "$src" "" "$out/bin/old-go" ;;
		old-openblas) build "$src" openblas "$out/bin/old-openblas" ;;
		esac
	done
	git -C "$repo" worktree remove --force "$src"
esac

log "load before the runs: $(uptime)"

# measure B M: one `train --minutes M` of build B; its row of the table goes to
# run-B-M/row.tsv.
measure() {
	b=$1 m=$2 dir=$out/run-$1-$2
	rm -rf "$dir"
	mkdir -p "$dir"
	# Only keys every build knows: each build trains with its own model defaults.
	cat >"$dir/commentbot.yaml" <<-EOF
		data_dir: $dir/data
		log_level: warn
		metrics:
		  listen: ""
		reddit:
		  base_url: "http://127.0.0.1:1/"
		  token_url: "http://127.0.0.1:1/token"
	EOF
	set -- "$out/bin/$b" train --config "$dir/commentbot.yaml" --model char --full --minutes "$m" --data "$corpus"
	case $b in old-*) ;; *) set -- "$@" --seed "$SEED" ;; esac
	log "$*"
	start=$(date +%s)
	"$@" >"$dir/stdout" 2>"$dir/stderr" || { log "$b failed: $(tail -3 "$dir/stderr")"; return 0; }
	wall=$(($(date +%s) - start))
	stop=$(grep -o 'stopped: [a-z-]*' "$dir/stdout" | head -1 | cut -d' ' -f2)
	steps=$(sed -n 's/.*: \([0-9]*\) steps, \([0-9]*\) tokens in.*/\1/p' "$dir/stdout" | head -1)
	tokens=$(sed -n 's/.*: \([0-9]*\) steps, \([0-9]*\) tokens in.*/\2/p' "$dir/stdout" | head -1)
	nats=$(sed -n 's/^  held-out \([0-9.]*\) nats\/char = \([0-9.]*\) bits.*/\1/p' "$dir/stdout")
	bits=$(sed -n 's/^  held-out \([0-9.]*\) nats\/char = \([0-9.]*\) bits.*/\2/p' "$dir/stdout")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$m" "$stop" "$steps" "$tokens" "$nats" "$bits" "$wall" >"$dir/row.tsv"
}

results=$out/results.tsv
printf 'build\tminutes\tstop\tsteps\ttokens\theld-out nats/char\tbits/char\twall s\n' >"$results"
for m in $MINUTES; do
	for group in ${TOGETHER:-$BUILDS}; do
		members=$(echo "$group" | tr , ' ')
		for b in $members; do measure "$b" "$m" & done
		wait
		for b in $members; do
			cat "$out/run-$b-$m/stdout" >&2
			cat "$out/run-$b-$m/row.tsv" >>"$results" 2>/dev/null || true
		done
	done
done
echo
column -t -s "$(printf '\t')" "$results" 2>/dev/null || cat "$results"
log "runs, logs and loss curves (data/models/char/loss.png) under $out"
