//! Message text → the Markdown export's neutralized text: no raw HTML,
//! no image, no unsafe link, and nothing changes on a second pass.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::markdown_export(data));
