//! The project's one web server stack (axum on a small tokio runtime), shared by
//! `review` and the live board: bind, then serve a router until told to stop.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use axum::Router;

/// Listen on `host:port` (port 0 picks a free one); `hint` says what to do on failure.
pub fn bind(host: &str, port: u16, hint: &str) -> Result<TcpListener> {
    TcpListener::bind((host, port))
        .map_err(|e| anyhow!("cannot listen on {host}:{port}: {e} ({hint})"))
}

/// Serve `router` until `stop` is set.
pub fn serve(router: Router, listener: TcpListener, stop: Arc<AtomicBool>) -> Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                while !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
    })?;
    Ok(())
}
