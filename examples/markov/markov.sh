#!/bin/sh
# A deterministic text generator for `rpcnetd worker --exec … --resume replay`: a word-level
# Markov chain over alice.txt (Lewis Carroll, "Alice's Adventures in Wonderland", 1865, public
# domain), driven by a Park-Miller generator seeded from RPCNETD_SEED. The same job gives the
# same lines on every worker, so a worker that takes over replays the job and drops the lines
# the client already has.
#
# Usage: markov.sh [LINES [WORDS_PER_LINE [DELAY_SECONDS]]]   (defaults 200, 8, 0)
# The first word of the prompt (stdin) picks the starting word when the text has it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lines=${1:-200}
words=${2:-8}
delay=${3:-0}
seed=${RPCNETD_SEED:-1}
# The prompt arrives on stdin (and in RPCNETD_PROMPT); only its first word is used.
prompt=$(head -c 4096 | awk 'NF { print $1; exit }')

exec awk -v lines="$lines" -v words="$words" -v delay="$delay" -v seed="$seed" \
    -v start="$prompt" '
function rand31() { state = (state * 16807) % 2147483647; return state }
{
    for (i = 1; i <= NF; i++) {
        w = $i
        if (prev != "") { n = count[prev]++; next_word[prev, n] = w }
        words_seen[++total] = w
        prev = w
    }
}
END {
    # Seed: the last 9 digits of the 64-bit RPCNETD_SEED (awk numbers are doubles), never 0.
    state = substr(seed, length(seed) > 9 ? length(seed) - 8 : 1) % 2147483646 + 1
    w = (start in count) ? start : words_seen[rand31() % total + 1]
    for (l = 1; l <= lines; l++) {
        line = ""
        for (k = 0; k < words; k++) {
            line = line (k ? " " : "") w
            w = (w in count) ? next_word[w, rand31() % count[w]] : words_seen[rand31() % total + 1]
        }
        print line
        fflush()
        if (delay > 0) system("sleep " delay)
    }
}' "$here/alice.txt"
