//! Allocator settings.
//!
//! glibc's malloc raises its trim threshold each time a large block is
//! freed, up to 32 MB per arena, so memory freed while a session is parsed
//! and rendered (JSON values, line buffers, rendered batches) stays mapped
//! in each of rayon's arenas instead of going back to the system. Pinning
//! the threshold at glibc's own default (128 KB) keeps it from growing:
//! exporting a 100 MB session peaks about 16 MB (8%) lower, at the same
//! speed (`scripts/bench export`).

/// Applies the settings; call once, first thing in `main`.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}
