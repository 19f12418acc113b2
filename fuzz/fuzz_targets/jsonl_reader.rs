//! The loose JSONL reader shared by the line-based sources: lines, invalid
//! UTF-8, lone surrogates, a last line still being written.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::jsonl_reader(data));
