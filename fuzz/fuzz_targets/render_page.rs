//! A Claude Code transcript → the whole HTML page (every part and tool
//! view, highlighting, diffs, terminal output): one script, one style,
//! and only the renderer's own markup.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::render_page(data));
