//! A Codex rollout, a Gemini CLI chat or an Antigravity transcript, opened
//! as a path → the model, then its JSON and Markdown exports.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::agent_file(data));
