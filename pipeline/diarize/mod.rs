//! Who spoke when: speaker embeddings of short windows of speech (CAM++), clustered into
//! speakers, turned into speaker turns.

pub mod campplus;
pub mod embed;
pub mod fbank;
