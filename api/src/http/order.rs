//! Response fields in the order the client selected them (GraphQL spec, "Serialized Map
//! Ordering"). async-graphql resolves an object's fields concurrently and writes each when
//! it completes (async-graphql issue #612), so a field waiting on a loader lands after the
//! fields selected below it. Each executed response is put back in selection order here.

use std::cell::OnceCell;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// A response key with the selection sets chosen under it (one per occurrence).
type Collected<'a> = Vec<(Name, Vec<&'a SelectionSet>)>;

/// Response keys of `set` in CollectFields order, fragments expanded in place. Type
/// conditions are not checked: a key whose fragment does not apply is simply absent from
/// the object being ordered.
fn collect<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Collected<'a>,
    spread: &mut Vec<&'a Name>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let below = &field.node.selection_set.node;
                match out.iter_mut().find(|(k, _)| k == key) {
                    Some((_, sets)) => sets.push(below),
                    None => out.push((key.clone(), vec![below])),
                }
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                if spread.contains(&name) {
                    continue;
                }
                spread.push(name);
                if let Some(fragment) = document.fragments.get(name) {
                    collect(document, &fragment.node.selection_set.node, out, spread);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(document, &inline.node.selection_set.node, out, spread)
            }
        }
    }
}

/// The keys selected at one level, in order, each with the order below it. What is below a
/// key is collected the first time a response value holds it, once for every item of a
/// list: what is built is bounded by the response, not by how often fragments nest.
struct Order<'a> {
    keys: Vec<Key<'a>>,
}

struct Key<'a> {
    name: Name,
    sets: Vec<&'a SelectionSet>,
    below: OnceCell<Order<'a>>,
}

impl<'a> Order<'a> {
    fn of(document: &'a ExecutableDocument, sets: &[&'a SelectionSet]) -> Self {
        let (mut fields, mut spread) = (Vec::new(), Vec::new());
        for set in sets {
            collect(document, set, &mut fields, &mut spread);
        }
        let keys = fields
            .into_iter()
            .map(|(name, sets)| Key {
                name,
                sets,
                below: OnceCell::new(),
            })
            .collect();
        Order { keys }
    }

    /// Where `name` was selected; keys nobody selected go last, in the order they came.
    fn rank(&self, name: &Name) -> usize {
        self.keys
            .iter()
            .position(|key| key.name == *name)
            .unwrap_or(usize::MAX)
    }

    fn apply(&self, document: &'a ExecutableDocument, value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(document, item);
                }
            }
            Value::Object(map) => {
                // Most objects already are in order (only fields that waited on a loader
                // move); the sort is stable, so it keeps the others' relative order.
                if !map.keys().is_sorted_by_key(|name| self.rank(name)) {
                    map.sort_by(|a, _, b, _| self.rank(a).cmp(&self.rank(b)));
                }
                let mut keys = self.keys.iter();
                for (name, field) in map.iter_mut() {
                    let Some(key) = keys.find(|key| key.name == *name) else {
                        break;
                    };
                    if matches!(field, Value::List(_) | Value::Object(_)) {
                        key.below
                            .get_or_init(|| Order::of(document, &key.sets))
                            .apply(document, field);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Puts `data` of the executed `document` (operation `operation`) in selection order.
pub fn in_selection_order(
    document: &ExecutableDocument,
    operation: Option<&str>,
    data: &mut Value,
) {
    let executed = match &document.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match operation {
            Some(name) => ops.get(&Name::new(name)),
            None if ops.len() == 1 => ops.values().next(),
            None => None,
        },
    };
    if let Some(op) = executed {
        Order::of(document, &[&op.node.selection_set.node]).apply(document, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => vec![],
        }
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn fields_follow_the_selection_through_aliases_fragments_and_lists() {
        let query = "query Q { b: thing { ...F z } a } fragment F on T { y x }";
        let item = object(&[
            ("x", Value::from(1)),
            ("z", Value::from(3)),
            ("y", Value::from(2)),
        ]);
        let mut data = object(&[("a", Value::from(0)), ("b", Value::List(vec![item]))]);
        let document = async_graphql::parser::parse_query(query).unwrap();
        in_selection_order(&document, Some("Q"), &mut data);
        assert_eq!(keys(&data), ["b", "a"]);
        let Value::Object(map) = &data else { panic!() };
        let Value::List(items) = &map[&Name::new("b")] else {
            panic!()
        };
        assert_eq!(keys(&items[0]), ["y", "x", "z"]);
    }

    #[test]
    fn every_item_of_a_list_is_ordered_whether_or_not_others_were() {
        let query = "{ list { a b c } }";
        let ordered = object(&[
            ("a", Value::from(1)),
            ("b", Value::from(2)),
            ("c", Value::from(3)),
        ]);
        let shuffled = object(&[
            ("c", Value::from(3)),
            ("a", Value::from(1)),
            ("b", Value::from(2)),
        ]);
        let partial = object(&[("b", Value::from(2)), ("a", Value::from(1))]);
        let mut data = object(&[("list", Value::List(vec![ordered, shuffled, partial]))]);
        let document = async_graphql::parser::parse_query(query).unwrap();
        in_selection_order(&document, None, &mut data);
        let Value::Object(map) = &data else { panic!() };
        let Value::List(items) = &map[&Name::new("list")] else {
            panic!()
        };
        assert_eq!(keys(&items[0]), ["a", "b", "c"]);
        assert_eq!(keys(&items[1]), ["a", "b", "c"]);
        assert_eq!(keys(&items[2]), ["a", "b"]);
    }

    #[test]
    fn objects_below_every_item_of_a_list_are_ordered() {
        let query = "{ list { o { a b } n } }";
        let shuffled = || object(&[("b", Value::from(2)), ("a", Value::from(1))]);
        let item = || object(&[("n", Value::from(0)), ("o", shuffled())]);
        let mut data = object(&[("list", Value::List(vec![item(), item()]))]);
        let document = async_graphql::parser::parse_query(query).unwrap();
        in_selection_order(&document, None, &mut data);
        let Value::Object(map) = &data else { panic!() };
        let Value::List(items) = &map[&Name::new("list")] else {
            panic!()
        };
        for item in items {
            assert_eq!(keys(item), ["o", "n"]);
            let Value::Object(fields) = item else {
                panic!()
            };
            assert_eq!(keys(&fields[&Name::new("o")]), ["a", "b"]);
        }
    }
}
