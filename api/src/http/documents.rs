//! Parsed GraphQL documents, kept by their text.
//!
//! Clients send the same few documents over and over (a portal's home page, a partner
//! system's `registerDeal`), and parsing one is a tenth of the CPU of a small request such as
//! a rebate statement. A document is a pure function of its text, so a replica-local cache
//! changes nothing another replica would answer differently. Validation still runs on every
//! request: it depends on the variables.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::ServerError;
use lru::LruCache;

use super::scan::{scan, ScanLimits};

/// Distinct documents kept; the least recently used is dropped first.
const CAPACITY: usize = 512;
/// Longer texts are parsed every time, so a client cannot fill memory with huge documents:
/// at most `CAPACITY` × this many bytes of text (and their parsed trees) are kept.
const MAX_CACHED_TEXT: usize = 16 * 1024;

pub struct DocumentCache {
    documents: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(CAPACITY).expect("capacity is not zero");
        DocumentCache {
            documents: Mutex::new(LruCache::new(capacity)),
        }
    }
}

impl DocumentCache {
    /// The parsed document, or the error to answer: `QUERY_TOO_COMPLEX` for a text the
    /// parser could not survive (see `scan`, run before every parse), `GRAPHQL_PARSE_FAILED`
    /// for one that does not parse.
    pub fn parse(
        &self,
        query: &str,
        limits: ScanLimits,
    ) -> Result<Arc<ExecutableDocument>, ServerError> {
        if let Some(document) = self.lock().get(query) {
            return Ok(document.clone());
        }
        scan(query, limits).map_err(|refusal| {
            super::coded_error(refusal.to_string(), "QUERY_TOO_COMPLEX", None)
        })?;
        let document = parse_query(query).map_err(|err| {
            let mut error = ServerError::from(err);
            super::set_code(&mut error, "GRAPHQL_PARSE_FAILED");
            error
        })?;
        let document = Arc::new(document);
        if query.len() <= MAX_CACHED_TEXT {
            self.lock().put(query.to_owned(), document.clone());
        }
        Ok(document)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        // A panic while holding the lock leaves a valid cache: entries are inserted whole.
        self.documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ScanLimits = ScanLimits {
        max_nesting: 64,
        max_tokens: 15_000,
    };

    #[test]
    fn a_repeated_text_is_parsed_once() {
        let cache = DocumentCache::default();
        let first = cache.parse("{ me { name } }", LIMITS).expect("parses");
        let second = cache.parse("{ me { name } }", LIMITS).expect("parses");
        assert!(Arc::ptr_eq(&first, &second));
        let other = cache.parse("{ me { id } }", LIMITS).expect("parses");
        assert!(!Arc::ptr_eq(&first, &other));
    }

    #[test]
    fn invalid_and_oversized_texts_are_not_kept() {
        let cache = DocumentCache::default();
        assert!(cache.parse("{ me { name ", LIMITS).is_err());
        let padding = " ".repeat(MAX_CACHED_TEXT);
        let long = format!("{{ me {{ name }} }}{padding}");
        let first = cache.parse(&long, LIMITS).expect("parses");
        let second = cache.parse(&long, LIMITS).expect("parses");
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(cache.lock().len(), 0);
    }
}

#[cfg(test)]
mod refusals {
    use super::*;

    #[test]
    fn texts_the_parser_could_not_survive_are_refused_unparsed() {
        let cache = DocumentCache::default();
        let limits = ScanLimits {
            max_nesting: 64,
            max_tokens: 15_000,
        };
        let deep = format!(
            "{{ nodes(ids: {}1{}) {{ id }} }}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let refused = cache.parse(&deep, limits).expect_err("too deep");
        assert_eq!(
            refused.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("QUERY_TOO_COMPLEX"))
        );
        let broken = cache.parse("{ me {", limits).expect_err("broken");
        assert_eq!(
            broken.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("GRAPHQL_PARSE_FAILED"))
        );
    }
}

/// The type of the operation of `document` that a request naming `operation_name` runs.
pub fn operation_of(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}
