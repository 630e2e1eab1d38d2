use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{deal_registration, lead, lead_history as history, lead_routing_rule as rule};

use super::service::{self, NewLead};
use super::stages::{self, Action};
use super::{policy, NODE_KIND, RULE_KIND};
use crate::auth::actor;
use crate::deals::{DealRegistration, Product};
use crate::loaders::{load_group, load_one, HistoryByLead, ProductsByLead};
use crate::partners::{Partner, PartnerType};
use crate::relay::{global_id, local_id, paginate_loaded, PageArgs, RelayConnection};

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::LeadStatus")]
pub enum LeadStatus {
    /// With a partner that has not accepted it yet (see `acceptBy`).
    Assigned,
    Accepted,
    /// Converted into a deal registration (`dealRegistration`).
    Converted,
    /// No eligible partner: a manager assigns it.
    Unassigned,
    Closed,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum LeadAction {
    Accept,
    Decline,
    Convert,
    Assign,
    Close,
}

impl From<Action> for LeadAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Accept => LeadAction::Accept,
            Action::Decline => LeadAction::Decline,
            Action::Convert => LeadAction::Convert,
            Action::Assign => LeadAction::Assign,
            Action::Close => LeadAction::Close,
        }
    }
}

/// A lead from the vendor's marketing, routed to a partner. The partner sees its company,
/// region, vertical and product interest; its contact details only once it accepts.
pub struct Lead(pub lead::Model);

#[Object]
impl Lead {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn company_name(&self) -> &str {
        &self.0.company_name
    }
    async fn company_domain(&self) -> Option<&str> {
        self.0.company_domain.as_deref()
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn vertical(&self) -> Option<&str> {
        self.0.vertical.as_deref()
    }
    /// The products it is interested in.
    async fn product_interest(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Product>> {
        let mut products = Vec::new();
        for row in load_group::<ProductsByLead>(ctx, self.0.id).await? {
            if let Some(p) = load_one::<entity::product::Entity>(ctx, row.product_id).await? {
                products.push(Product(p));
            }
        }
        Ok(products)
    }
    /// Null for a partner until its organisation accepts the lead.
    async fn contact_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        self.contact(ctx, self.0.contact_name.as_deref())
    }
    /// Null for a partner until its organisation accepts the lead.
    async fn contact_email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        self.contact(ctx, self.0.contact_email.as_deref())
    }
    /// Null for a partner until its organisation accepts the lead.
    async fn contact_phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        self.contact(ctx, self.0.contact_phone.as_deref())
    }
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }
    async fn status(&self) -> LeadStatus {
        self.0.status.into()
    }
    /// Statuses the caller's actions can move it to.
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<LeadStatus>> {
        let actions = policy::actions(actor(ctx)?.as_ref(), &self.0);
        Ok(stages::reachable(&actions, self.0.status)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// What the caller can do to it now.
    async fn allowed_actions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LeadAction>> {
        Ok(policy::actions(actor(ctx)?.as_ref(), &self.0)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// The partner it is with (when assigned, accepted or converted).
    async fn assigned_partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.assigned_partner_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::partner::Entity>(ctx, id)
            .await?
            .map(Partner))
    }
    /// The rule that chose the partner (channel managers; null for the fallback).
    async fn routing_rule(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<LeadRoutingRule>> {
        let (Some(id), true) = (self.0.rule_id, policy::sees_routing(actor(ctx)?.as_ref())) else {
            return Ok(None);
        };
        Ok(load_one::<rule::Entity>(ctx, id)
            .await?
            .map(LeadRoutingRule))
    }
    async fn assigned_at(&self) -> Option<DateTime<Utc>> {
        self.0.assigned_at
    }
    /// When the partner's time to accept runs out (then it goes to another partner).
    async fn accept_by(&self) -> Option<DateTime<Utc>> {
        self.0.accept_by
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    async fn converted_at(&self) -> Option<DateTime<Utc>> {
        self.0.converted_at
    }
    /// The deal registration it was converted into (sourced by the partner).
    async fn deal_registration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DealRegistration>> {
        let Some(id) = self.0.registration_id else {
            return Ok(None);
        };
        Ok(load_one::<deal_registration::Entity>(ctx, id)
            .await?
            .map(DealRegistration))
    }
    /// Every routing decision and status change, oldest first; a partner sees its own
    /// organisation's turns, without the routing reasons.
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<LeadHistoryEntry>> {
        let actor = actor(ctx)?;
        let staff = policy::sees_routing(&actor);
        let mut rows = load_group::<HistoryByLead>(ctx, self.0.id).await?;
        if !staff {
            rows.retain(|r| r.partner_id.is_some() && r.partner_id == actor.partner_id);
        }
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |r| r.id,
            move |r| LeadHistoryEntry(r, staff),
        )
        .extend()
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl Lead {
    fn contact<'a>(
        &self,
        ctx: &Context<'_>,
        value: Option<&'a str>,
    ) -> async_graphql::Result<Option<&'a str>> {
        Ok(value.filter(|_| actor(ctx).is_ok_and(|a| policy::sees_contact(a.as_ref(), &self.0))))
    }
}

/// One routing decision or status change (`reason`: channel managers only).
pub struct LeadHistoryEntry(history::Model, bool);

#[Object]
impl LeadHistoryEntry {
    async fn from_status(&self) -> Option<LeadStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> LeadStatus {
        self.0.to_status.into()
    }
    /// The partner it was with after the change.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::partner::Entity>(ctx, id)
            .await?
            .map(Partner))
    }
    /// Why: the rule or fallback that chose the partner, a decline, a lapse.
    async fn reason(&self) -> Option<&str> {
        self.1.then_some(self.0.reason.as_str())
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<crate::users::User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A rule that sends matching leads to eligible partners (channel managers).
pub struct LeadRoutingRule(pub rule::Model);

fn ids_of(json: &str, kind: &str) -> Vec<ID> {
    serde_json::from_str::<Vec<i64>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|id| global_id(kind, id))
        .collect()
}

fn texts_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[Object]
impl LeadRoutingRule {
    pub async fn id(&self) -> ID {
        global_id(RULE_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Lower numbers are tried first.
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    async fn regions(&self) -> Vec<String> {
        texts_of(&self.0.regions)
    }
    async fn verticals(&self) -> Vec<String> {
        texts_of(&self.0.verticals)
    }
    async fn product_ids(&self) -> Vec<ID> {
        ids_of(&self.0.product_ids, crate::deals::PRODUCT_KIND)
    }
    async fn partner_ids(&self) -> Vec<ID> {
        ids_of(&self.0.partner_ids, crate::partners::NODE_KIND)
    }
    async fn partner_types(&self) -> Vec<PartnerType> {
        service::parse_types(&self.0.partner_types)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    async fn min_tier_id(&self) -> Option<ID> {
        self.0
            .min_tier_id
            .map(|t| global_id(crate::tiers::NODE_KIND, t))
    }
    async fn certification_program_ids(&self) -> Vec<ID> {
        ids_of(
            &self.0.certification_program_ids,
            crate::training::PROGRAM_KIND,
        )
    }
    /// Most open leads a partner may hold to receive another from this rule.
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The program's lead settings.
#[derive(SimpleObject)]
pub struct LeadSettingsView {
    /// Hours a partner has to accept a lead before it goes to another.
    pub accept_within_hours: i32,
    /// The weighted fallback's weight per tier (0: never receives from the fallback).
    pub tier_weights: Vec<TierWeight>,
    /// The weight of tiers not listed and of partners without a tier.
    pub default_weight: i32,
}

#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "TierWeightInput")]
pub struct TierWeight {
    pub tier_id: ID,
    pub weight: i32,
}

impl From<&service::LeadSettings> for LeadSettingsView {
    fn from(s: &service::LeadSettings) -> Self {
        LeadSettingsView {
            accept_within_hours: s.accept_within_hours as i32,
            tier_weights: s
                .tier_weights
                .iter()
                .map(|(tier, weight)| TierWeight {
                    tier_id: global_id(crate::tiers::NODE_KIND, *tier),
                    weight: *weight as i32,
                })
                .collect(),
            default_weight: s.default_weight as i32,
        }
    }
}

/// A lead as sent (`createLead`, each of `createLeads`).
#[derive(InputObject, Clone)]
pub struct CreateLeadInput {
    pub company_name: String,
    pub company_domain: Option<String>,
    /// ISO 3166 two-letter code.
    pub country: Option<String>,
    pub region: Option<String>,
    pub vertical: Option<String>,
    /// Products it is interested in.
    pub product_ids: Option<Vec<ID>>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// Where it came from (a campaign, a web form).
    pub source: Option<String>,
    /// Replaying a call with the same key returns the first lead and creates nothing.
    pub idempotency_key: Option<String>,
}

impl CreateLeadInput {
    pub fn new_lead(&self) -> NewLead {
        NewLead {
            company_name: self.company_name.clone(),
            company_domain: self.company_domain.clone(),
            country: self.country.clone(),
            region: self.region.clone(),
            vertical: self.vertical.clone(),
            product_ids: self
                .product_ids
                .iter()
                .flatten()
                .map(|id| local_id(id, crate::deals::PRODUCT_KIND).unwrap_or(-1))
                .collect(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            contact_phone: self.contact_phone.clone(),
            source: self.source.clone(),
        }
    }
}
