//! The lead queries and mutations.

use async_graphql::{Context, InputObject, Object, ResultExt, SimpleObject, ID};
use entity::{lead, lead_routing_rule as rule};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::respond::{self, Conversion};
use super::rules::{self, NewRule};
use super::service::{self, Outcome};
use super::types::{
    CreateLeadInput, Lead, LeadRoutingRule, LeadSettingsView, LeadStatus, TierWeight,
};
use super::{figures, policy, NODE_KIND, RULE_KIND};
use crate::auth::actor;
use crate::db::Db;
use crate::deals::DealRegistration;
use crate::error::AppError;
use crate::money::{Money, MoneyInput};
use crate::partners::PartnerType;
use crate::relay::{local_id, paginate, PageArgs, RelayConnection, UserError, UserErrorCode};

#[derive(SimpleObject, Default)]
pub struct LeadPayload {
    pub lead: Option<Lead>,
    pub user_errors: Vec<UserError>,
}

fn payload(result: Outcome<lead::Model>) -> LeadPayload {
    match result {
        Ok(model) => LeadPayload {
            lead: Some(Lead(model)),
            user_errors: vec![],
        },
        Err(user_errors) => LeadPayload {
            lead: None,
            user_errors,
        },
    }
}

fn not_found() -> LeadPayload {
    LeadPayload {
        lead: None,
        user_errors: UserError::one("id", UserErrorCode::NotFound, "no such lead"),
    }
}

/// The lead `id` names, if the caller sees it.
pub async fn find_visible(
    db: &Db,
    actor: &crate::auth::Actor,
    id: i64,
) -> crate::error::AppResult<Option<lead::Model>> {
    Ok(policy::visible_select(db, actor)
        .await?
        .filter(lead::Column::Id.eq(id))
        .one(db)
        .await?)
}

async fn visible(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<lead::Model>> {
    let Some(local) = local_id(id, NODE_KIND) else {
        return Ok(None);
    };
    find_visible(ctx.data::<Db>()?, actor(ctx)?.as_ref(), local)
        .await
        .extend()
}

#[derive(InputObject, Default)]
pub struct LeadFilter {
    pub statuses: Option<Vec<LeadStatus>>,
    /// Leads with this partner now.
    pub partner_id: Option<ID>,
}

/// A partner's lead figures (or the whole program's).
#[derive(SimpleObject)]
pub struct LeadMetrics {
    /// Times a lead was assigned to it.
    pub received: u64,
    pub accepted: u64,
    pub declined: u64,
    /// Leads it did not accept in time (they went to another partner).
    pub lapsed: u64,
    pub converted: u64,
    /// accepted / received.
    pub acceptance_rate: Option<f64>,
    /// converted / accepted.
    pub conversion_rate: Option<f64>,
    /// Median whole hours from an assignment to its acceptance.
    pub median_hours_to_accept: Option<f64>,
    /// Σ closed amounts of won registrations converted from its leads, per currency.
    pub converted_revenue: Vec<Money>,
}

#[derive(Default)]
pub struct LeadQuery;

#[Object]
impl LeadQuery {
    /// Leads the caller sees, oldest first: every lead for channel managers; for a partner,
    /// those with its organisation (contact details once it accepts).
    async fn leads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<LeadFilter>,
    ) -> async_graphql::Result<RelayConnection<Lead>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let filter = filter.unwrap_or_default();
        let mut select = policy::visible_select(db, &actor).await.extend()?;
        if let Some(statuses) = filter.statuses {
            let stored: Vec<entity::enums::LeadStatus> =
                statuses.into_iter().map(Into::into).collect();
            select = select.filter(lead::Column::Status.is_in(stored));
        }
        if let Some(partner) = filter.partner_id {
            let id = local_id(&partner, crate::partners::NODE_KIND).unwrap_or(-1);
            select = select.filter(lead::Column::AssignedPartnerId.eq(id));
        }
        paginate(
            db,
            select,
            lead::Column::Id,
            &PageArgs::new(first, after, last, before),
            |l| l.id,
            Lead,
        )
        .await
        .extend()
    }

    /// The routing rules, in id order (channel managers).
    async fn lead_routing_rules(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<LeadRoutingRule>> {
        if !policy::can_manage(actor(ctx)?.as_ref()) {
            return Err(AppError::forbidden()).extend();
        }
        paginate(
            ctx.data::<Db>()?,
            rule::Entity::find(),
            rule::Column::Id,
            &PageArgs::new(first, after, last, before),
            |r| r.id,
            LeadRoutingRule,
        )
        .await
        .extend()
    }

    /// The time partners have to accept and the fallback's weights (channel managers).
    async fn lead_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<LeadSettingsView> {
        if !policy::can_manage(actor(ctx)?.as_ref()) {
            return Err(AppError::forbidden()).extend();
        }
        Ok((&service::settings(ctx.data::<Db>()?).await.extend()?).into())
    }

    /// A partner's lead figures: its own for a partner user; any partner's, or the whole
    /// program's without `partnerId`, for channel managers.
    async fn lead_metrics(
        &self,
        ctx: &Context<'_>,
        partner_id: Option<ID>,
    ) -> async_graphql::Result<LeadMetrics> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let partner = match (&partner_id, actor.partner_id) {
            (_, Some(own)) if actor.role == entity::enums::Role::Partner => {
                if partner_id
                    .as_ref()
                    .is_some_and(|id| local_id(id, crate::partners::NODE_KIND) != Some(own))
                {
                    return Err(AppError::NotFound("partner".into())).extend();
                }
                Some(own)
            }
            _ if !policy::can_manage(&actor) => return Err(AppError::forbidden()).extend(),
            (Some(id), _) => Some(
                local_id(id, crate::partners::NODE_KIND)
                    .ok_or_else(|| AppError::NotFound("partner".into()))
                    .extend()?,
            ),
            (None, _) => None,
        };
        let (turns, declined, lapsed, revenue) = rules::lead_facts(db, partner).await.extend()?;
        let f = figures::figures(&turns, declined, lapsed);
        Ok(LeadMetrics {
            received: f.received,
            accepted: f.accepted,
            declined: f.declined,
            lapsed: f.lapsed,
            converted: f.converted,
            acceptance_rate: f.acceptance_rate,
            conversion_rate: f.conversion_rate,
            median_hours_to_accept: f.median_hours_to_accept,
            converted_revenue: revenue,
        })
    }
}

#[derive(InputObject)]
pub struct CreateLeadsInput {
    /// At most 500; each is checked and routed on its own.
    pub leads: Vec<CreateLeadInput>,
}

#[derive(SimpleObject)]
pub struct CreateLeadsPayload {
    /// One result per input, in order.
    pub results: Vec<LeadPayload>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct AcceptLeadInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct DeclineLeadInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct CloseLeadInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AssignLeadInput {
    pub id: ID,
    pub partner_id: ID,
}

#[derive(InputObject)]
pub struct ConvertLeadInput {
    pub id: ID,
    /// The registration's products (the lead's product interest by default).
    pub product_ids: Option<Vec<ID>>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<chrono::NaiveDate>,
    pub description: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct ConvertLeadPayload {
    pub lead: Option<Lead>,
    /// The submitted registration, with its conflict check.
    pub deal_registration: Option<DealRegistration>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateLeadRoutingRuleInput {
    pub name: String,
    /// Lower numbers are tried first (ties: the older rule).
    pub priority: i32,
    pub regions: Option<Vec<String>>,
    pub verticals: Option<Vec<String>>,
    pub product_ids: Option<Vec<ID>>,
    /// Only these partners (any active partner when absent).
    pub partner_ids: Option<Vec<ID>>,
    pub partner_types: Option<Vec<PartnerType>>,
    /// Partners at this tier or a higher-ranked one.
    pub min_tier_id: Option<ID>,
    /// Partners whose users hold a current certification of each of these programs.
    pub certification_program_ids: Option<Vec<ID>>,
    /// Most open leads a partner may hold to receive another from this rule.
    pub capacity: Option<i32>,
}

#[derive(InputObject)]
pub struct SetLeadRoutingRuleActiveInput {
    pub id: ID,
    pub is_active: bool,
}

#[derive(SimpleObject, Default)]
pub struct LeadRoutingRulePayload {
    pub lead_routing_rule: Option<LeadRoutingRule>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct SetLeadSettingsInput {
    pub accept_within_hours: Option<i32>,
    /// Replaces the per-tier weights when given.
    pub tier_weights: Option<Vec<TierWeight>>,
    pub default_weight: Option<i32>,
}

#[derive(SimpleObject, Default)]
pub struct LeadSettingsPayload {
    pub lead_settings: Option<LeadSettingsView>,
    pub user_errors: Vec<UserError>,
}

fn ids(list: &Option<Vec<ID>>, kind: &str) -> Vec<i64> {
    list.iter()
        .flatten()
        .map(|id| local_id(id, kind).unwrap_or(-1))
        .collect()
}

#[derive(Default)]
pub struct LeadMutation;

#[Object]
impl LeadMutation {
    /// Creates a lead and routes it (channel managers): the first matching routing rule's
    /// least loaded eligible partner, else the weighted fallback; `UNASSIGNED` when no
    /// partner is eligible.
    async fn create_lead(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        let actor = actor(ctx)?;
        if !policy::can_manage(&actor) {
            return Err(AppError::forbidden()).extend();
        }
        let db = ctx.data::<Db>()?;
        let mut routing = service::context(db).await.extend()?;
        Ok(payload(
            service::create(
                db,
                &actor,
                input.new_lead(),
                input.idempotency_key.clone(),
                &mut routing,
            )
            .await
            .extend()?,
        ))
    }

    /// Creates and routes up to 500 leads, each on its own: one's errors do not stop the
    /// others.
    async fn create_leads(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadsInput,
    ) -> async_graphql::Result<CreateLeadsPayload> {
        let actor = actor(ctx)?;
        if !policy::can_manage(&actor) {
            return Err(AppError::forbidden()).extend();
        }
        if input.leads.len() > service::MAX_BATCH {
            return Ok(CreateLeadsPayload {
                results: vec![],
                user_errors: UserError::one(
                    "leads",
                    UserErrorCode::Invalid,
                    format!("at most {} leads per call", service::MAX_BATCH),
                ),
            });
        }
        let db = ctx.data::<Db>()?;
        let mut routing = service::context(db).await.extend()?;
        let mut results = Vec::with_capacity(input.leads.len());
        for one in &input.leads {
            let outcome = service::create(
                db,
                &actor,
                one.new_lead(),
                one.idempotency_key.clone(),
                &mut routing,
            )
            .await
            .extend()?;
            results.push(payload(outcome));
        }
        Ok(CreateLeadsPayload {
            results,
            user_errors: vec![],
        })
    }

    /// The assigned partner accepts the lead; its contact details show from now on.
    async fn accept_lead(
        &self,
        ctx: &Context<'_>,
        input: AcceptLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let db = ctx.data::<Db>()?;
        Ok(payload(
            respond::accept(db, actor(ctx)?.as_ref(), current)
                .await
                .extend()?,
        ))
    }

    /// The assigned partner declines the lead, with a reason; it goes to the next eligible
    /// partner and never back to this one.
    async fn decline_lead(
        &self,
        ctx: &Context<'_>,
        input: DeclineLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let db = ctx.data::<Db>()?;
        Ok(payload(
            respond::decline(db, actor(ctx)?.as_ref(), current, &input.reason)
                .await
                .extend()?,
        ))
    }

    /// The accepting partner converts the lead into a submitted deal registration (the
    /// normal registration path: checks, conflict check, review).
    async fn convert_lead(
        &self,
        ctx: &Context<'_>,
        input: ConvertLeadInput,
    ) -> async_graphql::Result<ConvertLeadPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(ConvertLeadPayload {
                user_errors: UserError::one("id", UserErrorCode::NotFound, "no such lead"),
                ..Default::default()
            });
        };
        let db = ctx.data::<Db>()?;
        let conversion = Conversion {
            product_ids: ids(&input.product_ids, crate::deals::PRODUCT_KIND),
            estimated_value: input.estimated_value,
            expected_close_date: input.expected_close_date,
            description: input.description,
        };
        Ok(
            match respond::convert(db, actor(ctx)?.as_ref(), current, conversion)
                .await
                .extend()?
            {
                Ok((lead, registration)) => ConvertLeadPayload {
                    lead: Some(Lead(lead)),
                    deal_registration: Some(DealRegistration(registration)),
                    user_errors: vec![],
                },
                Err(user_errors) => ConvertLeadPayload {
                    user_errors,
                    ..Default::default()
                },
            },
        )
    }

    /// A channel manager sends the lead to a partner of its choice.
    async fn assign_lead(
        &self,
        ctx: &Context<'_>,
        input: AssignLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let Some(partner_id) = local_id(&input.partner_id, crate::partners::NODE_KIND) else {
            return Ok(LeadPayload {
                lead: None,
                user_errors: UserError::one(
                    "partnerId",
                    UserErrorCode::NotFound,
                    "no such partner",
                ),
            });
        };
        let db = ctx.data::<Db>()?;
        Ok(payload(
            respond::assign(db, actor(ctx)?.as_ref(), current, partner_id)
                .await
                .extend()?,
        ))
    }

    /// A channel manager closes a lead that is not converted, with a reason.
    async fn close_lead(
        &self,
        ctx: &Context<'_>,
        input: CloseLeadInput,
    ) -> async_graphql::Result<LeadPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let db = ctx.data::<Db>()?;
        Ok(payload(
            respond::close(db, actor(ctx)?.as_ref(), current, &input.reason)
                .await
                .extend()?,
        ))
    }

    /// Adds a routing rule (channel managers); it applies to the leads routed from now on.
    async fn create_lead_routing_rule(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadRoutingRuleInput,
    ) -> async_graphql::Result<LeadRoutingRulePayload> {
        if !policy::can_manage(actor(ctx)?.as_ref()) {
            return Err(AppError::forbidden()).extend();
        }
        let new = NewRule {
            name: input.name,
            priority: input.priority,
            regions: input.regions.unwrap_or_default(),
            verticals: input.verticals.unwrap_or_default(),
            product_ids: ids(&input.product_ids, crate::deals::PRODUCT_KIND),
            partner_ids: ids(&input.partner_ids, crate::partners::NODE_KIND),
            partner_types: input
                .partner_types
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            min_tier_id: input
                .min_tier_id
                .as_ref()
                .map(|id| local_id(id, crate::tiers::NODE_KIND).unwrap_or(-1)),
            certification_program_ids: ids(
                &input.certification_program_ids,
                crate::training::PROGRAM_KIND,
            ),
            capacity: input.capacity,
        };
        Ok(
            match rules::create(ctx.data::<Db>()?, new).await.extend()? {
                Ok(rule) => LeadRoutingRulePayload {
                    lead_routing_rule: Some(LeadRoutingRule(rule)),
                    user_errors: vec![],
                },
                Err(user_errors) => LeadRoutingRulePayload {
                    user_errors,
                    ..Default::default()
                },
            },
        )
    }

    /// Turns a routing rule off or on again (channel managers).
    async fn set_lead_routing_rule_active(
        &self,
        ctx: &Context<'_>,
        input: SetLeadRoutingRuleActiveInput,
    ) -> async_graphql::Result<LeadRoutingRulePayload> {
        if !policy::can_manage(actor(ctx)?.as_ref()) {
            return Err(AppError::forbidden()).extend();
        }
        let id = local_id(&input.id, RULE_KIND).unwrap_or(-1);
        Ok(
            match rules::set_active(ctx.data::<Db>()?, id, input.is_active)
                .await
                .extend()?
            {
                Some(rule) => LeadRoutingRulePayload {
                    lead_routing_rule: Some(LeadRoutingRule(rule)),
                    user_errors: vec![],
                },
                None => LeadRoutingRulePayload {
                    user_errors: UserError::one("id", UserErrorCode::NotFound, "no such rule"),
                    ..Default::default()
                },
            },
        )
    }

    /// Sets the time partners have to accept a lead and the fallback's weights (channel
    /// managers); what is left out keeps its value.
    async fn set_lead_settings(
        &self,
        ctx: &Context<'_>,
        input: SetLeadSettingsInput,
    ) -> async_graphql::Result<LeadSettingsPayload> {
        if !policy::can_manage(actor(ctx)?.as_ref()) {
            return Err(AppError::forbidden()).extend();
        }
        let db = ctx.data::<Db>()?;
        let mut new = service::settings(db).await.extend()?;
        let weight = |w: i32| u32::try_from(w).unwrap_or(u32::MAX);
        if let Some(hours) = input.accept_within_hours {
            new.accept_within_hours = weight(hours);
        }
        if let Some(default) = input.default_weight {
            new.default_weight = weight(default);
        }
        if let Some(tiers) = input.tier_weights {
            new.tier_weights = tiers
                .iter()
                .map(|t| {
                    (
                        local_id(&t.tier_id, crate::tiers::NODE_KIND).unwrap_or(-1),
                        weight(t.weight),
                    )
                })
                .collect();
        }
        Ok(match service::store_settings(db, &new).await.extend()? {
            Ok(()) => LeadSettingsPayload {
                lead_settings: Some((&new).into()),
                user_errors: vec![],
            },
            Err(user_errors) => LeadSettingsPayload {
                user_errors,
                ..Default::default()
            },
        })
    }
}
