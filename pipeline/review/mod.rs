//! `spacescribe review`: a local web page to check a run against its audio and correct
//! it. `session.rs` holds the run and applies edits (plain code); `server.rs` is the HTTP
//! layer; `page.html` is the page itself.

pub mod server;
pub mod session;
