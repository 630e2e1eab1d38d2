//! Pure content rules: freshness, label normalisation, search-query sanitising and the
//! accepted file types.

use chrono::{DateTime, NaiveDate, Utc};

/// Expired content is hidden from partners (kept, flagged, for vendor staff).
pub fn is_expired(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// Content past its review date is stale: still shown, queued for a channel manager.
pub fn is_stale(review_by: Option<NaiveDate>, today: NaiveDate) -> bool {
    review_by.is_some_and(|date| date < today)
}

/// Tags, products and verticals as stored: trimmed, lower case (verticals upper snake
/// case, as on partners), de-duplicated, in order, at most 100 characters each.
pub fn normalize_labels(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let label: String = value.trim().to_lowercase().chars().take(100).collect();
        if !label.is_empty() && !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// A user's search text as an FTS5 query: every word must match (as a quoted term, so
/// operators and punctuation in the input are inert). `None` when no word is left.
pub fn fts5_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(16)
        .map(|t| format!("\"{}\"", t.to_lowercase()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The words of a search, for PostgreSQL's `plainto_tsquery` (which ignores operators).
pub fn plain_query(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(16)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// File types partners can be sent, by extension and declared type.
const ALLOWED: [(&str, &str); 11] = [
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("svg", "image/svg+xml"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("zip", "application/zip"),
];

/// The content type a file is stored and served with, if its extension is accepted.
pub fn accepted_type(filename: &str) -> Option<&'static str> {
    let extension = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    ALLOWED
        .iter()
        .find(|(ext, _)| *ext == extension)
        .map(|(_, mime)| *mime)
}

/// A filename safe to put in a `Content-Disposition` header.
pub fn safe_filename(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn freshness() {
        let now = Utc::now();
        assert!(is_expired(Some(now - Duration::seconds(1)), now));
        assert!(!is_expired(Some(now + Duration::days(1)), now));
        assert!(!is_expired(None, now));
        let today = now.date_naive();
        assert!(is_stale(Some(today - Duration::days(1)), today));
        assert!(!is_stale(Some(today), today));
        assert!(!is_stale(None, today));
    }

    #[test]
    fn labels_are_trimmed_lowercased_and_unique() {
        let input = vec![
            " Globex ".into(),
            "globex".into(),
            "".into(),
            "Pricing".into(),
        ];
        assert_eq!(normalize_labels(&input), ["globex", "pricing"]);
    }

    #[test]
    fn search_text_cannot_inject_fts_syntax() {
        assert_eq!(
            fts5_query("battle card").as_deref(),
            Some("\"battle\" \"card\"")
        );
        assert_eq!(
            fts5_query("NEAR(a b) OR \"x").as_deref(),
            Some("\"near\" \"a\" \"b\" \"or\" \"x\"")
        );
        assert_eq!(fts5_query(" -- ' "), None);
        assert_eq!(
            plain_query("globex: pricing!").as_deref(),
            Some("globex pricing")
        );
    }

    #[test]
    fn only_known_file_types_are_accepted() {
        assert_eq!(
            accepted_type("Deck.PPTX"),
            Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
        );
        assert_eq!(accepted_type("card.pdf"), Some("application/pdf"));
        assert_eq!(accepted_type("run.exe"), None);
        assert_eq!(accepted_type("noextension"), None);
        assert_eq!(safe_filename("../../etc/pass wd.pdf"), "pass_wd.pdf");
        assert_eq!(safe_filename(".."), "file");
    }
}
