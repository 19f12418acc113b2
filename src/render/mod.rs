//! Rendering the model: a self-contained HTML page, a Markdown transcript,
//! or JSON (the model itself, see `cmd::export`).

pub mod ansi;
pub mod diff;
pub mod highlight;
pub mod html;
pub mod markdown;
pub mod md;
pub mod templates;
pub mod tools;
