//! Lower scheduling priority for background work that must not delay what the user waits
//! for (live mode's speaker analysis beside the utterance being transcribed).

/// Nice value of a background thread: the scheduler then gives it about a tenth of a
/// normal thread's share while both want a core, and whole cores when the others sleep.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const BACKGROUND_NICE: libc::c_int = 10;

/// Give the calling thread the background priority. On Linux the nice value belongs to
/// each thread, so this leaves the process's other threads as they are. Best effort: a
/// failure only leaves the thread at normal priority.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn lower_this_thread() {
    // SAFETY: gettid and setpriority only read and set the calling thread's own
    // scheduling attributes.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn lower_this_thread() {}
