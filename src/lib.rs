//! sharegen: share AI coding-agent sessions as self-contained static pages.
//!
//! The data flows sources → model → render → site → publish.

pub mod diag;
pub mod error;
pub mod fsutil;
pub mod home;
pub mod ids;
pub mod memory;
pub mod model;
pub mod sources;

pub use error::{Error, Result};
pub mod cli;
pub mod cmd;
pub mod config;
pub mod protect;
pub mod publish;
pub mod redact;
pub mod render;
pub mod select;
pub mod share;
pub mod site;
pub mod term;
pub mod timeutil;
pub mod watch;
