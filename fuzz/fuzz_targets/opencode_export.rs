//! An `opencode export` file → the model, then its JSON and Markdown
//! exports.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::opencode_export(data));
