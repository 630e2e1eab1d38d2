//! A field that fails answers `null` where it stands (GraphQL spec, "Handling Field Errors").
//!
//! async-graphql drops the key of a field whose resolver failed (and answers `data: null` when
//! every root field failed), whatever the field's nullability. Clients generated from the
//! schema (Relay, Apollo codegen) read a missing key as a broken response. After execution each
//! error's path is followed through the document and the schema's types: the failed position
//! becomes `null` if its type is nullable, else the nearest nullable position above it does,
//! and `data` itself when there is none.

use std::collections::HashSet;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
    Selection, SelectionSet, Type,
};
use async_graphql::{Name, PathSegment, Response, Value};

use super::types::{named, TypeTable};

/// Puts `null` in place of every failed field of `response` (an executed operation of
/// `document`).
pub fn put_nulls_in_place(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    table: &TypeTable,
    response: &mut Response,
) {
    let Some(operation) = operation(document, operation_name) else {
        return;
    };
    if response.data == Value::Null {
        response.data = Value::Object(Default::default());
    }
    let paths: Vec<Vec<PathSegment>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| e.path.clone())
        .collect();
    let walk = Walk {
        document,
        table,
        operation,
    };
    for path in paths {
        if response.data == Value::Null {
            return;
        }
        let Some(nullable) = walk.nullability(&path) else {
            continue;
        };
        match nullable.iter().rposition(|n| *n) {
            Some(at) => set_null(&mut response.data, &path[..=at]),
            None => response.data = Value::Null,
        }
    }
}

fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    table: &'a TypeTable,
    operation: &'a OperationDefinition,
}

/// A field selected under a response key, with the type condition it was selected under.
struct Occurrence<'a> {
    field: &'a Field,
    on: Option<&'a str>,
}

impl<'a> Walk<'a> {
    /// Whether each position along `path` may be null; `None` when the path leaves what the
    /// document and the schema describe.
    fn nullability(&self, path: &[PathSegment]) -> Option<Vec<bool>> {
        let root = match self.operation.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let typename = Type::new("String!").expect("a type");
        let mut sets = vec![&self.operation.selection_set.node];
        let mut current: Option<Type> = None;
        let mut nullable = Vec::with_capacity(path.len());
        for segment in path {
            let next = match segment {
                PathSegment::Field(key) => {
                    let parent = current.as_ref().map_or(root, |t| named(t));
                    let occurrences = self.occurrences(&sets, key);
                    let first = occurrences.first()?;
                    let name = first.field.name.node.as_str();
                    let ty = if name == "__typename" {
                        typename.clone()
                    } else {
                        occurrences
                            .iter()
                            .find_map(|o| {
                                o.on.filter(|on| self.table.is_output(on))
                                    .and_then(|on| self.table.field(on, name))
                            })
                            .or_else(|| self.table.field(parent, name))?
                            .ty
                            .clone()
                    };
                    sets = occurrences
                        .iter()
                        .map(|o| &o.field.selection_set.node)
                        .collect();
                    ty
                }
                PathSegment::Index(_) => match &current?.base {
                    BaseType::List(inner) => (**inner).clone(),
                    BaseType::Named(_) => return None,
                },
            };
            nullable.push(next.nullable);
            current = Some(next);
        }
        Some(nullable)
    }

    fn occurrences(&self, sets: &[&'a SelectionSet], key: &str) -> Vec<Occurrence<'a>> {
        let mut found = Vec::new();
        let mut spread = HashSet::new();
        for set in sets {
            self.collect(set, key, None, &mut found, &mut spread);
        }
        found
    }

    fn collect(
        &self,
        set: &'a SelectionSet,
        key: &str,
        on: Option<&'a str>,
        found: &mut Vec<Occurrence<'a>>,
        spread: &mut HashSet<&'a Name>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) if field.node.response_key().node.as_str() == key => found
                    .push(Occurrence {
                        field: &field.node,
                        on,
                    }),
                Selection::Field(_) => {}
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    if !spread.insert(name) {
                        continue;
                    }
                    if let Some(fragment) = self.document.fragments.get(name) {
                        let fragment = &fragment.node;
                        let condition = fragment.type_condition.node.on.node.as_str();
                        self.collect(
                            &fragment.selection_set.node,
                            key,
                            Some(condition),
                            found,
                            spread,
                        );
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    let condition = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(on);
                    self.collect(&inline.selection_set.node, key, condition, found, spread);
                }
            }
        }
    }
}

/// Sets the value at `path` to null, if what holds it is still there.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = data;
    for segment in parents {
        at = match (segment, at) {
            (PathSegment::Field(key), Value::Object(map)) => match map.get_mut(key.as_str()) {
                Some(value) => value,
                None => return,
            },
            (PathSegment::Index(index), Value::List(items)) => match items.get_mut(*index) {
                Some(value) => value,
                None => return,
            },
            _ => return,
        };
    }
    match (last, at) {
        (PathSegment::Field(key), Value::Object(map)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (PathSegment::Index(index), Value::List(items)) => {
            if let Some(item) = items.get_mut(*index) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::ServerError;

    const SDL: &str = "type Query { partner(id: ID!): Partner, me: User! }
        type User { name: String!, partner: Partner }
        type Partner { name: String!, parent: Partner, tags: [String!]! }";

    fn fixed(query: &str, data: serde_json::Value, paths: &[&[PathSegment]]) -> serde_json::Value {
        let table = TypeTable::from_sdl(SDL);
        let document = parse_query(query).expect("parses");
        let mut response = Response::new(Value::from_json(data).expect("value"));
        for path in paths {
            let mut error = ServerError::new("failed", None);
            error.path = path.to_vec();
            response.errors.push(error);
        }
        put_nulls_in_place(&document, None, &table, &mut response);
        response.data.into_json().expect("json")
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.to_owned())
    }

    #[test]
    fn a_failed_nullable_root_field_is_null_beside_the_others() {
        let data = fixed(
            "{ p: partner(id: \"x\") { name } __typename }",
            serde_json::json!({ "__typename": "Query" }),
            &[&[field("p")]],
        );
        assert_eq!(
            data,
            serde_json::json!({ "__typename": "Query", "p": null })
        );
        let all_failed = fixed(
            "{ partner(id: \"x\") { name } }",
            serde_json::json!(null),
            &[&[field("partner")]],
        );
        assert_eq!(all_failed, serde_json::json!({ "partner": null }));
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
        let query = "{ me { partner { ... on Partner { parent { name } } } } }";
        let data = serde_json::json!({ "me": { "partner": { "parent": {} } } });
        let path: &[PathSegment] = &[
            field("me"),
            field("partner"),
            field("parent"),
            field("name"),
        ];
        let data = fixed(query, data, &[path]);
        assert_eq!(
            data,
            serde_json::json!({ "me": { "partner": { "parent": null } } })
        );
    }

    #[test]
    fn with_no_nullable_position_data_is_null() {
        let data = fixed(
            "{ me { name } }",
            serde_json::json!({ "me": {} }),
            &[&[field("me"), field("name")]],
        );
        assert_eq!(data, serde_json::json!(null));
    }

    #[test]
    fn list_items_and_fragments_are_followed() {
        let query = "{ partner(id: \"x\") { ...P } } fragment P on Partner { t: tags }";
        let data = serde_json::json!({ "partner": { "t": ["a", "b"] } });
        let path: &[PathSegment] = &[field("partner"), field("t"), PathSegment::Index(1)];
        // `[String!]!`: the item and the list are non-null, so the partner becomes null.
        assert_eq!(
            fixed(query, data, &[path]),
            serde_json::json!({ "partner": null })
        );
    }
}
