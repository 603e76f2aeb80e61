//! How the agent uses glibc's allocator, so that an agent idling between runs holds little
//! memory. (Elsewhere, e.g. musl, both calls do nothing.)
//!
//! The two calls are raw libc because they are glibc allocator extensions: neither std nor
//! rustix (which talks to the kernel, not to the C library's allocator) has a wrapper.

/// Arenas glibc may create. By default every thread that allocates can get an arena of its
/// own, up to eight per core, and each keeps the pages its long-lived objects sit on: after
/// a 100,000-asset sync an idle agent held 19 MB of anonymous memory this way, against
/// 5.6 MB with two arenas (BENCHMARKS.md). The agent's threads rarely allocate at the
/// same moment for long (a sync is one writer; queries are short), so two arenas cost no
/// measurable speed.
const ARENAS: i32 = 2;

/// Caps glibc's arenas at `ARENAS`, unless `MALLOC_ARENA_MAX` in the environment already
/// says how many (glibc reads it itself; an operator's choice wins). Call first thing in
/// `main`, before any thread starts: arenas that already exist stay.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before other threads
        // exist. No safe wrapper exists (module comment).
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Returns the allocator's free pages to the kernel (glibc keeps them otherwise, in every
/// arena), so an agent that just finished a burst of work idles small.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; no pointers change. No
    // safe wrapper exists (module comment).
    unsafe {
        libc::malloc_trim(0);
    }
}
