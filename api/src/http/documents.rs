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
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

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
    /// The parsed document, or `None` when the text does not parse (execution parses it
    /// again and reports the error where the request's other errors go).
    pub fn parse(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(document) = self.lock().get(query) {
            return Some(document.clone());
        }
        let document = Arc::new(parse_query(query).ok()?);
        if query.len() <= MAX_CACHED_TEXT {
            self.lock().put(query.to_owned(), document.clone());
        }
        Some(document)
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

    #[test]
    fn a_repeated_text_is_parsed_once() {
        let cache = DocumentCache::default();
        let first = cache.parse("{ me { name } }").expect("parses");
        let second = cache.parse("{ me { name } }").expect("parses");
        assert!(Arc::ptr_eq(&first, &second));
        let other = cache.parse("{ me { id } }").expect("parses");
        assert!(!Arc::ptr_eq(&first, &other));
    }

    #[test]
    fn invalid_and_oversized_texts_are_not_kept() {
        let cache = DocumentCache::default();
        assert!(cache.parse("{ me { name ").is_none());
        let padding = " ".repeat(MAX_CACHED_TEXT);
        let long = format!("{{ me {{ name }} }}{padding}");
        let first = cache.parse(&long).expect("parses");
        let second = cache.parse(&long).expect("parses");
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(cache.lock().len(), 0);
    }
}
