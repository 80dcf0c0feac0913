#!/bin/sh
# fortunes-corpus.sh OUT.ndjson — a real-English measurement corpus from Debian's
# `fortunes` package: every fortune (the text between two "%" lines) of the English
# files becomes one NDJSON comment line, the format `commentbot import` and
# `commentbot train --data` read. About 15,000 fortunes, 2.4 MB of text.
#
# Skipped: art and ascii-art (pictures, not prose), the Portuguese mario.* files of
# fortunes-mario, index files (*.dat), the *.u8 links and any off/ directory.
# Overstriking (x BACKSPACE x, _ BACKSPACE x) is reduced to the printed character.
# The package is installed with apt-get when missing. The corpus is measurement data:
# keep it out of the repository.
set -eu

out=${1:?usage: fortunes-corpus.sh OUT.ndjson}
dir=/usr/share/games/fortunes

if [ ! -f "$dir/fortunes" ]; then
	echo "installing Debian's fortunes package" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes >&2
fi

files=""
for f in "$dir"/*; do
	name=${f##*/}
	[ -f "$f" ] && [ ! -L "$f" ] || continue # directories (off/) and the .u8 links
	case $name in
	*.dat | art | ascii-art | mario.*) continue ;;
	esac
	files="$files $f"
done
[ -n "$files" ] || { echo "no fortune files in $dir" >&2; exit 1; }

# One JSON object per fortune: id "<file>-<n>" (stable, so the held-out split is
# the same in every run), author "fortune", subreddit the file's name.
# shellcheck disable=SC2086 # the file list is split on purpose
perl -CSD -e '
	use strict; use warnings;
	sub js { my $s = shift; $s =~ s/([\\"])/\\$1/g; $s =~ s/\n/\\n/g; $s =~ s/\t/\\t/g;
		$s =~ s/([\x00-\x1f])/sprintf("\\u%04x", ord $1)/ge; return "\"$s\"" }
	my ($n, $bytes) = (0, 0);
	for my $file (@ARGV) {
		open(my $fh, "<:encoding(UTF-8)", $file) or die "$file: $!";
		local $/; my $text = <$fh>; close $fh;
		(my $base = $file) =~ s{.*/}{};
		my $i = 0;
		for my $f (split /^%[ \t]*\n/m, $text) {
			1 while $f =~ s/[^\x08]\x08//g; # overstriking: keep what was printed last
			$f =~ s/\x08//g;
			$f =~ s/\s+\z//; $f =~ s/\A\s*\n//;
			next if $f eq "";
			$i++;
			print "{\"id\":", js("$base-$i"), ",\"subreddit\":", js($base), ",\"author\":\"fortune\",\"body\":", js($f), "}\n";
			$n++; $bytes += length $f;
		}
	}
	printf STDERR "%d fortunes, %.2f MB of text\n", $n, $bytes / 1e6;
' $files >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out" >&2
