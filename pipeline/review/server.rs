//! The review page's HTTP server (axum): the page, the run as JSON, edits, and the
//! recording with range requests (so seeking in a two-hour file is instant). Every route
//! is fixed - no path from a URL ever reaches the file system - and anything else is a
//! 404. Session work is blocking file I/O, so it runs on tokio's blocking threads.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::session::{ApiError, Change, Session};
use crate::audio_copy::compact_copy;

const PAGE: &str = include_str!("page.html");

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

type Shared = Arc<Session>;

pub fn router(session: Shared) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/api/run", get(run_view))
        .route("/api/edit", post(|s, b| change(s, b, Change::Edit)))
        .route("/api/undo", post(|s, b| change(s, b, Change::Undo)))
        .route("/api/redo", post(|s, b| change(s, b, Change::Redo)))
        .route("/audio", get(audio))
        .route("/audio/compact", get(audio_compact))
        .fallback(not_found)
        .with_state(session)
}

/// Serve until `stop` is set (Ctrl-C).
pub fn serve(session: Shared, listener: TcpListener, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    crate::web::serve(router(session), listener, stop)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(ApiError::new(500, e.to_string())))
}

async fn run_view(State(s): State<Shared>) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || s.view()).await.map(Json)
}

async fn change(
    State(s): State<Shared>,
    body: Bytes,
    change: Change,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || s.change(change, &body)).await.map(Json)
}

fn no_audio(s: &Session) -> ApiError {
    ApiError::new(404, s.audio.as_ref().err().cloned().unwrap_or_default())
}

async fn audio(State(s): State<Shared>, request: Request) -> Response {
    match &s.audio {
        Ok(path) => serve_file(path.clone(), request).await,
        Err(_) => no_audio(&s).into_response(),
    }
}

/// A compact Opus copy, for recordings the browser cannot decode (made once, cached).
async fn audio_compact(State(s): State<Shared>, request: Request) -> Response {
    let Ok(path) = s.audio.clone() else {
        return no_audio(&s).into_response();
    };
    let copy =
        blocking(move || compact_copy(&path).map_err(|e| ApiError::new(500, format!("{e:#}"))))
            .await;
    match copy {
        Ok(copy) => serve_file(copy, request).await,
        Err(e) => e.into_response(),
    }
}

async fn serve_file(path: PathBuf, request: Request) -> Response {
    match ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.map(Body::new).into_response(),
        Err(e) => ApiError::new(500, e.to_string()).into_response(),
    }
}

async fn not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": format!("not found: {}", uri.path()) }).to_string(),
    )
        .into_response()
}
