//! Uploaded files: stored on disk by content hash, served only through short-lived signed
//! links that are re-checked against the content policy at download time.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use entity::enums::ContentEventKind;
use entity::{content, content_file, content_version, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::policy::{find_visible, is_staff, viewer};
use super::rules::{accepted_type, safe_filename, MAX_FILE_BYTES};
use super::service::record_event;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Where uploaded files live. Several replicas need a shared directory (a network volume).
#[derive(Clone, Debug)]
pub struct FileStore {
    pub dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    fn path_of(&self, storage_key: &str) -> PathBuf {
        self.dir.join(storage_key)
    }

    /// Stores the file read from `source` and records it. The bytes stream from the upload's
    /// temporary file into a temporary name in the store while their SHA-256 is computed,
    /// then the file is renamed to its hash (a reader never sees half a file): no upload is
    /// ever held in memory whole. A user-facing refusal (type, empty, too large) is `Err`.
    pub async fn store(
        &self,
        db: &impl ConnectionTrait,
        filename: &str,
        source: impl std::io::Read + Send + 'static,
        uploaded_by: i64,
    ) -> AppResult<Result<content_file::Model, String>> {
        let Some(content_type) = accepted_type(filename) else {
            return Ok(Err(format!("{filename:?} is not an accepted file type (pdf, png, jpg, svg, txt, md, pptx, docx, xlsx, zip)")));
        };
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(AppError::internal)?;
        let temporary = self
            .dir
            .join(format!(".upload.{}", crate::auth::tokens::random_secret(9)));
        let written = {
            let temporary = temporary.clone();
            tokio::task::spawn_blocking(move || copy_hashing(source, &temporary, MAX_FILE_BYTES))
                .await
                .map_err(AppError::internal)?
        };
        let (sha256, size) = match written {
            Ok(Copied::Whole { sha256, size }) if size > 0 => (sha256, size),
            Ok(outcome) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Ok(Err(match outcome {
                    Copied::TooLarge => {
                        format!("files are limited to {} MiB", MAX_FILE_BYTES / 1024 / 1024)
                    }
                    Copied::Whole { .. } => "the file is empty".into(),
                }));
            }
            Err(err) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(AppError::internal(err));
            }
        };
        let storage_key = format!("{}/{}", &sha256[..2], sha256);
        if let Err(err) = self.keep(&temporary, &storage_key).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(err);
        }
        let stored = content_file::ActiveModel {
            sha256: Set(sha256),
            filename: Set(safe_filename(filename)),
            content_type: Set(content_type.to_owned()),
            size_bytes: Set(size as i64),
            storage_key: Set(storage_key),
            uploaded_by_id: Set(Some(uploaded_by)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(Ok(stored))
    }

    /// Moves the written `temporary` file to `storage_key`, or drops it when the store
    /// already holds those bytes.
    async fn keep(&self, temporary: &std::path::Path, storage_key: &str) -> AppResult<()> {
        let path = self.path_of(storage_key);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            tokio::fs::remove_file(temporary)
                .await
                .map_err(AppError::internal)?;
            return Ok(());
        }
        let parent = path
            .parent()
            .ok_or_else(|| AppError::internal("file path without parent"))?;
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(AppError::internal)?;
        tokio::fs::rename(temporary, &path)
            .await
            .map_err(AppError::internal)
    }
}

/// What `copy_hashing` wrote.
enum Copied {
    Whole { sha256: String, size: u64 },
    TooLarge,
}

/// Copies `source` into a new file at `target` in chunks, hashing as it goes; stops at once
/// past `limit` bytes.
fn copy_hashing(
    mut source: impl std::io::Read,
    target: &std::path::Path,
    limit: usize,
) -> std::io::Result<Copied> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(target)?);
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        size += read as u64;
        if size > limit as u64 {
            return Ok(Copied::TooLarge);
        }
        hasher.update(&chunk[..read]);
        out.write_all(&chunk[..read])?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let sha256 = crate::auth::tokens::hex(&hasher.finalize());
    Ok(Copied::Whole { sha256, size })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such file").into_response()
}

/// Whether `file_id` belongs to `item`: its current file for everyone, any earlier
/// version's file for vendor staff.
async fn file_of(
    db: &impl ConnectionTrait,
    item: &content::Model,
    file_id: i64,
    staff: bool,
) -> AppResult<bool> {
    if item.file_id == Some(file_id) {
        return Ok(true);
    }
    if !staff {
        return Ok(false);
    }
    Ok(content_version::Entity::find()
        .filter(content_version::Column::ContentId.eq(item.id))
        .filter(content_version::Column::FileId.eq(file_id))
        .one(db)
        .await?
        .is_some())
}

async fn authorize(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(Actor, content::Model, content_file::Model)>> {
    let Some(claims) = state.auth.open_download_token(token) else {
        return Ok(None);
    };
    let Ok(user_id) = claims.sub.parse::<i64>() else {
        return Ok(None);
    };
    let Some(user) = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(None);
    };
    let actor = Actor::new(user.id, user.role, user.partner_id, 0);
    // The link was checked when it was made; the policy is checked again now, so an item
    // that expired or left the caller's audience since cannot be fetched.
    let viewer = viewer(&state.db, &actor).await?;
    let Some(item) = find_visible(&state.db, &viewer, claims.content).await? else {
        return Ok(None);
    };
    if !file_of(&state.db, &item, claims.file, is_staff(&viewer)).await? {
        return Ok(None);
    }
    let Some(file) = content_file::Entity::find_by_id(claims.file)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((actor, item, file)))
}

/// `GET /files/{token}`: the file, if the signed link is valid and still allowed.
pub async fn download(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (actor, item, file) = match authorize(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(err) => {
            tracing::error!(error = %err, "download failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response();
        }
    };
    let bytes = match tokio::fs::read(state.files.path_of(&file.storage_key)).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = %err, file = file.id, "stored file missing");
            return (StatusCode::INTERNAL_SERVER_ERROR, "file unavailable").into_response();
        }
    };
    if let Err(err) = record_event(&state.db, &actor, item.id, ContentEventKind::Download).await {
        tracing::warn!(error = %err, "could not record a download");
    }
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.filename))
    {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
