#!/bin/sh
# A `--resume continue` handler for `rpcnetd worker --exec`: streams a completion from an
# OpenAI-compatible endpoint (llama.cpp's server, vLLM, ...) with curl, as server-sent events.
# The request's prompt is the job's prompt followed by the text already delivered to the client
# (RPCNETD_CONTEXT_FILE, empty for a new job), so a worker that takes over continues the text
# where the failed one stopped, with no gap and no repeat. Run it with --exec-framing chunks: the
# text pieces are printed as they arrive, without added newlines.
#
# Usage: complete.sh BASE_URL MODEL [MAX_TOKENS]
#   rpcnetd worker --resume continue --exec-framing chunks \
#       --exec 'examples/openai-continue/complete.sh http://127.0.0.1:8080 my-model 256'
# Needs curl and jq.
set -eu
base=${1:?usage: complete.sh BASE_URL MODEL [MAX_TOKENS]}
model=${2:?usage: complete.sh BASE_URL MODEL [MAX_TOKENS]}
max_tokens=${3:-256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cat >"$work/prompt"                         # the prompt arrives on stdin
context=${RPCNETD_CONTEXT_FILE:-/dev/null}
[ -r "$context" ] || context=/dev/null
if [ "${RPCNETD_CONTEXT_DROPPED:-0}" != 0 ]; then
    echo "complete.sh: the client dropped the first $RPCNETD_CONTEXT_DROPPED bytes of context" >&2
fi
jq -nc --rawfile p "$work/prompt" --rawfile c "$context" --arg model "$model" \
    --argjson max "$max_tokens" \
    '{model: $model, prompt: ($p + $c), max_tokens: $max, stream: true}' >"$work/request.json"

curl -sS -N --fail -X POST "$base/v1/completions" -H 'Content-Type: application/json' \
    --data-binary @"$work/request.json" |
    sed -un 's/^data: //p' |
    grep --line-buffered -v '^\[DONE\]' |
    jq --unbuffered -j '.choices[0].text // empty'
