"""Big sessions of each agent, written as the agent writes them, for the
manual checks scripts/watch-latency and scripts/export-agents (the benches
under benches/ measure Claude Code sessions).

make(agent, home, size) writes a session of about `size` bytes of JSON in
a store under `home` (use it as HOME and XDG_DATA_HOME) and returns
(session, append): what `sharegen share` and `export` take, and
append(n, text), which records a user prompt as the agent does.
"""
import datetime, json, os, random, sqlite3

AGENTS = ("codex", "gemini", "antigravity", "opencode", "opencode2")

words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def sentence(n):
    return " ".join(random.choice(words) for _ in range(n))


def output(turn, k):
    return "\n".join(sentence(12) + f" {turn}.{k}.{i}" for i in range(120))


def stamp(n):
    return "2025-11-12T%02d:%02d:%02d.000Z" % (9 + n // 3600 % 12, n // 60 % 60, n % 60)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def append_lines(path, lines):
    with open(path, "a") as fh:
        fh.write("".join(json.dumps(l) + "\n" for l in lines))


# Each agent's generator writes a session of about `size` bytes of JSON
# in a store under `home`, and returns what `share` and `export` take and
# append(n, text), which records a user prompt as the agent does.

def codex(home, size):
    sid = "0199a8f3-6c1e-7d40-b2a5-3e9f1c7d2b99"
    day = os.path.join(home, ".codex/sessions/2025/11/12")
    os.makedirs(day)
    path = os.path.join(day, f"rollout-2025-11-12T09-00-00-{sid}.jsonl")
    with open(path, "w") as out:
        def w(n, kind, payload):
            out.write(json.dumps({"timestamp": stamp(n), "type": kind, "payload": payload}) + "\n")
        w(0, "session_meta", {"id": sid, "timestamp": stamp(0), "cwd": "/home/dev/big",
                              "originator": "codex_cli_rs", "cli_version": "0.58.0"})
        t, turn = 1, 0
        while out.tell() < size:
            turn += 1
            w(t, "turn_context", {"turn_id": f"turn-{turn}", "cwd": "/home/dev/big", "model": "gpt-5.1-codex"})
            prompt = f"Turn {turn}: " + sentence(20)
            w(t, "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]})
            w(t, "event_msg", {"type": "user_message", "message": prompt, "images": []})
            t += 1
            for k in range(3):
                cid = f"call_{turn}_{k}"
                w(t, "response_item", {"type": "function_call", "name": "shell", "call_id": cid,
                                       "arguments": json.dumps({"command": ["bash", "-lc", f"cat f{turn}_{k}"]})})
                w(t, "response_item", {"type": "function_call_output", "call_id": cid,
                                       "output": json.dumps({"output": output(turn, k), "metadata": {"exit_code": 0}})})
                t += 1
            msg = f"Done with turn {turn}"
            w(t, "response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": msg}]})
            w(t, "event_msg", {"type": "agent_message", "message": msg})
            t += 1

    def append(n, text):
        lines = [{"timestamp": now(), "type": "response_item", "payload": {"type": "message", "role": "user",
                  "content": [{"type": "input_text", "text": text}]}},
                 {"timestamp": now(), "type": "event_msg", "payload": {"type": "user_message", "message": text, "images": []}}]
        if n % 2:
            # Some Codex versions write the event before its response item.
            lines.reverse()
        append_lines(path, lines)
    return path, append


def gemini(home, size):
    sid = "5f1c2a9b-3d4e-4f60-8a7b-9c0d1e2f3a4b"
    chats = os.path.join(home, ".gemini/tmp/big/chats")
    os.makedirs(chats)
    with open(os.path.join(home, ".gemini/tmp/big/.project_root"), "w") as fh:
        fh.write("/home/dev/big")
    path = os.path.join(chats, "session-2025-11-12T09-00-5f1c2a9b.jsonl")
    with open(path, "w") as out:
        def w(obj):
            out.write(json.dumps(obj) + "\n")
        w({"sessionId": sid, "projectHash": "big", "startTime": stamp(0), "lastUpdated": stamp(0),
           "kind": "main", "directories": ["/home/dev/big"]})
        t, turn = 1, 0
        while out.tell() < size:
            turn += 1
            w({"id": f"u{turn}", "timestamp": stamp(t), "type": "user",
               "content": [{"text": f"Turn {turn}: " + sentence(20)}]})
            calls = []
            for k in range(3):
                cid = f"run_shell_command_{turn}_{k}"
                calls.append({"id": cid, "name": "run_shell_command",
                              "args": {"command": f"cat f{turn}_{k}"}, "status": "success",
                              "timestamp": stamp(t), "displayName": "Shell",
                              "result": [{"functionResponse": {"id": cid, "name": "run_shell_command",
                                                               "response": {"output": output(turn, k)}}}]})
            w({"id": f"g{turn}", "timestamp": stamp(t), "type": "gemini", "content": f"Done with turn {turn}",
               "thoughts": [], "model": "gemini-3-flash-preview",
               "tokens": {"input": 9120, "output": 64, "cached": 0, "thoughts": 40, "tool": 0, "total": 9224},
               "toolCalls": calls})
            w({"$set": {"lastUpdated": stamp(t)}})
            t += 1

    def append(n, text):
        append_lines(path, [{"id": f"appended-{n}", "timestamp": now(), "type": "user", "content": [{"text": text}]},
                            {"$set": {"lastUpdated": now()}}])
    return path, append


def antigravity(home, size):
    cid = "7d3f0c52-5a1e-4b7e-9c11-2f9e8a6b4d10"
    logs = os.path.join(home, ".gemini/antigravity-cli/brain", cid, ".system_generated/logs")
    os.makedirs(logs)
    path = os.path.join(logs, "transcript_full.jsonl")
    step = 0
    with open(path, "w") as out:
        def w(t, **kw):
            nonlocal step
            out.write(json.dumps({"step_index": step, "status": "DONE", "created_at": stamp(t)[:-5] + "Z", **kw}) + "\n")
            step += 1
        t, turn = 1, 0
        while out.tell() < size:
            turn += 1
            w(t, source="USER_EXPLICIT", type="USER_INPUT",
              content=f"<USER_REQUEST>\nTurn {turn}: {sentence(20)}\n</USER_REQUEST>")
            w(t, source="MODEL", type="PLANNER_RESPONSE", thinking="Look at the files.",
              tool_calls=[{"name": "run_command", "args": {"CommandLine": f"cat f{turn}_{k}", "Cwd": "/home/dev/big",
                                                           "toolSummary": "Reading"}} for k in range(3)])
            for k in range(3):
                w(t, source="MODEL", type="RUN_COMMAND",
                  content="The command completed successfully.\nOutput:\n" + output(turn, k))
            w(t, source="MODEL", type="PLANNER_RESPONSE", content=f"Done with turn {turn}")
            t += 1

    def append(n, text):
        nonlocal step
        append_lines(path, [{"step_index": step, "source": "USER_EXPLICIT", "type": "USER_INPUT", "status": "DONE",
                             "created_at": now()[:-5] + "Z", "content": f"<USER_REQUEST>\n{text}\n</USER_REQUEST>"}])
        step += 1
    return cid, append


def opencode(home, size, v2=False):
    data = os.path.join(home, ".local/share/opencode")
    os.makedirs(data)
    db = sqlite3.connect(os.path.join(data, "opencode.db"), isolation_level=None)
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.executescript("""
CREATE TABLE project (id TEXT PRIMARY KEY, worktree TEXT NOT NULL, vcs TEXT, name TEXT, icon_url TEXT,
  icon_color TEXT, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_initialized INTEGER,
  sandboxes TEXT NOT NULL, commands TEXT);
CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, slug TEXT NOT NULL,
  directory TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL, share_url TEXT,
  summary_additions INTEGER, summary_deletions INTEGER, summary_files INTEGER, summary_diffs TEXT,
  revert TEXT, permission TEXT, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL,
  time_compacting INTEGER, time_archived INTEGER);
CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER NOT NULL,
  time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
CREATE TABLE session_message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, type TEXT NOT NULL,
  seq INTEGER NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX session_message_session_seq_idx ON session_message (session_id, seq);
""")
    sid = "ses_39b5d713cffeRgAoxPIwS3Plus"
    t0 = 1762938000000
    db.execute("INSERT INTO project VALUES ('p1', '/home/dev/big', 'git', 'big', NULL, NULL, ?, ?, NULL, '[]', NULL)",
               (t0, t0))
    db.execute("INSERT INTO session VALUES (?, 'p1', NULL, 'big', '/home/dev/big', 'Big session', '1.2.14', NULL,"
               " 0, 0, 0, NULL, NULL, NULL, ?, ?, NULL, NULL)", (sid, t0, t0))
    seq = [0]

    def ident(prefix, t):
        seq[0] += 1
        return f"{prefix}_{t:012x}{seq[0]:010d}"

    def msg(t, info, parts):
        mid = ident("msg", t)
        if v2:
            # 2.x: one row per message, its parts inside.
            seq[0] += 1
            if info["role"] == "user":
                data = {"text": parts[0]["text"], "files": [], "agents": [], "references": [], "time": info["time"]}
            else:
                content = []
                for p in parts:
                    if p["type"] == "text":
                        content.append({"type": "text", "id": ident("prt", t), "text": p["text"]})
                    elif p["type"] == "tool":
                        st = p["state"]
                        content.append({"type": "tool", "id": p["callID"], "name": "shell",
                                        "state": {"status": "completed", "input": st["input"],
                                                  "content": [{"type": "text", "text": st["output"]}],
                                                  "structured": {}, "result": st["output"]},
                                        "time": {"created": t, "completed": t + 10}})
                data = {"agent": "build", "model": {"id": "gpt-5.1-codex", "providerID": "openai"},
                        "content": content, "finish": "stop", "cost": 0, "tokens": info["tokens"],
                        "time": info["time"]}
            db.execute("INSERT INTO session_message VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (mid, sid, info["role"], seq[0], t, t, json.dumps(data)))
            return mid
        db.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)", (mid, sid, t, t, json.dumps(info)))
        for p in parts:
            db.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", (ident("prt", t), mid, sid, t, t, json.dumps(p)))
        return mid

    user = lambda t, text: msg(t, {"role": "user", "time": {"created": t}, "agent": "build",
                                   "model": {"providerID": "openai", "modelID": "gpt-5.1-codex"}},
                               [{"type": "text", "text": text}])
    db.execute("BEGIN")
    t, turn, written = t0, 0, 0
    while written < size:
        turn += 1
        t += 1000
        prompt = f"Turn {turn}: " + sentence(20)
        parent = user(t, prompt)
        parts = [{"type": "step-start"}]
        for k in range(3):
            out = output(turn, k)
            written += len(out)
            parts.append({"type": "tool", "callID": f"call_{turn}_{k}", "tool": "bash",
                          "state": {"status": "completed", "input": {"command": f"cat f{turn}_{k}"},
                                    "output": out, "title": f"cat f{turn}_{k}", "metadata": {"exit": 0},
                                    "time": {"start": t, "end": t + 10}}})
        parts.append({"type": "text", "text": f"Done with turn {turn}"})
        parts.append({"type": "step-finish", "reason": "stop", "cost": 0,
                      "tokens": {"input": 100, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}}})
        msg(t + 1, {"role": "assistant", "time": {"created": t + 1, "completed": t + 500}, "parentID": parent,
                    "modelID": "gpt-5.1-codex", "providerID": "openai", "mode": "build", "agent": "build",
                    "path": {"cwd": "/home/dev/big", "root": "/home/dev/big"}, "cost": 0,
                    "tokens": {"input": 100, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}},
                    "finish": "stop"}, parts)
    db.execute("UPDATE session SET time_updated = ?", (t + 1,))
    db.execute("COMMIT")

    def append(n, text):
        t = int(time.time() * 1000)
        db.execute("BEGIN")
        user(t, text)
        db.execute("UPDATE session SET time_updated = ?", (t,))
        db.execute("COMMIT")
    return sid, append


def make(agent, home, size):
    random.seed(1)
    if agent == "opencode2":
        return opencode(home, size, v2=True)
    return {"codex": codex, "gemini": gemini, "antigravity": antigravity, "opencode": opencode}[agent](home, size)
