//! A GraphQL request's parameters from a GET query string or a POST body (one request or a
//! batch), checked for type as GraphQL over HTTP requires, with a persisted query's hash.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::graphql::HttpError;

/// One GraphQL request's parameters, checked for type as the spec requires.
pub(super) struct Params {
    /// Absent only when a persisted query's hash stands in for it.
    pub(super) query: Option<String>,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<Map<String, Value>>,
    /// `extensions.persistedQuery.sha256Hash` (automatic persisted queries).
    pub(super) persisted: Option<String>,
}

/// `extensions.persistedQuery` of Apollo's protocol: version 1 and a SHA-256 in hex.
fn persisted_hash(extensions: Option<&Map<String, Value>>) -> Result<Option<String>, HttpError> {
    let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    let version = persisted.get("version").and_then(Value::as_i64);
    let hash = persisted.get("sha256Hash").and_then(Value::as_str);
    match (version, hash) {
        (Some(1), Some(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        (Some(1), _) => Err(HttpError::bad_request(
            "`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex",
        )),
        _ => Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "only version 1 of persisted queries is supported",
        )),
    }
}

fn optional_map(
    object: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, HttpError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(HttpError::bad_request(format!("`{key}` must be an object"))),
    }
}

fn params_from_json(value: &Value) -> Result<Params, HttpError> {
    let Value::Object(object) = value else {
        return Err(HttpError::bad_request(
            "a GraphQL request must be a JSON object",
        ));
    };
    let extensions = optional_map(object, "extensions")?;
    let persisted = persisted_hash(extensions.as_ref())?;
    let query = match object.get("query") {
        Some(Value::String(query)) => Some(query.clone()),
        None | Some(Value::Null) if persisted.is_some() => None,
        Some(_) => return Err(HttpError::bad_request("`query` must be a string")),
        None => return Err(HttpError::bad_request("`query` is required")),
    };
    let operation_name = match object.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(HttpError::bad_request("`operationName` must be a string")),
    };
    let variables = optional_map(object, "variables")?;
    Ok(Params {
        query,
        operation_name,
        variables,
        persisted,
    })
}

pub(super) fn params_from_query_string(
    params: &HashMap<String, String>,
) -> Result<Params, HttpError> {
    let json_map = |key: &str| -> Result<Option<Map<String, Value>>, HttpError> {
        match params.get(key) {
            None => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                Ok(Value::Null) => Ok(None),
                _ => Err(HttpError::bad_request(format!(
                    "`{key}` must be a JSON object"
                ))),
            },
        }
    };
    let variables = json_map("variables")?;
    let persisted = persisted_hash(json_map("extensions")?.as_ref())?;
    let query = params.get("query").cloned();
    if query.is_none() && persisted.is_none() {
        return Err(HttpError::bad_request("`query` is required"));
    }
    Ok(Params {
        query,
        persisted,
        operation_name: params
            .get("operationName")
            .cloned()
            .filter(|s| !s.is_empty()),
        variables,
    })
}

/// The body's request, or its batch (then `true`) of at most `max_batch`.
pub(super) fn parse_body(body: &Bytes, max_batch: usize) -> Result<(Vec<Params>, bool), HttpError> {
    if body.is_empty() {
        return Err(HttpError::bad_request("the request body is empty"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::bad_request(format!("the body is not valid JSON: {e}")))?;
    match &value {
        Value::Array(items) => {
            if items.is_empty() || items.len() > max_batch {
                return Err(HttpError::bad_request(format!(
                    "a batch holds 1 to {max_batch} requests"
                )));
            }
            let batch = items
                .iter()
                .map(params_from_json)
                .collect::<Result<_, _>>()?;
            Ok((batch, true))
        }
        _ => Ok((vec![params_from_json(&value)?], false)),
    }
}
