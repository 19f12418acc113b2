//! Message Markdown → page HTML, code fences highlighted (the language
//! hint is part of the input): only the renderer's own markup comes out.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::markdown_highlight(data));
