//! Allocator settings.
//!
//! glibc's malloc raises its trim threshold each time a large block is
//! freed, up to 32 MB per arena, so memory freed while a session is parsed
//! and rendered (JSON values, line buffers, rendered batches) stays mapped
//! in each of rayon's arenas instead of going back to the system. Pinning
//! the threshold at glibc's own default (128 KB) keeps it from growing:
//! exporting a 100 MB session peaks about 16 MB (8%) lower, at the same
//! speed (`scripts/bench export`).
//!
//! glibc also gives threads arenas of their own, up to eight per core, and
//! each keeps its own free memory. sharegen's threads (rayon's workers, the
//! thread that prepares the syntax set and the redaction patterns, the
//! page writer) are more than the cores. One arena per core (two at least)
//! is as fast, and a 10 MB export peaks about 5 MB lower. One arena in all
//! would save 2 MB more, but doubles the export's time: the threads wait on
//! its lock.

/// Applies the settings; call once, first thing in `main`.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        libc::mallopt(
            libc::M_ARENA_MAX,
            i32::try_from(cores.max(2)).unwrap_or(i32::MAX),
        );
    }
}
