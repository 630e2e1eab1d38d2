//! Content negotiation for GraphQL over HTTP.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::HeaderMap;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: request errors get 4xx and no `data`.
    GraphqlResponse,
    /// `application/json`: the legacy type; well-formed requests always get 200.
    Json,
    /// A browser asking for a page (GraphiQL).
    Html,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json | MediaType::Html => "application/json; charset=utf-8",
        }
    }
}

struct MediaRange<'a> {
    essence: &'a str,
    q: f32,
}

fn parse_range(part: &str) -> Option<MediaRange<'_>> {
    let mut pieces = part.split(';');
    let essence = pieces.next()?.trim();
    if essence.is_empty() {
        return None;
    }
    let q = pieces
        .filter_map(|p| p.trim().strip_prefix("q="))
        .find_map(|v| v.trim().parse::<f32>().ok())
        .unwrap_or(1.0);
    Some(MediaRange { essence, q })
}

fn media_for(essence: &str) -> Option<MediaType> {
    match essence.to_ascii_lowercase().as_str() {
        GRAPHQL_RESPONSE_JSON => Some(MediaType::GraphqlResponse),
        JSON | "application/*" | "*/*" => Some(MediaType::Json),
        "text/html" => Some(MediaType::Html),
        _ => None,
    }
}

/// The response type the client prefers, `Json` when it states no preference, `None` when
/// it accepts nothing we can produce.
pub fn preferred_media(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    if accept.trim().is_empty() {
        return Some(MediaType::Json);
    }
    let mut ranges: Vec<MediaRange> = accept.split(',').filter_map(parse_range).collect();
    // Stable sort: among equal weights the client's order decides.
    ranges.sort_by(|a, b| b.q.partial_cmp(&a.q).unwrap_or(std::cmp::Ordering::Equal));
    ranges
        .iter()
        .filter(|r| r.q > 0.0)
        .find_map(|r| media_for(r.essence))
}

/// Whether a POST body is declared as JSON in UTF-8 (the only encoding JSON allows here).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut pieces = value.split(';');
    let essence = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset_ok = pieces
        .filter_map(|p| {
            p.trim()
                .to_ascii_lowercase()
                .strip_prefix("charset=")
                .map(str::to_owned)
        })
        .all(|c| c.trim_matches('"') == "utf-8");
    essence == JSON && charset_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiates_the_preferred_type() {
        assert_eq!(preferred_media(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(preferred_media(&accept("*/*")), Some(MediaType::Json));
        assert_eq!(
            preferred_media(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(MediaType::GraphqlResponse)
        );
        assert_eq!(
            preferred_media(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(MediaType::Json)
        );
        assert_eq!(
            preferred_media(&accept("text/html,application/xhtml+xml,*/*;q=0.8")),
            Some(MediaType::Html)
        );
        assert_eq!(preferred_media(&accept("image/png")), None);
    }

    #[test]
    fn json_bodies_must_be_utf8() {
        let mut headers = HeaderMap::new();
        assert!(!is_json_body(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json_body(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=latin1"),
        );
        assert!(!is_json_body(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json_body(&headers));
    }
}
