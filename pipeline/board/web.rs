//! The board as a web page (`live --serve PORT`), on the project's one server stack
//! (`crate::web`): `/` is the page, `/api/board` the current state as JSON, and
//! `/events` pushes every new state as a server-sent event, so the page updates itself.

use std::convert::Infallible;

use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use tokio::sync::watch;

const PAGE: &str = include_str!("page.html");

/// Routes for a board whose snapshots (JSON text) arrive on `updates`.
pub fn router(updates: watch::Receiver<String>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/api/board",
            get(|axum::extract::State(rx): axum::extract::State<watch::Receiver<String>>| async move {
                let body = rx.borrow().clone();
                ([(header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .route("/events", get(events))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found").into_response() })
        .with_state(updates)
}

async fn events(
    axum::extract::State(rx): axum::extract::State<watch::Receiver<String>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The current state at once, then each change.
    let stream = stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let data = rx.borrow_and_update().clone();
        Some((Ok(Event::default().event("board").data(data)), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
