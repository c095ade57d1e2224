//! What `--version` reports: the version and the compute backends compiled in.

#[cfg(feature = "cuda")]
macro_rules! backends {
    () => {
        "cpu, cuda"
    };
}
#[cfg(not(feature = "cuda"))]
macro_rules! backends {
    () => {
        "cpu"
    };
}

pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (whisper.cpp 1.8.3 via whisper-rs 0.16; backends: ",
    backends!(),
    ")"
);
