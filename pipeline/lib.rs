//! spacescribe: audio in, speaker-labelled timestamped transcript and speaking-time
//! statistics out. See `pipeline.rs` for how the stages are wired together; every
//! other module is a plain stage testable on one thread.

pub mod align;
pub mod audio_copy;
pub mod board;
pub mod build_info;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diarize;
pub mod document;
pub mod edit;
pub mod gaps;
pub mod gpu;
pub mod heap;
pub mod inputs;
pub mod journal;
pub mod models;
pub mod pipeline;
pub mod profile;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod resample;
pub mod review;
pub mod segment;
pub mod source;
pub mod stats;
pub mod thread_priority;
pub mod timefmt;
pub mod transcribe;
pub mod transcript;
pub mod vad;
pub mod web;
