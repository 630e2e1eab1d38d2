//! Requests that passed the schema's full validation on this replica: the same request
//! again (the same document, operation and variables) runs on a copy of the schema built
//! with `ValidationMode::Fast`, which still checks complexity, depth and fragment cycles
//! but not the rules whose outcome is already known.
//!
//! Validation depends on the document, the operation and the variables' values (an enum
//! variable's value, a custom scalar's format), so only an identical request skips it. A
//! portal's lists and a partner system's polling repeat theirs exactly; a read by a new id
//! is validated in full. Nothing is remembered of a request that failed validation.
//!
//! A request is remembered by a 128-bit SipHash under keys drawn at start-up, so a caller
//! cannot craft two requests that share an entry; the entries are a bounded LRU of numbers.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use lru::LruCache;

/// Requests remembered; the least recently used is dropped first.
const CAPACITY: usize = 4096;
/// Longer documents are validated every time (as they are parsed every time).
const MAX_REMEMBERED_TEXT: usize = 16 * 1024;

pub struct Validated {
    seen: Mutex<LruCache<u128, ()>>,
    keys: (RandomState, RandomState),
}

impl Default for Validated {
    fn default() -> Self {
        Validated {
            seen: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).expect("capacity is not zero"),
            )),
            keys: (RandomState::new(), RandomState::new()),
        }
    }
}

/// A request as remembered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RequestKey(u128);

impl Validated {
    /// `request`'s key, or `None` when it is not remembered (a long document, variables that
    /// do not serialise).
    pub fn key(&self, request: &async_graphql::Request) -> Option<RequestKey> {
        if request.query.len() > MAX_REMEMBERED_TEXT {
            return None;
        }
        let high = digest(&self.keys.0, request)?;
        let low = digest(&self.keys.1, request)?;
        Some(RequestKey((u128::from(high) << 64) | u128::from(low)))
    }

    /// Whether a request with `key` passed validation here before.
    pub fn passed(&self, key: RequestKey) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key.0)
            .is_some()
    }

    /// Remembers that a request with `key` passed validation.
    pub fn remember(&self, key: RequestKey) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(key.0, ());
    }
}

/// `request`'s document, operation and variables hashed under `keys`.
fn digest(keys: &RandomState, request: &async_graphql::Request) -> Option<u64> {
    let mut hasher = keys.build_hasher();
    request.query.hash(&mut hasher);
    request.operation_name.hash(&mut hasher);
    serde_json::to_writer(HashWriter(&mut hasher), &request.variables).ok()?;
    Some(hasher.finish())
}

/// Feeds what is written to a hasher: the variables are hashed as their JSON text without
/// allocating it.
struct HashWriter<'a, H: Hasher>(&'a mut H);

impl<H: Hasher> std::io::Write for HashWriter<'_, H> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> async_graphql::Request {
        async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    #[test]
    fn only_the_same_document_operation_and_variables_share_a_key() {
        let validated = Validated::default();
        let key = |r: &async_graphql::Request| validated.key(r).expect("remembered");
        let one = request("query($s: S) { a(s: $s) }", serde_json::json!({ "s": "X" }));
        let again = request("query($s: S) { a(s: $s) }", serde_json::json!({ "s": "X" }));
        let other_value = request("query($s: S) { a(s: $s) }", serde_json::json!({ "s": "Y" }));
        let other_text = request("query($s: S) { b(s: $s) }", serde_json::json!({ "s": "X" }));
        let named = request("query($s: S) { a(s: $s) }", serde_json::json!({ "s": "X" }))
            .operation_name("A");
        assert_eq!(key(&one), key(&again));
        for other in [&other_value, &other_text, &named] {
            assert_ne!(key(&one), key(other));
        }
        assert!(!validated.passed(key(&one)));
        validated.remember(key(&one));
        assert!(validated.passed(key(&again)));
        assert!(!validated.passed(key(&other_value)));
    }

    #[test]
    fn long_documents_are_not_remembered() {
        let validated = Validated::default();
        let long = format!("{{ a {} }}", " ".repeat(MAX_REMEMBERED_TEXT));
        assert!(validated
            .key(&request(&long, serde_json::json!({})))
            .is_none());
    }
}
