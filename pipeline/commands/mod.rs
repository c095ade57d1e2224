//! One file per subcommand; each returns how many inputs failed.

pub mod live;
pub mod live_board;
pub mod models;
pub mod rebuild;
pub mod review;
pub mod stats;
pub mod transcribe;

/// Exit code for what a retry can fix (EX_TEMPFAIL): SIGTERM, a full disk.
pub const EXIT_RETRY: u8 = 75;

/// The error comes from a full disk (or quota): retrying once there is room will work.
pub fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            io.kind() == std::io::ErrorKind::StorageFull
                // ENOSPC, EDQUOT on Linux, where the kind may not be mapped.
                || matches!(io.raw_os_error(), Some(28) | Some(122))
        })
    })
}
