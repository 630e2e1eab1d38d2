//! What an API key may do: the one place that maps operations to scopes. A key's caller is
//! still its organisation's role, so every domain's own policy runs after this; a scope only
//! narrows. Anything not listed here is closed to keys (deny by default): a new root field
//! stays out of reach of keys until it is given a scope.

use async_graphql::Enum;

/// A permission an API key carries. `…_WRITE` includes `…_READ` of the same thing.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// Read deal registrations, products, accounts, import jobs; check conflicts.
    RegistrationsRead,
    /// Register, update, submit and move deal registrations; bulk imports.
    RegistrationsWrite,
    /// Read enablement content and record engagement.
    ContentRead,
    /// Read rebates, MDF and incentive awards.
    IncentivesRead,
    /// Read partners, users and tiers.
    PartnersRead,
    /// Create, list and replay webhook endpoints and their deliveries.
    WebhooksManage,
    /// Read program metrics and partner health (`channelMetrics`, `atRiskPartners`,
    /// `healthModel`), as the key's organisation may see them.
    MetricsRead,
    /// Read the leads routed to the key's organisation (all leads for vendor keys) and lead
    /// metrics.
    LeadsRead,
    /// Accept, decline and convert leads; vendor keys also create them (marketing systems).
    LeadsWrite,
    /// Read joint business plans, their comments and reviews.
    PlansRead,
}

impl ApiScope {
    pub const ALL: [ApiScope; 10] = [
        ApiScope::RegistrationsRead,
        ApiScope::RegistrationsWrite,
        ApiScope::ContentRead,
        ApiScope::IncentivesRead,
        ApiScope::PartnersRead,
        ApiScope::WebhooksManage,
        ApiScope::MetricsRead,
        ApiScope::LeadsRead,
        ApiScope::LeadsWrite,
        ApiScope::PlansRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApiScope::RegistrationsRead => "REGISTRATIONS_READ",
            ApiScope::RegistrationsWrite => "REGISTRATIONS_WRITE",
            ApiScope::ContentRead => "CONTENT_READ",
            ApiScope::IncentivesRead => "INCENTIVES_READ",
            ApiScope::PartnersRead => "PARTNERS_READ",
            ApiScope::WebhooksManage => "WEBHOOKS_MANAGE",
            ApiScope::MetricsRead => "METRICS_READ",
            ApiScope::LeadsRead => "LEADS_READ",
            ApiScope::LeadsWrite => "LEADS_WRITE",
            ApiScope::PlansRead => "PLANS_READ",
        }
    }

    pub fn parse(name: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The scope that includes this one, if any.
    fn implied_by(self) -> Option<ApiScope> {
        match self {
            ApiScope::RegistrationsRead => Some(ApiScope::RegistrationsWrite),
            ApiScope::LeadsRead => Some(ApiScope::LeadsWrite),
            _ => None,
        }
    }
}

/// A key's scopes, as stored (`REGISTRATIONS_READ,CONTENT_READ`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<ApiScope>);

impl Scopes {
    pub fn new(mut scopes: Vec<ApiScope>) -> Self {
        scopes.sort_by_key(|s| s.name());
        scopes.dedup();
        Scopes(scopes)
    }

    pub fn parse(stored: &str) -> Self {
        Scopes::new(stored.split(',').filter_map(ApiScope::parse).collect())
    }

    pub fn stored(&self) -> String {
        self.0
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn list(&self) -> &[ApiScope] {
        &self.0
    }

    pub fn allows(&self, needed: ApiScope) -> bool {
        self.0.contains(&needed) || needed.implied_by().is_some_and(|s| self.0.contains(&s))
    }
}

/// What a root field needs of a key: a scope, any key at all, or it is closed to keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Scope(ApiScope),
    AnyKey,
    SessionOnly,
}

/// The need of the root field `field` (of any operation type).
pub fn need_of(field: &str) -> Need {
    use ApiScope::*;
    match field {
        "__typename" | "me" | "node" | "nodes" => Need::AnyKey,
        "dealRegistrations"
        | "dealReviewQueue"
        | "products"
        | "accounts"
        | "checkConflicts"
        | "importJob"
        | "dealRegistrationChanged" => Need::Scope(RegistrationsRead),
        "registerDeal"
        | "updateDealRegistration"
        | "submitDealRegistration"
        | "startDealReview"
        | "approveDealRegistration"
        | "rejectDealRegistration"
        | "returnDealRegistration"
        | "withdrawDealRegistration"
        | "cancelDealRegistration"
        | "markDealWon"
        | "markDealLost"
        | "requestProtectionExtension"
        | "decideProtectionExtension"
        | "addDealComment"
        | "contestDealRegistration"
        | "importDealRegistrations" => Need::Scope(RegistrationsWrite),
        "contents" | "contentReviewQueue" | "recordContentEvent" | "contentChanged" => {
            Need::Scope(ContentRead)
        }
        "rebatePrograms" | "rebateStatement" | "simulateRebate" | "ledger" | "mdfBudgets"
        | "mdfAllocations" | "incentiveAwards" => Need::Scope(IncentivesRead),
        "partners" | "partner" | "users" | "tiers" | "partnerContentEngagement" => {
            Need::Scope(PartnersRead)
        }
        "webhookEndpoints"
        | "webhookDeliveries"
        | "createWebhookEndpoint"
        | "disableWebhookEndpoint"
        | "enableWebhookEndpoint"
        | "redeliverWebhook"
        | "replayWebhooks" => Need::Scope(WebhooksManage),
        "channelMetrics" | "atRiskPartners" | "healthModel" => Need::Scope(MetricsRead),
        "leads" | "leadMetrics" => Need::Scope(LeadsRead),
        "createLead" | "createLeads" | "acceptLead" | "declineLead" | "convertLead" => {
            Need::Scope(LeadsWrite)
        }
        "jointBusinessPlans" => Need::Scope(PlansRead),
        _ => Need::SessionOnly,
    }
}

/// The scope a `node(id:)` of `kind` (a global ID's type) needs of a key; `None`: closed.
pub fn need_of_node(kind: &str) -> Option<ApiScope> {
    use ApiScope::*;
    match kind {
        "DealRegistration" | "Product" | "ImportJob" => Some(RegistrationsRead),
        "Content" => Some(ContentRead),
        "Partner" | "User" | "Tier" | "Contact" => Some(PartnersRead),
        "WebhookEndpoint" => Some(WebhooksManage),
        "Lead" => Some(LeadsRead),
        "JointBusinessPlan" | "JointBusinessPlanComment" | "JointBusinessPlanReview" => {
            Some(PlansRead)
        }
        _ => None,
    }
}

/// Why a key may not call `field`, or `None` when it may.
pub fn refusal(scopes: &Scopes, field: &str) -> Option<String> {
    match need_of(field) {
        Need::AnyKey => None,
        Need::Scope(scope) if scopes.allows(scope) => None,
        Need::Scope(scope) => Some(format!(
            "this API key lacks the {} scope that `{field}` needs",
            scope.name()
        )),
        Need::SessionOnly => Some(format!(
            "`{field}` cannot be called with an API key; sign in as a user"
        )),
    }
}

/// The first root field of `document`'s operation `operation` that `scopes` do not allow,
/// with why; checked before anything executes.
pub fn refuse_document(
    document: &async_graphql::parser::types::ExecutableDocument,
    operation: Option<&str>,
    scopes: &Scopes,
) -> Option<String> {
    use async_graphql::parser::types::{DocumentOperations, Selection, SelectionSet};
    fn first_refused(
        set: &SelectionSet,
        document: &async_graphql::parser::types::ExecutableDocument,
        scopes: &Scopes,
        depth: usize,
    ) -> Option<String> {
        // Fragments on the root cannot nest deeper than the document's own limit; this
        // bound only guards against a cycle that validation has not refused yet.
        if depth > 32 {
            return Some("fragments nest too deep".into());
        }
        set.items.iter().find_map(|item| match &item.node {
            Selection::Field(field) => refusal(scopes, field.node.name.node.as_str()),
            Selection::InlineFragment(inline) => {
                first_refused(&inline.node.selection_set.node, document, scopes, depth + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .and_then(|f| {
                    first_refused(&f.node.selection_set.node, document, scopes, depth + 1)
                }),
        })
    }
    let op = match (&document.operations, operation) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) => ops.values().next()?,
    };
    first_refused(&op.node.selection_set.node, document, scopes, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_includes_read_and_nothing_else() {
        let scopes = Scopes::new(vec![ApiScope::RegistrationsWrite]);
        assert!(refusal(&scopes, "registerDeal").is_none());
        assert!(refusal(&scopes, "dealRegistrations").is_none());
        assert!(refusal(&scopes, "contents").is_some());
        assert!(refusal(&scopes, "createApiKey").is_some());
    }

    #[test]
    fn read_only_keys_cannot_write() {
        let scopes = Scopes::new(vec![ApiScope::ContentRead]);
        assert!(refusal(&scopes, "contents").is_none());
        let refused = refusal(&scopes, "registerDeal").expect("refused");
        assert!(refused.contains("REGISTRATIONS_WRITE"));
        assert!(refusal(&scopes, "me").is_none());
    }

    #[test]
    fn unknown_fields_are_closed_to_keys() {
        let scopes = Scopes::new(ApiScope::ALL.to_vec());
        assert!(refusal(&scopes, "createPartner").is_some());
        assert!(refusal(&scopes, "login").is_some());
        assert!(refusal(&scopes, "somethingAddedLater").is_some());
    }

    #[test]
    fn stored_form_round_trips_sorted_without_duplicates() {
        let scopes = Scopes::new(vec![
            ApiScope::WebhooksManage,
            ApiScope::ContentRead,
            ApiScope::ContentRead,
        ]);
        assert_eq!(scopes.stored(), "CONTENT_READ,WEBHOOKS_MANAGE");
        assert_eq!(Scopes::parse(&scopes.stored()), scopes);
        assert_eq!(
            Scopes::parse("BOGUS,CONTENT_READ").list(),
            &[ApiScope::ContentRead]
        );
    }
}
