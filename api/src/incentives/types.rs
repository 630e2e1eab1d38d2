use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::Role;
use entity::{
    ledger_entry, mdf_activity, mdf_allocation, mdf_budget, mdf_claim, mdf_request, rebate_program,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::rebates::{self, Band, Method};
use super::service;
use super::statements;
use crate::auth::{actor, Actor, RoleGuard};
use crate::db::Db;
use crate::deals::DealRegistration;
use crate::error::AppError;
use crate::loaders::load_one;
use crate::money::{round, Money};
use crate::partners::policy::scope;
use crate::partners::Partner;
use crate::relay::{global_id, local_id, paginate, paginate_ordered, PageArgs, RelayConnection};

pub const PROGRAM_KIND: &str = "RebateProgram";
pub const BUDGET_KIND: &str = "MdfBudget";
pub const ALLOCATION_KIND: &str = "MdfAllocation";
pub const ACTIVITY_KIND: &str = "MdfActivity";
pub const CLAIM_KIND: &str = "MdfClaim";
pub(super) const MANAGERS: &[Role] = &[Role::ChannelManager];
pub(super) const PARTNERS: &[Role] = &[Role::Partner];
pub(super) const ECONOMICS: &[Role] = &[Role::ChannelManager, Role::Partner];

pub(super) fn money(minor: i64, currency: &str) -> Money {
    Money::from_minor(minor, currency)
}

pub(super) fn not_found(what: &str) -> async_graphql::Error {
    AppError::not_found(what).extend()
}

/// Partner economics: direct reps never; partners only within their scope.
pub(super) async fn check_partner(
    db: &Db,
    actor: &Actor,
    partner_id: i64,
) -> async_graphql::Result<()> {
    if actor.role == Role::DirectRep {
        return Err(AppError::forbidden().extend());
    }
    if !scope(db, actor).await.extend()?.allows(partner_id) {
        return Err(not_found("partner"));
    }
    Ok(())
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum RebateMethod {
    Retroactive,
    Banded,
}

#[derive(SimpleObject, Clone)]
pub struct RebateTier {
    pub min: Decimal,
    /// Null for the open-ended top tier.
    pub max: Option<Decimal>,
    /// A fraction: 0.02 is 2%.
    pub rate: Decimal,
}

impl From<&Band> for RebateTier {
    fn from(b: &Band) -> Self {
        RebateTier {
            min: b.min,
            max: b.max,
            rate: b.rate.normalize(),
        }
    }
}

#[derive(InputObject)]
pub struct RebateTierInput {
    pub min: Decimal,
    pub max: Option<Decimal>,
    pub rate: Decimal,
}

pub(super) fn bands(input: &[RebateTierInput]) -> Vec<Band> {
    input
        .iter()
        .map(|t| Band {
            min: t.min,
            max: t.max,
            rate: t.rate,
        })
        .collect()
}

pub struct RebateProgram(pub(super) rebate_program::Model);

#[Object]
impl RebateProgram {
    async fn id(&self) -> ID {
        global_id(PROGRAM_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn method(&self) -> RebateMethod {
        match service::method_of(&self.0) {
            Method::Retroactive => RebateMethod::Retroactive,
            Method::Banded => RebateMethod::Banded,
        }
    }
    async fn tiers(&self) -> Vec<RebateTier> {
        service::bands_of(&self.0).iter().map(Into::into).collect()
    }
    /// The most volume that earns a rebate.
    async fn cap(&self) -> Option<Money> {
        self.0.cap_minor.map(|c| money(c, &self.0.currency))
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// How much a partner earned in a program, and why.
pub struct RebateStatement {
    pub(super) program: rebate_program::Model,
    pub(super) partner_id: i64,
    pub(super) statement: statements::Statement,
}

#[Object]
impl RebateStatement {
    async fn program(&self) -> RebateProgram {
        RebateProgram(self.program.clone())
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.partner_id)
            .await?
            .map(Partner))
    }
    /// The measure: won registered revenue counted by this program.
    async fn measure(&self) -> Money {
        Money::exact(self.statement.earnings.total, &self.program.currency)
    }
    async fn tier_reached(&self) -> Option<RebateTier> {
        rebates::band_reached(
            &service::bands_of(&self.program),
            self.statement.earnings.total,
        )
        .map(Into::into)
    }
    async fn next_tier_threshold(&self) -> Option<Money> {
        rebates::next_threshold(
            &service::bands_of(&self.program),
            self.statement.earnings.total,
        )
        .map(|amount| Money::exact(amount, &self.program.currency))
    }
    async fn earned(&self) -> Money {
        Money::exact(self.statement.earnings.earned, &self.program.currency)
    }
    async fn paid(&self) -> Money {
        money(self.statement.paid_minor, &self.program.currency)
    }
    /// False when the partner has left the program (a tier change): `earned` is then what
    /// accrued while it was in, and stays payable.
    async fn in_program(&self) -> bool {
        self.statement.in_program
    }
    /// `earned − paid`; negative means a clawback carried forward.
    async fn payable(&self) -> Money {
        let paid = money(self.statement.paid_minor, &self.program.currency).amount;
        Money::exact(
            self.statement.earnings.earned - paid,
            &self.program.currency,
        )
    }
    /// The won registrations counted, earliest close first.
    async fn deals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<DealRegistration>> {
        let db = ctx.data::<Db>()?;
        let counted = service::counted_deals(db, &self.program, self.partner_id)
            .await
            .extend()?;
        paginate_ordered(
            db,
            counted,
            &PageArgs::new(first, after, last, before),
            DealRegistration,
        )
        .await
        .extend()
    }
}

#[derive(SimpleObject)]
pub struct RebateSimulation {
    pub volume: Money,
    pub earned: Money,
    pub tier_reached: Option<RebateTier>,
    pub next_tier_threshold: Option<Money>,
}

pub struct LedgerEntry(pub(super) ledger_entry::Model);

#[Object]
impl LedgerEntry {
    async fn id(&self) -> ID {
        global_id("LedgerEntry", self.0.id)
    }
    /// `ACCRUAL`, `ADJUSTMENT` (what is earned, ±), `PAYOUT`, `MDF_PAYMENT` (money paid).
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn amount(&self) -> Money {
        money(self.0.amount_minor, &self.0.currency)
    }
    /// What caused it (a won deal, a program change, a payout, an MDF claim).
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn program(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RebateProgram>> {
        let Some(id) = self.0.program_id else {
            return Ok(None);
        };
        let db = ctx.data::<Db>()?;
        Ok(rebate_program::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?
            .map(RebateProgram))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct MdfBudget(pub(super) mdf_budget::Model);

#[Object]
impl MdfBudget {
    async fn id(&self) -> ID {
        global_id(BUDGET_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn amount(&self) -> Money {
        money(self.0.amount_minor, &self.0.currency)
    }
    async fn allocated(&self) -> Money {
        money(self.0.allocated_minor, &self.0.currency)
    }
    async fn remaining(&self) -> Money {
        money(
            self.0.amount_minor - self.0.allocated_minor,
            &self.0.currency,
        )
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
}

pub struct MdfAllocation(pub(super) mdf_allocation::Model);

pub(super) async fn budget_of(
    ctx: &Context<'_>,
    id: i64,
) -> async_graphql::Result<mdf_budget::Model> {
    let db = ctx.data::<Db>()?;
    mdf_budget::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(AppError::from)
        .extend()?
        .ok_or_else(|| not_found("budget"))
}

#[Object]
impl MdfAllocation {
    async fn id(&self) -> ID {
        global_id(ALLOCATION_KIND, self.0.id)
    }
    async fn budget(&self, ctx: &Context<'_>) -> async_graphql::Result<MdfBudget> {
        Ok(MdfBudget(budget_of(ctx, self.0.budget_id).await?))
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.0.partner_id)
            .await?
            .map(Partner))
    }
    async fn amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        Ok(money(
            self.0.amount_minor,
            &budget_of(ctx, self.0.budget_id).await?.currency,
        ))
    }
    /// Σ approved activities.
    async fn approved(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        Ok(money(
            self.0.approved_minor,
            &budget_of(ctx, self.0.budget_id).await?.currency,
        ))
    }
}

pub struct MdfRequest {
    pub(super) model: mdf_request::Model,
    pub(super) currency: String,
}

#[Object]
impl MdfRequest {
    async fn id(&self) -> ID {
        global_id("MdfRequest", self.model.id)
    }
    async fn title(&self) -> &str {
        &self.model.title
    }
    async fn activities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MdfActivity>> {
        let db = ctx.data::<Db>()?;
        let rows = mdf_activity::Entity::find()
            .filter(mdf_activity::Column::RequestId.eq(self.model.id))
            .order_by_asc(mdf_activity::Column::Id)
            .all(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        Ok(rows
            .into_iter()
            .map(|model| MdfActivity {
                model,
                currency: self.currency.clone(),
            })
            .collect())
    }
}

pub struct MdfActivity {
    pub(super) model: mdf_activity::Model,
    pub(super) currency: String,
}

#[Object]
impl MdfActivity {
    async fn id(&self) -> ID {
        global_id(ACTIVITY_KIND, self.model.id)
    }
    async fn description(&self) -> &str {
        &self.model.description
    }
    /// `PENDING → APPROVED | DECLINED`.
    async fn status(&self) -> &str {
        &self.model.status
    }
    async fn requested(&self) -> Money {
        money(self.model.requested_minor, &self.currency)
    }
    async fn approved(&self) -> Option<Money> {
        self.model.approved_minor.map(|m| money(m, &self.currency))
    }
    async fn claimed(&self) -> Money {
        money(self.model.claimed_minor, &self.currency)
    }
    async fn claim_deadline(&self) -> Option<NaiveDate> {
        self.model.claim_deadline
    }
    async fn required_proof(&self) -> Option<&str> {
        self.model.required_proof.as_deref()
    }
}

pub struct MdfClaim {
    pub(super) model: mdf_claim::Model,
    pub(super) currency: String,
}

#[Object]
impl MdfClaim {
    async fn id(&self) -> ID {
        global_id(CLAIM_KIND, self.model.id)
    }
    async fn amount(&self) -> Money {
        money(self.model.amount_minor, &self.currency)
    }
    /// `SUBMITTED → APPROVED | REJECTED`, `APPROVED → PAID`.
    async fn status(&self) -> &str {
        &self.model.status
    }
    async fn proof_note(&self) -> Option<&str> {
        self.model.proof_note.as_deref()
    }
    async fn has_proof_file(&self) -> bool {
        self.model.proof_file_id.is_some()
    }
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.model.paid_at
    }
}

pub(super) async fn program(db: &Db, id: &ID) -> async_graphql::Result<rebate_program::Model> {
    let local = local_id(id, PROGRAM_KIND).unwrap_or(-1);
    rebate_program::Entity::find_by_id(local)
        .one(db)
        .await
        .map_err(AppError::from)
        .extend()?
        .ok_or_else(|| not_found("rebate program"))
}

#[derive(Default)]
pub struct IncentiveQuery;

#[Object]
impl IncentiveQuery {
    /// Rebate programs: all for channel managers, the caller's own for partners.
    #[graphql(guard = "RoleGuard(ECONOMICS)")]
    async fn rebate_programs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<RebateProgram>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let mut select = rebate_program::Entity::find();
        if let Some(partner_id) = actor.partner_id {
            let mine = service::programs_of(db, partner_id).await.extend()?;
            select = select.filter(rebate_program::Column::Id.is_in(mine));
        }
        paginate(
            db,
            select,
            rebate_program::Column::Id,
            &PageArgs::new(first, after, last, before),
            |p| p.id,
            RebateProgram,
        )
        .await
        .extend()
    }

    /// A partner's statement in a program: measure, tier reached, earned, paid, payable,
    /// the deals counted and the next tier's threshold.
    async fn rebate_statement(
        &self,
        ctx: &Context<'_>,
        partner_id: ID,
        program_id: ID,
    ) -> async_graphql::Result<RebateStatement> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let partner_id = local_id(&partner_id, crate::partners::NODE_KIND).unwrap_or(-1);
        check_partner(db, &actor, partner_id).await?;
        let local = local_id(&program_id, PROGRAM_KIND).unwrap_or(-1);
        let Some((view, statement)) = statements::program_statement(db, local, partner_id)
            .await
            .extend()?
        else {
            return Err(not_found("rebate program"));
        };
        let Some(statement) = statement else {
            return Err(not_found("rebate statement"));
        };
        Ok(RebateStatement {
            program: view.program,
            partner_id,
            statement,
        })
    }

    /// What a program would pay on a hypothetical volume.
    #[graphql(guard = "RoleGuard(ECONOMICS)")]
    async fn simulate_rebate(
        &self,
        ctx: &Context<'_>,
        program_id: ID,
        volume: Decimal,
    ) -> async_graphql::Result<RebateSimulation> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let program = program(db, &program_id).await?;
        if let Some(partner_id) = actor.partner_id {
            if !service::is_eligible(db, &program, partner_id)
                .await
                .extend()?
            {
                return Err(not_found("rebate program"));
            }
        }
        if volume < Decimal::ZERO {
            return Err(AppError::BadUserInput("volume must not be negative".into()).extend());
        }
        let bands = service::bands_of(&program);
        let cap = program
            .cap_minor
            .map(|c| money(c, &program.currency).amount);
        let earned = round(
            rebates::earned(service::method_of(&program), &bands, volume, cap),
            &program.currency,
        );
        let currency = program.currency.clone();
        Ok(RebateSimulation {
            volume: Money::exact(volume, &currency),
            earned: Money::exact(earned, &currency),
            tier_reached: rebates::band_reached(&bands, volume).map(Into::into),
            next_tier_threshold: rebates::next_threshold(&bands, volume)
                .map(|amount| Money::exact(amount, &currency)),
        })
    }

    /// Every accrual, adjustment, payout and MDF payment of a partner, oldest first.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        partner_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<LedgerEntry>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let partner_id = local_id(&partner_id, crate::partners::NODE_KIND).unwrap_or(-1);
        check_partner(db, &actor, partner_id).await?;
        let select =
            ledger_entry::Entity::find().filter(ledger_entry::Column::PartnerId.eq(partner_id));
        paginate(
            db,
            select,
            ledger_entry::Column::Id,
            &PageArgs::new(first, after, last, before),
            |e| e.id,
            LedgerEntry,
        )
        .await
        .extend()
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn mdf_budgets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<MdfBudget>> {
        let db = ctx.data::<Db>()?;
        paginate(
            db,
            mdf_budget::Entity::find(),
            mdf_budget::Column::Id,
            &PageArgs::new(first, after, last, before),
            |b| b.id,
            MdfBudget,
        )
        .await
        .extend()
    }

    /// MDF allocations: a partner's own, or all for channel managers.
    #[graphql(guard = "RoleGuard(ECONOMICS)")]
    async fn mdf_allocations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<MdfAllocation>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let visible = scope(db, &actor).await.extend()?;
        paginate(
            db,
            visible.restrict(
                mdf_allocation::Entity::find(),
                mdf_allocation::Column::PartnerId,
            ),
            mdf_allocation::Column::Id,
            &PageArgs::new(first, after, last, before),
            |a| a.id,
            MdfAllocation,
        )
        .await
        .extend()
    }
}
