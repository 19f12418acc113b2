#!/bin/sh
# Claude Code SessionEnd hook: when the session that just ended is shared,
# publish the site again so its page holds the whole conversation.
# Claude Code passes the hook's input as JSON on stdin, with "session_id".
input=$(cat)
id=$(printf '%s' "$input" | sed -n 's/.*"session_id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$id" ] || exit 0
if sharegen shares --json | grep -q "\"session_id\": \"$id\""; then
  sharegen publish -q
fi
