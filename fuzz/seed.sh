#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the test fixtures (the corpus folders
# are not committed; libFuzzer adds what it finds to them). Idempotent.
# Usage: fuzz/seed.sh   (from anywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
fx="$root/tests/fixtures"
c="$here/corpus"
mkdir -p "$c/claude_jsonl" "$c/render_page" "$c/jsonl_reader" "$c/opencode_export" \
    "$c/opencode_store" "$c/markdown_highlight" "$c/markdown_export"

# Claude Code transcripts (the small ones: libFuzzer caps input size).
find "$fx/claude-code" "$root/tests/browser/fixtures" -name '*.jsonl' -size -64k | while read -r f; do
    n=$(printf '%s' "$f" | sha1sum | cut -c1-16)
    cp "$f" "$c/claude_jsonl/$n"
    cp "$f" "$c/render_page/$n"
    cp "$f" "$c/jsonl_reader/$n"
done

# opencode export files.
for f in "$fx"/opencode/export/*.json; do
    cp "$f" "$c/opencode_export/$(basename "$f")"
done

# JSON store records: the session file, then each message file followed by
# its part files, separated by 0x1E.
store="$fx/opencode/storage-v1"
for s in "$store"/session/*/*.json; do
    sid=$(basename "$s" .json)
    out="$c/opencode_store/$sid"
    cat "$s" > "$out"
    for m in "$store/message/$sid"/*.json; do
        printf '\036' >> "$out"
        cat "$m" >> "$out"
        mid=$(basename "$m" .json)
        for p in "$store/part/$mid"/*.json; do
            [ -f "$p" ] || continue
            printf '\036' >> "$out"
            cat "$p" >> "$out"
        done
    done
done

# Markdown: the project's documents and the inputs committed for the
# regression tests.
for f in "$root"/README.md "$root"/docs/*.md "$root"/CHANGELOG.md; do
    cp "$f" "$c/markdown_highlight/$(basename "$f")"
    cp "$f" "$c/markdown_export/$(basename "$f")"
done
# Codex, Gemini and Antigravity files, behind the byte that picks the
# layout (see agent_file in fuzz_targets/common.rs).
mkdir -p "$c/agent_file"
n=0
seed_agent() {
    { printf "\\$(printf '%03o' "$1")"; head -c 60000 "$2"; } >"$c/agent_file/$n"
    n=$((n + 1))
}
for f in "$fx"/codex/*.jsonl; do seed_agent 0 "$f"; done
for f in "$fx"/gemini/*.json; do seed_agent 1 "$f"; done
for f in $(find "$fx/gemini" -path '*chats*' -name '*.jsonl'); do seed_agent 2 "$f"; done
for f in $(find "$fx/gemini/antigravity-cli" -name 'transcript*.jsonl'); do seed_agent 3 "$f"; done
for t in claude_jsonl render_page jsonl_reader opencode_export opencode_store markdown_highlight markdown_export agent_file; do
    if [ -d "$fx/fuzz/$t" ]; then
        cp "$fx/fuzz/$t"/* "$c/$t/" 2>/dev/null || true
    fi
done
echo "seeded $(find "$c" -type f | wc -l) inputs under $c"
