//! OpenCode JSON store records (session, message and part files,
//! separated by 0x1E) → the model, then its JSON and Markdown exports.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::opencode_store(data));
