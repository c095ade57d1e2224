//! Lower scheduling priority for background work that must not delay what the user waits
//! for (live mode's speaker analysis beside the utterance being transcribed).

/// Give the calling thread Linux's idle scheduling class: it runs when a core would
/// otherwise sit idle, and yields at once to normal threads (a nice value still took a
/// share of the cores whisper's threads wait on each other for). On Linux scheduling
/// attributes belong to each thread, so the process's other threads keep theirs. Best
/// effort: a failure only leaves the thread at normal priority.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn lower_this_thread() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: gettid and sched_setscheduler only read and set the calling thread's own
    // scheduling attributes; `param` outlives the call.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
        libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn lower_this_thread() {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn own_policy() -> libc::c_int {
        // SAFETY: reads the calling thread's own scheduling policy.
        unsafe { libc::sched_getscheduler(libc::syscall(libc::SYS_gettid) as libc::pid_t) }
    }

    #[test]
    fn only_the_calling_thread_moves_to_the_idle_class() {
        let background = std::thread::spawn(|| {
            lower_this_thread();
            own_policy()
        });
        assert_eq!(background.join().unwrap(), libc::SCHED_IDLE);
        assert_eq!(own_policy(), libc::SCHED_OTHER);
    }
}
