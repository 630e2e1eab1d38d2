//! Enablement content: versioned assets with an audience, freshness dates, files, native
//! full-text search and engagement. One policy (`policy::visible_select`) decides what a
//! caller may see, for lists, search, counts, `node(id:)` and file downloads alike.

pub mod files;
pub mod policy;
pub mod rules;
pub mod search;
pub mod service;
mod types;

pub use files::{download, FileStore};
pub use types::{find_for, Content, ContentMutation, ContentQuery, NODE_KIND};
