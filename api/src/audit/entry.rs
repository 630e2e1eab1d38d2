//! What the audit log keeps of one executed mutation, pure: its root fields, the objects it
//! named (global IDs in its arguments, and the objects its payload returned), and how it
//! ended. Hostile documents are bounded: at most `MAX_IDS` ids and `MAX_DEPTH` levels.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
};
use async_graphql::{Name, Value, Variables};
use entity::enums::AuditOutcome;

use crate::relay::decode_global_id;

const MAX_IDS: usize = 100;
const MAX_DEPTH: usize = 8;
const MAX_CODES: usize = 10;
const MAX_NAME: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub fields: Vec<String>,
    pub object_ids: Vec<String>,
    pub outcome: AuditOutcome,
    pub error_codes: Vec<String>,
}

fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(&op.node),
        DocumentOperations::Multiple(ops) => match name {
            Some(name) => ops.get(&Name::new(name)).map(|op| &op.node),
            None => ops.values().next().map(|op| &op.node),
        },
    }
}

/// A root field: its name, its key in the response, and its arguments with variables put in.
struct Root {
    name: String,
    key: String,
    arguments: Vec<(String, Value)>,
}

fn roots(operation: &OperationDefinition, variables: &Variables) -> Vec<Root> {
    operation
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(field) => Some(&field.node),
            _ => None,
        })
        .map(|field| Root {
            name: field.name.node.to_string(),
            key: field.response_key().node.to_string(),
            arguments: field
                .arguments
                .iter()
                .map(|(name, value)| {
                    let value = value
                        .node
                        .clone()
                        .into_const_with(|var| {
                            Ok::<_, ()>(variables.get(&var).cloned().unwrap_or(Value::Null))
                        })
                        .unwrap_or(Value::Null);
                    (name.node.to_string(), value)
                })
                .collect(),
        })
        .collect()
}

fn is_id_key(key: &str) -> bool {
    key == "id" || key.ends_with("Id") || key.ends_with("Ids")
}

fn push_id(out: &mut Vec<String>, value: &str) {
    if out.len() < MAX_IDS
        && value.len() <= MAX_NAME
        && decode_global_id(value).is_some()
        && !out.iter().any(|known| known == value)
    {
        out.push(value.to_owned());
    }
}

/// Global IDs under id-named keys (`id`, `…Id`, `…Ids`) anywhere in an argument.
fn ids_in(value: &Value, under_id_key: bool, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH || out.len() >= MAX_IDS {
        return;
    }
    match value {
        Value::String(s) if under_id_key => push_id(out, s),
        Value::List(items) => {
            for item in items {
                ids_in(item, under_id_key, depth + 1, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                ids_in(item, is_id_key(key), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// The ids a payload returned: its own, its id-named fields, and its objects' ids.
fn payload_ids(payload: &Value, out: &mut Vec<String>) {
    let Value::Object(map) = payload else {
        return;
    };
    for (key, value) in map {
        match value {
            Value::String(s) if is_id_key(key) => push_id(out, s),
            Value::Object(object) => {
                if let Some(Value::String(id)) = object.get("id") {
                    push_id(out, id);
                }
            }
            Value::List(items) => {
                for item in items.iter().take(MAX_IDS) {
                    if let Value::Object(object) = item {
                        if let Some(Value::String(id)) = object.get("id") {
                            push_id(out, id);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// The codes of a payload's `userErrors`, or `None` when they were not asked for. When they
/// were not, a payload whose objects are all null is taken as rejected (by convention a
/// payload's changed object is null exactly when it has user errors).
fn rejection(payload: &Value) -> Option<Vec<String>> {
    let Value::Object(map) = payload else {
        return None;
    };
    if let Some(Value::List(errors)) = map.get("userErrors") {
        let codes = errors
            .iter()
            .filter_map(|e| match e {
                Value::Object(e) => match e.get("code") {
                    Some(Value::Enum(code)) => Some(code.to_string()),
                    Some(Value::String(code)) => Some(code.clone()),
                    _ => Some("USER_ERROR".to_owned()),
                },
                _ => None,
            })
            .collect::<Vec<_>>();
        return (!codes.is_empty()).then_some(codes);
    }
    let objects: Vec<&Value> = map
        .iter()
        .filter(|(key, _)| key.as_str() != "__typename")
        .map(|(_, v)| v)
        .filter(|v| matches!(v, Value::Object(_) | Value::Null))
        .collect();
    (!objects.is_empty() && objects.iter().all(|v| matches!(v, Value::Null)))
        .then(|| vec!["USER_ERROR".to_owned()])
}

fn add_codes(codes: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    for code in more {
        if codes.len() < MAX_CODES && !codes.contains(&code) {
            codes.push(code.chars().take(64).collect());
        }
    }
}

/// The audit entry of a mutation operation as executed.
pub fn of(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    response: &async_graphql::Response,
) -> Entry {
    let roots = operation(document, operation_name)
        .map(|op| roots(op, variables))
        .unwrap_or_default();
    let mut object_ids = Vec::new();
    for root in &roots {
        for (name, value) in &root.arguments {
            ids_in(value, is_id_key(name), 0, &mut object_ids);
        }
    }
    let data = match &response.data {
        Value::Object(map) => Some(map),
        _ => None,
    };
    let mut error_codes = Vec::new();
    let mut rejected = false;
    for root in &roots {
        let Some(payload) = data.and_then(|d| d.get(root.key.as_str())) else {
            continue;
        };
        payload_ids(payload, &mut object_ids);
        if let Some(codes) = rejection(payload) {
            rejected = true;
            add_codes(&mut error_codes, codes);
        }
    }
    let failed = !response.errors.is_empty();
    add_codes(
        &mut error_codes,
        response.errors.iter().map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| match c {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "ERROR".to_owned())
        }),
    );
    Entry {
        fields: roots
            .iter()
            .map(|r| r.name.chars().take(MAX_NAME).collect())
            .collect(),
        object_ids,
        outcome: if failed {
            AuditOutcome::Failed
        } else if rejected {
            AuditOutcome::Rejected
        } else {
            AuditOutcome::Succeeded
        },
        error_codes,
    }
}

/// The name of the (single) mutation in `query` when the request did not name one: the
/// parsed document keeps a lone operation's name nowhere, so it is read from the text,
/// skipping strings, comments and everything inside braces.
pub fn mutation_name(query: &str) -> Option<String> {
    let mut chars = query.char_indices().peekable();
    let mut depth = 0usize;
    let mut after_keyword = false;
    while let Some((at, c)) = chars.next() {
        match c {
            '#' => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            '"' => {
                let block = query[at..].starts_with("\"\"\"");
                if block {
                    chars.next();
                    chars.next();
                }
                let mut escaped = false;
                while let Some((end, c)) = chars.next() {
                    if block {
                        if query[end..].starts_with("\"\"\"") {
                            chars.next();
                            chars.next();
                            break;
                        }
                    } else if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '{' | '(' => {
                if after_keyword {
                    return None;
                }
                depth += 1;
            }
            '}' | ')' => depth = depth.saturating_sub(1),
            c if depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                let mut end = at + c.len_utf8();
                while let Some((i, c)) = chars.peek().copied() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        chars.next();
                        end = i + 1;
                    } else {
                        break;
                    }
                }
                let word = &query[at..end];
                if after_keyword {
                    return Some(word.chars().take(MAX_NAME).collect());
                }
                after_keyword = word == "mutation";
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::global_id;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a document")
    }

    fn response(data: serde_json::Value) -> async_graphql::Response {
        async_graphql::Response::new(Value::from_json(data).expect("json"))
    }

    #[test]
    fn ids_come_from_arguments_inline_or_in_variables_and_from_the_payload() {
        let deal = global_id("DealRegistration", 7).to_string();
        let product = global_id("Product", 3).to_string();
        let document = parse(
            "mutation Approve($i: ApproveDealInput!) { approveDealRegistration(input: $i) { dealRegistration { id } userErrors { code } } \
             other: registerDeal(input: { productIds: [\"PRODUCT\"], customerName: \"x\" }) { dealRegistration { id } } }"
                .replace("PRODUCT", &product)
                .as_str(),
        );
        let variables =
            Variables::from_json(serde_json::json!({ "i": { "id": deal, "reason": "not-an-id" } }));
        let created = global_id("DealRegistration", 8).to_string();
        let entry = of(
            &document,
            Some("Approve"),
            &variables,
            &response(serde_json::json!({
                "approveDealRegistration": { "dealRegistration": { "id": deal }, "userErrors": [] },
                "other": { "dealRegistration": { "id": created } }
            })),
        );
        assert_eq!(
            entry.fields,
            vec!["approveDealRegistration", "registerDeal"]
        );
        assert_eq!(entry.object_ids, vec![deal, product, created]);
        assert_eq!(entry.outcome, AuditOutcome::Succeeded);
    }

    #[test]
    fn user_errors_reject_and_errors_fail() {
        let document = parse("mutation { createLead(input: { companyName: \"\" }) { lead { id } userErrors { code } } }");
        let rejected = of(
            &document,
            None,
            &Variables::default(),
            &response(
                serde_json::json!({ "createLead": { "lead": null, "userErrors": [{ "code": "REQUIRED" }] } }),
            ),
        );
        assert_eq!(rejected.outcome, AuditOutcome::Rejected);
        assert_eq!(rejected.error_codes, vec!["REQUIRED"]);
        // Without userErrors asked for, a payload whose object is null was rejected.
        let unasked =
            parse("mutation { createLead(input: { companyName: \"\" }) { lead { id } } }");
        let quiet = of(
            &unasked,
            None,
            &Variables::default(),
            &response(serde_json::json!({ "createLead": { "lead": null } })),
        );
        assert_eq!(quiet.outcome, AuditOutcome::Rejected);
        let mut failed = response(serde_json::json!({ "createLead": null }));
        let mut error = async_graphql::ServerError::new("forbidden", None);
        error.extensions = Some({
            let mut x = async_graphql::ErrorExtensionValues::default();
            x.set("code", "FORBIDDEN");
            x
        });
        failed.errors.push(error);
        let entry = of(&document, None, &Variables::default(), &failed);
        assert_eq!(entry.outcome, AuditOutcome::Failed);
        assert_eq!(entry.error_codes, vec!["FORBIDDEN"]);
    }

    #[test]
    fn a_lone_mutations_name_is_read_from_the_text() {
        assert_eq!(
            mutation_name("mutation Approve($i: X!) { a(input: $i) { b } }").as_deref(),
            Some("Approve")
        );
        assert_eq!(
            mutation_name("# mutation Fake\nfragment F on P { id } mutation Real { a { ...F } }")
                .as_deref(),
            Some("Real")
        );
        assert_eq!(
            mutation_name("mutation { a(input: { s: \"mutation Inside\" }) { b } }"),
            None
        );
        assert_eq!(mutation_name("mutation($i: X!) { a }"), None);
    }

    #[test]
    fn hostile_arguments_are_bounded() {
        let ids: Vec<String> = (0..500).map(|i| global_id("Lead", i).to_string()).collect();
        let document = parse("mutation($i: X!) { createLeads(input: $i) { userErrors { code } } }");
        let variables = Variables::from_json(serde_json::json!({ "i": { "leadIds": ids } }));
        let entry = of(
            &document,
            None,
            &variables,
            &response(serde_json::json!({ "createLeads": { "userErrors": [] } })),
        );
        assert_eq!(entry.object_ids.len(), MAX_IDS);
    }
}
