//! GraphiQL served entirely by this server: the npm bundles are compiled into the binary
//! (see `api/build.rs`), so the IDE works with no internet.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY as CONTENT_SECURITY_POLICY_HEADER, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

const BUNDLED: bool = include!(concat!(env!("OUT_DIR"), "/graphiql_bundled.rs"));

macro_rules! bundled_asset {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/graphiql-assets/", $name)).as_slice()
    };
}

const PAGE: &str = include_str!("../../assets/graphiql.html");
const FAVICON: &[u8] = include_bytes!("../../assets/favicon.svg");

/// The page loads only its own assets (GraphiQL and CodeMirror set inline styles, hence
/// `'unsafe-inline'` for styles alone), talks only to this server, and may not be framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const MISSING_PAGE: &str = include_str!("../../assets/graphiql-missing.html");

pub fn page() -> Response {
    let html = if BUNDLED { PAGE } else { MISSING_PAGE };
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        CONTENT_SECURITY_POLICY_HEADER,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `/favicon.ico`: the IDE's icon (an SVG, which browsers take from any path).
pub async fn favicon() -> Response {
    let mut response = FAVICON.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

fn lookup(file: &str) -> Option<(&'static [u8], &'static str)> {
    let found = match file {
        "graphiql.min.js" => (bundled_asset!("graphiql.min.js"), "text/javascript"),
        "graphiql.min.css" => (bundled_asset!("graphiql.min.css"), "text/css"),
        "react.production.min.js" => (bundled_asset!("react.production.min.js"), "text/javascript"),
        "react-dom.production.min.js" => (
            bundled_asset!("react-dom.production.min.js"),
            "text/javascript",
        ),
        "init.js" => (
            include_bytes!("../../assets/graphiql-init.js").as_slice(),
            "text/javascript",
        ),
        _ => return None,
    };
    Some(found)
}

pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((bytes, content_type)) = lookup(&file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&format!("{content_type}; charset=utf-8")).expect("static header"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
