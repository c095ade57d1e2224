//! One file per subcommand; each returns how many inputs failed.

pub mod live;
pub mod live_board;
pub mod models;
pub mod rebuild;
pub mod review;
pub mod transcribe;
