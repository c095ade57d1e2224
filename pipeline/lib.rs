//! spacescribe: audio in, speaker-labelled timestamped transcript and speaking-time
//! statistics out. See `pipeline.rs` for how the stages are wired together; every
//! other module is a plain stage testable on one thread.

pub mod transcript;
