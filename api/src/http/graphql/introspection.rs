//! Who may introspect the schema (`PARTNERGRAPH_INTROSPECTION`), and the refusal of a
//! document that asks for `__schema` or `__type` when the caller may not.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::ServerError;

use crate::auth::Viewer;
use crate::config::Introspection;
use crate::http::coded_error;

/// Whether `viewer` may introspect the schema.
pub(super) fn may_introspect(mode: Introspection, viewer: &Viewer) -> bool {
    match mode {
        Introspection::On => true,
        Introspection::Authenticated => matches!(viewer, Viewer::User(_)),
        Introspection::Off => false,
    }
}

/// Whether `document` asks for `__schema` or `__type` anywhere (they exist on the root only,
/// so a name match is enough; `__typename` is no introspection).
pub(super) fn introspects(document: &ExecutableDocument) -> bool {
    fn in_set(set: &async_graphql::parser::types::SelectionSet) -> bool {
        use async_graphql::parser::types::Selection;
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || in_set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(inline) => in_set(&inline.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| in_set(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| in_set(&f.node.selection_set.node))
}

pub(super) fn introspection_refused(mode: Introspection) -> ServerError {
    match mode {
        Introspection::Off => coded_error(
            "introspection is turned off on this server".into(),
            "FORBIDDEN",
            None,
        ),
        _ => coded_error(
            "sign in to introspect the schema".into(),
            "UNAUTHENTICATED",
            None,
        ),
    }
}
