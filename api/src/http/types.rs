//! The schema's declared types, read once from its SDL: what the front door needs to check a
//! document's arguments before it runs (`admission`) and to put a failed field's `null` where
//! the spec wants it after (`nulls`). async-graphql keeps its registry to itself outside
//! extensions, and the server registers no extension (see `telemetry::operation_span`).

use std::collections::HashMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, Type, TypeKind, TypeSystemDefinition,
};

/// A field of an object or interface: its type and its arguments' types.
pub struct FieldType {
    pub ty: Type,
    pub arguments: HashMap<String, Type>,
}

#[derive(Default)]
pub struct TypeTable {
    /// Output types (objects and interfaces) by name, their fields by name.
    outputs: HashMap<String, HashMap<String, FieldType>>,
    /// Input objects by name, their fields' types by name.
    inputs: HashMap<String, HashMap<String, Type>>,
}

fn field_type(definition: &FieldDefinition) -> FieldType {
    FieldType {
        ty: definition.ty.node.clone(),
        arguments: definition
            .arguments
            .iter()
            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
            .collect(),
    }
}

impl TypeTable {
    /// The table of a schema's SDL (as `Schema::sdl` prints it).
    pub fn from_sdl(sdl: &str) -> Self {
        let mut table = TypeTable::default();
        let Ok(document) = parse_schema(sdl) else {
            tracing::error!("the schema's own SDL did not parse; argument checks are off");
            return table;
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            let fields = match &definition.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                TypeKind::InputObject(input) => {
                    let fields = input
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                        .collect();
                    table.inputs.insert(name, fields);
                    continue;
                }
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), field_type(&f.node)))
                .collect();
            table.outputs.insert(name, fields);
        }
        table
    }

    /// The field `field` of the object or interface `parent`.
    pub fn field(&self, parent: &str, field: &str) -> Option<&FieldType> {
        self.outputs.get(parent)?.get(field)
    }

    /// Whether `name` is an object or interface type.
    pub fn is_output(&self, name: &str) -> bool {
        self.outputs.contains_key(name)
    }

    /// The fields of the input object `name`.
    pub fn input_fields(&self, name: &str) -> Option<&HashMap<String, Type>> {
        self.inputs.get(name)
    }
}

/// The named type under any list wrappers: `[Deal!]!` is `Deal`.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { node(id: ID!): Node, items(first: Int): [Item!]! }
        interface Node { id: ID! }
        type Item implements Node { id: ID!, name: String }
        input Filter { first: Int, tags: [String!] }";

    #[test]
    fn fields_and_inputs_keep_their_declared_types() {
        let table = TypeTable::from_sdl(SDL);
        let items = table.field("Query", "items").expect("items");
        assert_eq!(items.ty.to_string(), "[Item!]!");
        assert_eq!(named(&items.ty), "Item");
        assert_eq!(items.arguments["first"].to_string(), "Int");
        assert!(table.field("Node", "id").is_some());
        assert!(table.is_output("Item"));
        assert_eq!(
            table.input_fields("Filter").expect("input")["tags"].to_string(),
            "[String!]"
        );
        assert!(table.field("Query", "missing").is_none());
    }
}
