use async_graphql::{
    Context, Enum, InputObject, MaybeUndefined, Object, ResultExt, SimpleObject, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{partner, partner_status_history, partner_tier_history, tier, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::onboarding::{onboarding_of, Onboarding};
use super::service::{self, PartnerFields, PartnerFilter};
use super::{policy, rules};
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::loaders::{load_group, load_one, DomainsByPartner, VerticalsByPartner};
use crate::relay::{
    global_id, local_id, maybe, paginate, PageArgs, RelayConnection, UserError, UserErrorCode,
};
use crate::tiers::{Tier, TierProgress};
use crate::users::User;

pub const NODE_KIND: &str = "Partner";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerType")]
pub enum PartnerType {
    Reseller,
    Var,
    Distributor,
    Referral,
    SystemIntegrator,
    Msp,
    Oem,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerStatus")]
pub enum PartnerStatus {
    Prospect,
    Onboarding,
    Active,
    Dormant,
    Terminated,
}

/// A partner organisation: reseller, distributor, integrator, referral partner, MSP...
pub struct Partner(pub partner::Model);

/// One lifecycle change, kept forever.
pub struct PartnerStatusChange(partner_status_history::Model);

#[Object]
impl PartnerStatusChange {
    #[graphql(name = "fromStatus")]
    async fn previous_status(&self) -> Option<PartnerStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> PartnerStatus {
        self.0.to_status.into()
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Who made the change (vendor staff; null if that account is gone).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One approved tier change, kept forever.
pub struct PartnerTierChange(partner_tier_history::Model);

#[Object]
impl PartnerTierChange {
    #[graphql(name = "fromTier")]
    async fn previous_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        tier_by_id(ctx, self.0.from_tier_id).await
    }
    async fn to_tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        tier_by_id(ctx, self.0.to_tier_id).await
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

async fn tier_by_id(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<Tier>> {
    match id {
        Some(id) => Ok(load_one::<tier::Entity>(ctx, id).await?.map(Tier)),
        None => Ok(None),
    }
}

#[Object]
impl Partner {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    #[graphql(name = "type")]
    async fn partner_type(&self) -> PartnerType {
        self.0.partner_type.into()
    }

    async fn status(&self) -> PartnerStatus {
        self.0.status.into()
    }

    /// The statuses the caller may move this partner to (empty unless it manages the program).
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PartnerStatus>> {
        let actor = actor(ctx)?;
        if !policy::can_manage_program(&actor) {
            return Ok(vec![]);
        }
        Ok(rules::allowed_transitions(self.0.status)
            .iter()
            .map(|s| (*s).into())
            .collect())
    }

    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// Normalised website domains of the organisation (unique across partners).
    async fn domains(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(load_group::<DomainsByPartner>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|d| d.domain)
            .collect())
    }

    /// ISO 3166-1 alpha-2 country code.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }

    /// Sales region, e.g. `NA`, `EMEA`, `APAC`, `LATAM`.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }

    async fn verticals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(load_group::<VerticalsByPartner>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|v| v.vertical)
            .collect())
    }

    async fn tier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tier>> {
        tier_by_id(ctx, self.0.tier_id).await
    }

    /// The channel manager responsible for this partner.
    async fn channel_manager(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.channel_manager_id).await
    }

    async fn partnership_started_on(&self) -> Option<NaiveDate> {
        self.0.partnership_started_on
    }

    /// The distributor this partner buys through (two-tier), when the caller may see it.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(parent_id) = self.0.parent_id else {
            return Ok(None);
        };
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        if !policy::scope(db, &actor).await.extend()?.allows(parent_id) {
            return Ok(None);
        }
        Ok(load_one::<partner::Entity>(ctx, parent_id)
            .await?
            .map(Partner))
    }

    /// Partners directly below this one (a distributor's tier-two partners).
    async fn tier_two_partners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Partner>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let filter = PartnerFilter {
            parent_id: Some(self.0.id),
            ..Default::default()
        };
        service::list(
            db,
            &actor,
            filter,
            &PageArgs::new(first, after, last, before),
        )
        .await
        .extend()
    }

    /// Lifecycle changes, oldest first.
    async fn status_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<PartnerStatusChange>> {
        let db = ctx.data::<Db>()?;
        let select = partner_status_history::Entity::find()
            .filter(partner_status_history::Column::PartnerId.eq(self.0.id));
        paginate(
            db,
            select,
            partner_status_history::Column::Id,
            &PageArgs::new(first, after, last, before),
            |h| h.id,
            PartnerStatusChange,
        )
        .await
        .extend()
    }

    /// Approved tier changes, oldest first.
    async fn tier_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<PartnerTierChange>> {
        let db = ctx.data::<Db>()?;
        let select = partner_tier_history::Entity::find()
            .filter(partner_tier_history::Column::PartnerId.eq(self.0.id));
        paginate(
            db,
            select,
            partner_tier_history::Column::Id,
            &PageArgs::new(first, after, last, before),
            |h| h.id,
            PartnerTierChange,
        )
        .await
        .extend()
    }

    /// Progress against the next tier, with each criterion's required and actual value.
    async fn tier_progress(&self, ctx: &Context<'_>) -> async_graphql::Result<TierProgress> {
        let db = ctx.data::<Db>()?;
        crate::tiers::partner_progress(db, &self.0).await.extend()
    }

    /// Days from the partnership start to the first won deal registration; null until one
    /// is won.
    async fn time_to_first_deal_days(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<i32>> {
        use entity::deal_registration as deal;
        use sea_orm::QueryOrder;
        let Some(started) = self.0.partnership_started_on else {
            return Ok(None);
        };
        let db = ctx.data::<Db>()?;
        let first = deal::Entity::find()
            .filter(deal::Column::PartnerId.eq(self.0.id))
            .filter(crate::deals::status_is(entity::enums::DealStatus::Won))
            .order_by_asc(deal::Column::ClosedAt)
            .one(db)
            .await
            .map_err(crate::error::AppError::from)
            .extend()?;
        Ok(first
            .and_then(|d| d.closed_at)
            .map(|at| (at.date_naive() - started).num_days() as i32))
    }

    /// Its health score with each factor's contribution (vendor staff; null while it is not
    /// measured: onboarding, terminated).
    async fn health(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::health::PartnerHealth>> {
        crate::health::health_field(ctx, &self.0).await
    }

    /// Its daily health snapshots, oldest first (vendor staff).
    async fn health_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<crate::relay::RelayConnection<crate::health::HealthSnapshot>> {
        crate::health::history_field(ctx, &self.0, PageArgs::new(first, after, last, before)).await
    }

    async fn onboarding(&self, ctx: &Context<'_>) -> async_graphql::Result<Onboarding> {
        let db = ctx.data::<Db>()?;
        onboarding_of(ctx, db, self.0.id).await
    }

    /// The registrations this partner made that the caller may see, newest first,
    /// narrowed by `filter` (as `dealRegistrations`).
    async fn deal_registrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<crate::deals::DealRegistrationFilter>,
    ) -> async_graphql::Result<RelayConnection<crate::deals::DealRegistration>> {
        let page = PageArgs::new(first, after, last, before);
        crate::deals::list_registrations(ctx, page, filter, Some(self.0.id)).await
    }

    /// People at this partner (its org map).
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<super::contacts::Contact>> {
        let db = ctx.data::<Db>()?;
        super::contacts::list(db, self.0.id, &PageArgs::new(first, after, last, before))
            .await
            .extend()
    }

    /// Users who log in for this partner.
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<User>> {
        let db = ctx.data::<Db>()?;
        let select = user::Entity::find().filter(user::Column::PartnerId.eq(self.0.id));
        paginate(
            db,
            select,
            user::Column::Id,
            &PageArgs::new(first, after, last, before),
            |u| u.id,
            User::seen,
        )
        .await
        .extend()
    }

    /// For optimistic concurrency in `updatePartner`.
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

#[derive(InputObject, Default)]
pub struct PartnerFilterInput {
    pub status: Option<PartnerStatus>,
    #[graphql(name = "type")]
    pub partner_type: Option<PartnerType>,
    pub tier_id: Option<ID>,
}

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// Partner organisations visible to the caller.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<PartnerFilterInput>,
    ) -> async_graphql::Result<RelayConnection<Partner>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let filter = filter.unwrap_or_default();
        let filter = PartnerFilter {
            status: filter.status.map(Into::into),
            partner_type: filter.partner_type.map(Into::into),
            // An unknown tier id matches nothing rather than everything.
            tier_id: filter
                .tier_id
                .map(|id| local_id(&id, crate::tiers::NODE_KIND).unwrap_or(-1)),
            parent_id: None,
        };
        service::list(
            db,
            &actor,
            filter,
            &PageArgs::new(first, after, last, before),
        )
        .await
        .extend()
    }

    /// One partner organisation, or null if it does not exist or is not visible.
    async fn partner(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Partner>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&id, NODE_KIND) else {
            return Ok(None);
        };
        Ok(service::find_visible(db, &actor, id)
            .await
            .extend()?
            .map(Partner))
    }
}

#[derive(SimpleObject, Default)]
pub struct PartnerPayload {
    pub partner: Option<Partner>,
    pub user_errors: Vec<UserError>,
}

impl PartnerPayload {
    pub fn errors(user_errors: Vec<UserError>) -> Self {
        PartnerPayload {
            partner: None,
            user_errors,
        }
    }

    pub fn from_result(result: Result<Partner, Vec<UserError>>) -> Self {
        match result {
            Ok(partner) => PartnerPayload {
                partner: Some(partner),
                user_errors: vec![],
            },
            Err(errors) => PartnerPayload::errors(errors),
        }
    }
}

#[derive(InputObject)]
pub struct CreatePartnerInput {
    pub name: String,
    #[graphql(name = "type")]
    pub partner_type: PartnerType,
    /// Website address; its domain joins `domains`.
    pub website: Option<String>,
    /// Further domains the organisation uses.
    #[graphql(default)]
    pub domains: Vec<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    #[graphql(default)]
    pub verticals: Vec<String>,
    /// The distributor above a tier-two partner.
    pub parent_id: Option<ID>,
    pub channel_manager_id: Option<ID>,
    /// Defaults to the lowest tier.
    pub tier_id: Option<ID>,
    /// Defaults to today.
    pub partnership_started_on: Option<NaiveDate>,
    /// `PROSPECT`, `ONBOARDING` (default) or `ACTIVE`.
    pub status: Option<PartnerStatus>,
}

#[derive(InputObject)]
pub struct UpdatePartnerInput {
    pub id: ID,
    /// The `version` you read; a newer one makes this a `STALE_VERSION` user error.
    pub version: i32,
    pub name: Option<String>,
    #[graphql(name = "type")]
    pub partner_type: Option<PartnerType>,
    pub website: MaybeUndefined<String>,
    /// Replaces the extra domains (the website's domain is always kept).
    pub domains: Option<Vec<String>>,
    pub region: MaybeUndefined<String>,
    pub country: MaybeUndefined<String>,
    pub verticals: Option<Vec<String>>,
    /// Null detaches a tier-two partner from its distributor.
    pub parent_id: MaybeUndefined<ID>,
    pub channel_manager_id: MaybeUndefined<ID>,
    pub partnership_started_on: MaybeUndefined<NaiveDate>,
}

#[derive(InputObject)]
pub struct ChangePartnerStatusInput {
    pub id: ID,
    pub status: PartnerStatus,
    pub reason: Option<String>,
}

/// A reference that does not decode is kept as an id that matches nothing, so validation
/// reports it as not found.
fn reference(id: &ID, kind: &str) -> i64 {
    local_id(id, kind).unwrap_or(-1)
}

#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Adds a partner organisation (channel managers).
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        input: CreatePartnerInput,
    ) -> async_graphql::Result<PartnerPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let fields = PartnerFields {
            name: Some(input.name),
            partner_type: Some(input.partner_type.into()),
            website: Some(input.website),
            domains: Some(input.domains),
            region: Some(input.region),
            country: Some(input.country),
            verticals: Some(input.verticals),
            parent_id: Some(input.parent_id.map(|id| reference(&id, NODE_KIND))),
            channel_manager_id: Some(
                input
                    .channel_manager_id
                    .map(|id| reference(&id, crate::users::NODE_KIND)),
            ),
            partnership_started_on: Some(input.partnership_started_on),
        };
        let tier_id = input
            .tier_id
            .map(|id| reference(&id, crate::tiers::NODE_KIND));
        let result = service::create(db, &actor, fields, input.status.map(Into::into), tier_id)
            .await
            .extend()?;
        Ok(PartnerPayload::from_result(result.map(Partner)))
    }

    /// Changes a partner's profile if `version` is still current (channel managers).
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        input: UpdatePartnerInput,
    ) -> async_graphql::Result<PartnerPayload> {
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(PartnerPayload::errors(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such partner",
            )));
        };
        let fields = PartnerFields {
            name: input.name,
            partner_type: input.partner_type.map(Into::into),
            website: maybe(input.website),
            domains: input.domains,
            region: maybe(input.region),
            country: maybe(input.country),
            verticals: input.verticals,
            parent_id: maybe(input.parent_id).map(|p| p.map(|id| reference(&id, NODE_KIND))),
            channel_manager_id: maybe(input.channel_manager_id)
                .map(|m| m.map(|id| reference(&id, crate::users::NODE_KIND))),
            partnership_started_on: maybe(input.partnership_started_on),
        };
        let result = service::update(db, id, input.version, fields)
            .await
            .extend()?;
        Ok(PartnerPayload::from_result(result.map(Partner)))
    }

    /// Moves a partner along `PROSPECT → ONBOARDING → ACTIVE ⇄ DORMANT → TERMINATED`
    /// (channel managers). Terminating ends the partner's user sessions.
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn change_partner_status(
        &self,
        ctx: &Context<'_>,
        input: ChangePartnerStatusInput,
    ) -> async_graphql::Result<PartnerPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(PartnerPayload::errors(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such partner",
            )));
        };
        let result = service::change_status(db, &actor, id, input.status.into(), input.reason)
            .await
            .extend()?;
        Ok(PartnerPayload::from_result(result.map(Partner)))
    }
}
