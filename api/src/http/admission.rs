//! Checks a parsed document must pass before async-graphql validates or runs it.
//!
//! - **Fragment fan-out.** `F2 { ...F1 ...F1 }`, `F3 { ...F2 ...F2 }` … doubles the work of
//!   every rule that expands spreads (async-graphql's recursion-depth check, depth and
//!   complexity) per level, below each of their limits: thirty levels kept a core busy for
//!   minutes. The selections a document expands to are counted here once per fragment
//!   (memoised), in time linear in the document, and a document past the limit is refused.
//! - **Int range.** async-graphql accepts any 64-bit literal where an `Int` goes and fails only
//!   when the field reads it, which for a field nested in a mutation's payload is after the
//!   mutation has run. Every argument (literal or variable) is checked against its declared
//!   type here, before anything executes.
//! - **NUL characters.** PostgreSQL refuses U+0000 in text and SQLite stores it; no text input
//!   of ours accepts it, so any string argument holding one is refused here, on both.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Selection, SelectionSet, Type, VariableDefinition,
};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::{ConstValue, Value};

use super::types::{named, TypeTable};

/// Why a document may not run: an error for the client with its code.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    /// The argument at fault, as `argument.inputField[index]`.
    pub field: Option<String>,
}

impl Refusal {
    fn too_complex(message: String) -> Self {
        Refusal {
            code: "QUERY_TOO_COMPLEX",
            message,
            field: None,
        }
    }

    fn bad_input(field: &Step<'_>, message: String) -> Self {
        Refusal {
            code: "BAD_USER_INPUT",
            message,
            field: Some(field.to_string()),
        }
    }
}

/// How far a document may expand.
#[derive(Clone, Copy, Debug)]
pub struct ExpansionLimits {
    /// Selections once every fragment spread is expanded in place.
    pub max_selections: u64,
    /// Selection sets and spreads nested inside each other (async-graphql refuses past 32).
    pub max_depth: usize,
}

/// Runs every check on `document`, with the request's `variables`; the most selections an
/// operation of it expands to (what a request costs against its rate limit).
pub fn admit(
    document: &ExecutableDocument,
    variables: &Variables,
    table: &TypeTable,
    limits: ExpansionLimits,
) -> Result<u64, Refusal> {
    let selections = Expansion::new(document, limits).check()?;
    Arguments::new(document, variables, table).check()?;
    Ok(selections)
}

/// Selections counted per fragment, each fragment once.
struct Expansion<'a> {
    document: &'a ExecutableDocument,
    limits: ExpansionLimits,
    counted: HashMap<&'a Name, u64>,
    open: HashSet<&'a Name>,
}

impl<'a> Expansion<'a> {
    fn new(document: &'a ExecutableDocument, limits: ExpansionLimits) -> Self {
        Expansion {
            document,
            limits,
            counted: HashMap::new(),
            open: HashSet::new(),
        }
    }

    /// The most selections any operation expands to.
    fn check(mut self) -> Result<u64, Refusal> {
        let document = self.document;
        for name in document.fragments.keys() {
            self.fragment(name, 0)?;
        }
        let mut most = 0;
        for (_, operation) in document.operations.iter() {
            let total = self.set(&operation.node.selection_set.node, 0)?;
            most = most.max(self.within_limit(total)?);
        }
        Ok(most)
    }

    fn within_limit(&self, count: u64) -> Result<u64, Refusal> {
        if count > self.limits.max_selections {
            return Err(Refusal::too_complex(format!(
                "the document expands to more than {} selections once its fragments are spread",
                self.limits.max_selections
            )));
        }
        Ok(count)
    }

    fn set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<u64, Refusal> {
        if depth > self.limits.max_depth {
            return Err(Refusal::too_complex(format!(
                "the document nests selections and fragments more than {} deep",
                self.limits.max_depth
            )));
        }
        let mut total = 0u64;
        for selection in &set.items {
            let count = match &selection.node {
                Selection::Field(field) => {
                    let below = &field.node.selection_set.node;
                    1 + if below.items.is_empty() {
                        0
                    } else {
                        self.set(below, depth + 1)?
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, depth + 1)?
                }
                Selection::InlineFragment(inline) => {
                    self.set(&inline.node.selection_set.node, depth + 1)?
                }
            };
            total = self.within_limit(total.saturating_add(count))?;
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a Name, depth: usize) -> Result<u64, Refusal> {
        if let Some(count) = self.counted.get(name) {
            return Ok(*count);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(0); // validation reports the unknown fragment
        };
        if !self.open.insert(name) {
            return Ok(0); // a cycle: validation reports it
        }
        let count = self.set(&fragment.node.selection_set.node, depth);
        self.open.remove(name);
        let count = count?;
        self.counted.insert(name, count);
        Ok(count)
    }
}

/// Argument values checked against their declared types, variables included.
struct Arguments<'a> {
    document: &'a ExecutableDocument,
    table: &'a TypeTable,
    variables: &'a Variables,
    defaults: HashMap<&'a Name, &'a ConstValue>,
    /// (variable, declared type) pairs already checked: a variable used a thousand times is
    /// read once.
    seen: HashSet<(Name, String)>,
}

impl<'a> Arguments<'a> {
    fn new(
        document: &'a ExecutableDocument,
        variables: &'a Variables,
        table: &'a TypeTable,
    ) -> Self {
        let defaults = document
            .operations
            .iter()
            .flat_map(|(_, op)| op.node.variable_definitions.iter())
            .filter_map(|definition: &Positioned<VariableDefinition>| {
                let definition = &definition.node;
                Some((
                    &definition.name.node,
                    &definition.default_value.as_ref()?.node,
                ))
            })
            .collect();
        Arguments {
            document,
            table,
            variables,
            defaults,
            seen: HashSet::new(),
        }
    }

    fn check(mut self) -> Result<(), Refusal> {
        let document = self.document;
        for (_, operation) in document.operations.iter() {
            let root = match operation.node.ty {
                async_graphql::parser::types::OperationType::Query => "Query",
                async_graphql::parser::types::OperationType::Mutation => "Mutation",
                async_graphql::parser::types::OperationType::Subscription => "Subscription",
            };
            for definition in &operation.node.variable_definitions {
                let definition = &definition.node;
                if let Some(default) = &definition.default_value {
                    let path = format!("${}", definition.name.node);
                    let ty = &definition.var_type.node;
                    self.value(&default.node, Some(ty), &Step::Argument(&path))?;
                }
            }
            self.set(&operation.node.selection_set.node, Some(root))?;
        }
        for fragment in document.fragments.values() {
            let on = fragment.node.type_condition.node.on.node.as_str();
            self.set(&fragment.node.selection_set.node, Some(on))?;
        }
        Ok(())
    }

    fn set(&mut self, set: &'a SelectionSet, parent: Option<&'a str>) -> Result<(), Refusal> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let table = self.table;
                    let declared = parent.and_then(|p| table.field(p, field.name.node.as_str()));
                    for (name, value) in &field.arguments {
                        let ty = declared.and_then(|d| d.arguments.get(name.node.as_str()));
                        self.value(&value.node, ty, &Step::Argument(name.node.as_str()))?;
                    }
                    self.directives(&field.directives)?;
                    let below = declared.map(|d| named(&d.ty));
                    self.set(&field.selection_set.node, below)?;
                }
                Selection::FragmentSpread(spread) => self.directives(&spread.node.directives)?,
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    self.directives(&inline.directives)?;
                    let on = inline
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(parent);
                    self.set(&inline.selection_set.node, on)?;
                }
            }
        }
        Ok(())
    }

    fn directives(
        &mut self,
        directives: &'a [Positioned<async_graphql::parser::types::Directive>],
    ) -> Result<(), Refusal> {
        for directive in directives {
            for (name, value) in &directive.node.arguments {
                self.value(&value.node, None, &Step::Argument(name.node.as_str()))?;
            }
        }
        Ok(())
    }

    /// Checks `value` (a literal, or a variable's value) at a position of type `ty`.
    fn value<V: Checked>(
        &mut self,
        value: &V,
        ty: Option<&Type>,
        path: &Step<'_>,
    ) -> Result<(), Refusal> {
        if let Some(name) = value.variable() {
            let found = self
                .variables
                .get(name)
                .or_else(|| self.defaults.get(name).copied());
            let Some(found) = found else { return Ok(()) };
            let key = (name.clone(), ty.map(Type::to_string).unwrap_or_default());
            if self.seen.insert(key) {
                let variable = format!("${name}");
                self.value(found, ty, &Step::Argument(&variable))?;
            }
            return Ok(());
        }
        if let Some(text) = value.text() {
            return no_nul(text, path);
        }
        if let Some(number) = value.number() {
            return int_in_range(number, ty, path);
        }
        if let Some(items) = value.items() {
            let inner = ty.map(element);
            for (index, item) in items.iter().enumerate() {
                self.value(item, inner, &Step::Index(path, index))?;
            }
            return Ok(());
        }
        if let Some(fields) = value.fields() {
            let table = self.table;
            let declared = ty.and_then(|t| table.input_fields(named(t)));
            for (name, item) in fields {
                let inner = declared.and_then(|d| d.get(name.as_str()));
                self.value(item, inner, &Step::Field(path, name.as_str()))?;
            }
        }
        Ok(())
    }
}

/// A value whose text and numbers are checked: a document's literal (which may name a
/// variable) or a variable's value (which may not).
trait Checked: Sized {
    fn variable(&self) -> Option<&Name>;
    fn text(&self) -> Option<&str>;
    fn number(&self) -> Option<&async_graphql::Number>;
    fn items(&self) -> Option<&[Self]>;
    fn fields(&self) -> Option<impl Iterator<Item = (&Name, &Self)>>;
}

impl Checked for Value {
    fn variable(&self) -> Option<&Name> {
        match self {
            Value::Variable(name) => Some(name),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    fn number(&self) -> Option<&async_graphql::Number> {
        match self {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    fn fields(&self) -> Option<impl Iterator<Item = (&Name, &Self)>> {
        match self {
            Value::Object(fields) => Some(fields.iter()),
            _ => None,
        }
    }
}

impl Checked for ConstValue {
    fn variable(&self) -> Option<&Name> {
        None
    }

    fn text(&self) -> Option<&str> {
        match self {
            ConstValue::String(text) => Some(text),
            _ => None,
        }
    }

    fn number(&self) -> Option<&async_graphql::Number> {
        match self {
            ConstValue::Number(number) => Some(number),
            _ => None,
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match self {
            ConstValue::List(items) => Some(items),
            _ => None,
        }
    }

    fn fields(&self) -> Option<impl Iterator<Item = (&Name, &Self)>> {
        match self {
            ConstValue::Object(fields) => Some(fields.iter()),
            _ => None,
        }
    }
}

/// Where a value stands, spelt out only when it is refused (`input.products[2].name`).
enum Step<'p> {
    Argument(&'p str),
    Field(&'p Step<'p>, &'p str),
    Index(&'p Step<'p>, usize),
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Argument(name) => f.write_str(name),
            Step::Field(parent, name) => write!(f, "{parent}.{name}"),
            Step::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The type of a list's items; a single value in a list position is coerced to a list of
/// one, so a named type is its own element.
fn element(ty: &Type) -> &Type {
    match &ty.base {
        BaseType::List(inner) => inner,
        BaseType::Named(_) => ty,
    }
}

fn no_nul(text: &str, path: &Step<'_>) -> Result<(), Refusal> {
    if text.contains('\0') {
        return Err(Refusal::bad_input(
            path,
            format!("`{path}` contains a NUL character (U+0000), which no text input accepts"),
        ));
    }
    Ok(())
}

fn int_in_range(
    number: &async_graphql::Number,
    ty: Option<&Type>,
    path: &Step<'_>,
) -> Result<(), Refusal> {
    let is_int = ty.is_some_and(|t| named(t) == "Int");
    // Fractions are the validation's to report; whole numbers past i64 are out of range too.
    let out_of_range = match number.as_i64() {
        Some(n) => i32::try_from(n).is_err(),
        None => number.is_u64(),
    };
    if is_int && out_of_range {
        return Err(Refusal::bad_input(
            path,
            format!(
                "`{path}` is {number}, outside the Int range ({} to {})",
                i32::MIN,
                i32::MAX
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const SDL: &str = "type Query { items(first: Int, tags: [String!], filter: Filter): [Item!]! }
        type Mutation { create(input: Filter!): Item }
        type Item { name: String, versions(first: Int): [Item!]! }
        input Filter { first: Int, name: String, nested: [Filter!] }";

    const LIMITS: ExpansionLimits = ExpansionLimits {
        max_selections: 100,
        max_depth: 32,
    };

    fn check(query: &str, variables: serde_json::Value) -> Result<(), Refusal> {
        let table = TypeTable::from_sdl(SDL);
        let document = parse_query(query).expect("parses");
        admit(&document, &Variables::from_json(variables), &table, LIMITS).map(|_| ())
    }

    fn fan_out(levels: usize) -> String {
        let mut query = String::from("{ ...F0 } fragment F0 on Query { items { name } }");
        for level in 1..=levels {
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{0} ...F{0} }}",
                level - 1
            ));
        }
        query.replace("{ ...F0 }", &format!("{{ ...F{levels} }}"))
    }

    #[test]
    fn fragment_fan_out_is_counted_once_per_fragment() {
        assert!(check(&fan_out(4), serde_json::json!({})).is_ok());
        let refused = check(&fan_out(30), serde_json::json!({})).expect_err("too large");
        assert_eq!(refused.code, "QUERY_TOO_COMPLEX");
    }

    #[test]
    fn an_unused_fragment_that_fans_out_is_refused_too() {
        let query = fan_out(30).replace("{ ...F30 }", "{ items { name } }");
        assert!(check(&query, serde_json::json!({})).is_err());
    }

    #[test]
    fn ints_outside_32_bits_are_refused_where_an_int_is_declared() {
        let nested =
            "mutation { create(input: {name: \"x\"}) { versions(first: 2147483648) { name } } }";
        let refused = check(nested, serde_json::json!({})).expect_err("out of range");
        assert_eq!(refused.field.as_deref(), Some("first"));
        assert!(check(
            "{ items(first: 2147483647) { name } }",
            serde_json::json!({})
        )
        .is_ok());
        let in_input = "{ items(filter: {nested: [{first: -2147483649}]}) { name } }";
        let refused = check(in_input, serde_json::json!({})).expect_err("out of range");
        assert_eq!(refused.field.as_deref(), Some("filter.nested[0].first"));
        let variable = "query($f: Filter) { items(filter: $f) { name } }";
        let refused = check(variable, serde_json::json!({"f": {"first": 1u64 << 40}}))
            .expect_err("out of range");
        assert_eq!(refused.field.as_deref(), Some("$f.first"));
    }

    #[test]
    fn nul_characters_are_refused_in_literals_and_variables() {
        let literal = "mutation { create(input: {name: \"a\\u0000b\"}) { name } }";
        let refused = check(literal, serde_json::json!({})).expect_err("nul");
        assert_eq!(refused.code, "BAD_USER_INPUT");
        assert_eq!(refused.field.as_deref(), Some("input.name"));
        let variable = "mutation($i: Filter!) { create(input: $i) { name } }";
        let refused =
            check(variable, serde_json::json!({"i": {"name": "a\u{0}"}})).expect_err("nul");
        assert_eq!(refused.field.as_deref(), Some("$i.name"));
        assert!(check(variable, serde_json::json!({"i": {"name": "fine"}})).is_ok());
    }
}
