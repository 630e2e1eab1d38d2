//! File uploads: the GraphQL multipart request spec (`operations`, `map` and the files),
//! for signed-in callers only, each file streamed to a temporary file within the upload
//! limit.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{client_addr, run_all, viewer, HttpError, Prepared};
use crate::auth::Viewer;
use crate::http::negotiate::MediaType;
use crate::state::AppState;

pub(super) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `body` as a reader that fails (setting `too_large`) once more than `limit` bytes came.
fn limited_body(
    body: axum::body::Body,
    limit: usize,
    too_large: Arc<std::sync::atomic::AtomicBool>,
) -> impl futures_util::AsyncRead + Send + Unpin {
    use futures_util::{StreamExt, TryStreamExt};
    let mut received = 0usize;
    body.into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            received += chunk.len();
            if received > limit {
                too_large.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(std::io::Error::other("the upload is too large"));
            }
            Ok(chunk)
        })
        .into_async_read()
}

/// The GraphQL multipart request spec (file uploads): `operations`, `map` and the files.
pub(super) async fn post_multipart(
    state: &AppState,
    request: Request,
    media: MediaType,
) -> Response {
    let headers = request.headers().clone();
    let addr = client_addr(state, &request);
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Uploads are for signed-in callers only: nobody else gets to send 25 MiB.
    let viewer = match viewer(state, &headers).await {
        Ok(Viewer::Anonymous) => {
            return HttpError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "sign in to upload files",
            )
            .into_response(media)
        }
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(media),
    };
    let limit = state.limits.max_upload_bytes;
    let too_large = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let body = limited_body(request.into_body(), limit, too_large.clone());
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(limit)
        .max_num_files(5);
    // Each file streams into a temporary file as it arrives (async-graphql's `tempfile`
    // feature); the body is never held in memory whole.
    let batch = match async_graphql::http::receive_batch_body(content_type, body, options).await {
        Ok(batch) => batch,
        Err(_) if too_large.load(std::sync::atomic::Ordering::Relaxed) => {
            return HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the upload exceeds {limit} bytes"),
            )
            .into_response(media)
        }
        Err(err) => {
            return HttpError::bad_request(format!("invalid multipart request: {err}"))
                .into_response(media)
        }
    };
    let (requests, is_batch) = match batch {
        async_graphql::BatchRequest::Single(request) => (vec![request], false),
        async_graphql::BatchRequest::Batch(requests) => (requests, true),
    };
    if requests.is_empty() || requests.len() > state.limits.max_batch {
        return HttpError::bad_request("a batch holds 1 to 10 requests").into_response(media);
    }
    let requests = requests.into_iter().map(Prepared::Ready).collect();
    run_all(state, requests, is_batch, viewer, addr, media).await
}
