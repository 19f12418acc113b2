//! OpenCode (placeholder module replaced by the OpenCode reader).
