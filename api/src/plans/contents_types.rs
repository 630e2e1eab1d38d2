//! A plan's contents in the schema: target accounts, enablement needs, sponsors and weighted
//! objectives, the input that changes them (`updateJointBusinessPlan`, and a partner's
//! proposal), and the view of a proposed change.

use std::collections::HashSet;

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, ID};
use chrono::NaiveDate;
use entity::enums::Role;
use entity::{
    joint_business_plan_account as account_row, joint_business_plan_need as need_row,
    joint_business_plan_objective as objective_row, joint_business_plan_sponsor as sponsor_row,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

use super::changes::{AccountItem, NeedItem, ObjectiveItem, PlanChanges, SponsorItem};
use super::service::TargetInput;
use super::types::{JointBusinessPlanPayload, PlanTarget, PlanTargetInput};
use crate::auth::actor;
use crate::db::Db;
use crate::loaders::load_one;
use crate::money::minor_digits;
use crate::partners::contacts::Contact;
use crate::relay::{global_id, local_id};
use crate::training::{CertificationProgram, Course};
use crate::users::User;

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PlanMetric")]
pub enum PlanMetric {
    /// Sourced plus influenced revenue won in the period, in the objective's currency.
    Revenue,
    /// Open registrations' estimated value in the plan's target accounts, in its currency.
    TargetAccountPipeline,
    /// Registrations won in the period.
    WonRegistrations,
    /// Certifications the partner's people earned in the period.
    CertificationsEarned,
    /// Enablement needs met.
    EnablementNeedsMet,
    /// Leads the partner converted in the period.
    LeadsConverted,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PlanNeedKind")]
pub enum PlanNeedKind {
    Course,
    Certification,
    Content,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PlanSide")]
pub enum PlanSide {
    Vendor,
    Partner,
}

/// An account pursued together: an existing account or a named prospect.
pub struct PlanTargetAccount(pub AccountItem);

#[Object]
impl PlanTargetAccount {
    /// The existing account's id (null for a named prospect).
    async fn account_id(&self) -> Option<ID> {
        self.0
            .account_id
            .map(|id| global_id(crate::deals::ACCOUNT_KIND, id))
    }
    /// The existing account (vendor staff; null for partners and prospects).
    async fn account(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::deals::Account>> {
        let (Some(id), false) = (self.0.account_id, actor(ctx)?.role == Role::Partner) else {
            return Ok(None);
        };
        Ok(load_one::<entity::account::Entity>(ctx, id)
            .await?
            .map(crate::deals::Account))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
}

impl From<account_row::Model> for AccountItem {
    fn from(row: account_row::Model) -> Self {
        AccountItem {
            account_id: row.account_id,
            name: row.name,
            domain: row.domain,
            country: row.country,
            name_key: row.name_key,
            identity: row.identity,
        }
    }
}

/// Enablement the partner needs: how many of its people should have a course, a
/// certification or a content item, who owns it on each side, and by when.
pub struct PlanEnablementNeed {
    pub item: NeedItem,
    /// Whether the caller may see the content it names.
    pub content_visible: bool,
}

#[Object]
impl PlanEnablementNeed {
    async fn kind(&self) -> PlanNeedKind {
        self.item.kind().into()
    }
    async fn course(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Course>> {
        let Some(id) = self.item.course_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::course::Entity>(ctx, id)
            .await?
            .map(Course))
    }
    async fn certification_program(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<CertificationProgram>> {
        let Some(id) = self.item.program_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::certification_program::Entity>(ctx, id)
            .await?
            .map(CertificationProgram))
    }
    /// The content (null when the caller's audience rules hide it).
    async fn content(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::content::Content>> {
        let Some(id) = self.item.content_id.filter(|_| self.content_visible) else {
            return Ok(None);
        };
        Ok(load_one::<entity::content::Entity>(ctx, id)
            .await?
            .map(crate::content::Content))
    }
    /// How many of the partner's people need it.
    async fn required_count(&self) -> i32 {
        self.item.required_count
    }
    /// Its owner at the partner (a contact of the org map).
    async fn owner_contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        let Some(id) = self.item.owner_contact_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::contact::Entity>(ctx, id)
            .await?
            .map(Contact))
    }
    /// Its owner at the vendor.
    async fn owner_user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.item.owner_user_id).await
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.item.due_date
    }
}

impl From<need_row::Model> for NeedItem {
    fn from(row: need_row::Model) -> Self {
        NeedItem {
            course_id: row.course_id,
            program_id: row.program_id,
            content_id: row.content_id,
            required_count: row.required_count,
            owner_contact_id: row.owner_contact_id,
            owner_user_id: row.owner_user_id,
            due_date: row.due_date,
        }
    }
}

/// The needs as the caller sees them: content hidden from a partner by its audience rules
/// shows as null (one read for the whole list).
pub async fn needs_seen(
    ctx: &Context<'_>,
    items: Vec<NeedItem>,
) -> async_graphql::Result<Vec<PlanEnablementNeed>> {
    let contents: Vec<i64> = items.iter().filter_map(|n| n.content_id).collect();
    let actor = actor(ctx)?;
    let visible: Option<HashSet<i64>> = if contents.is_empty() || actor.role != Role::Partner {
        None
    } else {
        let db = ctx.data::<Db>()?;
        let viewer = crate::content::policy::viewer(db, &actor).await.extend()?;
        let found: Vec<i64> = crate::content::policy::visible_select(
            sea_orm::ConnectionTrait::get_database_backend(db),
            &viewer,
            chrono::Utc::now(),
        )
        .select_only()
        .column(entity::content::Column::Id)
        .filter(entity::content::Column::Id.is_in(contents))
        .into_tuple()
        .all(db)
        .await
        .map_err(crate::error::AppError::from)
        .extend()?;
        Some(found.into_iter().collect())
    };
    Ok(items
        .into_iter()
        .map(|item| PlanEnablementNeed {
            content_visible: match (&visible, item.content_id) {
                (Some(visible), Some(id)) => visible.contains(&id),
                _ => true,
            },
            item,
        })
        .collect())
}

/// An executive sponsor: a vendor user or a contact of the partner's org map.
pub struct PlanSponsor(pub SponsorItem);

#[Object]
impl PlanSponsor {
    async fn side(&self) -> PlanSide {
        if self.0.user_id.is_some() {
            PlanSide::Vendor
        } else {
            PlanSide::Partner
        }
    }
    /// The vendor's sponsor.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.user_id).await
    }
    /// The partner's sponsor.
    async fn contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        let Some(id) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::contact::Entity>(ctx, id)
            .await?
            .map(Contact))
    }
    /// Their part in the plan (e.g. "executive sponsor", "alliance lead").
    async fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
}

impl From<sponsor_row::Model> for SponsorItem {
    fn from(row: sponsor_row::Model) -> Self {
        SponsorItem {
            user_id: row.user_id,
            contact_id: row.contact_id,
            role: row.role,
        }
    }
}

/// A weighted objective held against a computed measure.
pub struct PlanObjective(pub ObjectiveItem);

/// A stored value as a decimal: money in its currency's units, else a count.
pub fn value_of(value: i64, currency: Option<&str>) -> Decimal {
    match currency {
        Some(currency) => Decimal::new(value, minor_digits(currency).unwrap_or(2)),
        None => Decimal::from(value),
    }
}

#[Object]
impl PlanObjective {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn metric(&self) -> Option<PlanMetric> {
        self.0.metric().map(Into::into)
    }
    /// An amount of `currency` for money measures, a count otherwise.
    async fn target(&self) -> Decimal {
        value_of(self.0.target_value, self.0.currency.as_deref())
    }
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }
    /// Its share of the weighted attainment (1 to 100).
    async fn weight(&self) -> i32 {
        self.0.weight
    }
}

impl From<objective_row::Model> for ObjectiveItem {
    fn from(row: objective_row::Model) -> Self {
        ObjectiveItem {
            name: row.name,
            metric: sea_orm::ActiveEnum::to_value(&row.metric),
            target: value_of(row.target_value, row.currency.as_deref()),
            currency: row.currency,
            weight: row.weight,
            target_value: row.target_value,
        }
    }
}

/// A proposed change, as it would apply: each list shown replaces the plan's (null: left
/// as it is).
pub struct PlanProposedChanges(pub PlanChanges);

#[Object]
impl PlanProposedChanges {
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn targets(&self) -> Option<Vec<PlanTarget>> {
        self.0.targets.as_ref().map(|targets| {
            targets
                .iter()
                .map(|t| PlanTarget {
                    quarter: t.quarter.trim().to_uppercase(),
                    amount: crate::money::Money::exact(t.amount.amount, &t.amount.currency),
                })
                .collect()
        })
    }
    async fn target_accounts(&self) -> Option<Vec<PlanTargetAccount>> {
        self.0
            .accounts
            .as_ref()
            .map(|a| a.iter().cloned().map(PlanTargetAccount).collect())
    }
    async fn enablement_needs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<PlanEnablementNeed>>> {
        match &self.0.needs {
            Some(needs) => Ok(Some(needs_seen(ctx, needs.clone()).await?)),
            None => Ok(None),
        }
    }
    async fn sponsors(&self) -> Option<Vec<PlanSponsor>> {
        self.0
            .sponsors
            .as_ref()
            .map(|s| s.iter().cloned().map(PlanSponsor).collect())
    }
    async fn objectives(&self) -> Option<Vec<PlanObjective>> {
        self.0
            .objectives
            .as_ref()
            .map(|o| o.iter().cloned().map(PlanObjective).collect())
    }
}

#[derive(InputObject)]
pub struct PlanTargetAccountInput {
    /// An existing account (vendor staff; a partner may name only the plan's own).
    pub account_id: Option<ID>,
    /// A named prospect (when no accountId).
    pub name: Option<String>,
    /// The prospect's web address or domain.
    pub domain: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

#[derive(InputObject)]
pub struct PlanEnablementNeedInput {
    /// Exactly one of courseId, certificationProgramId and contentId.
    pub course_id: Option<ID>,
    pub certification_program_id: Option<ID>,
    pub content_id: Option<ID>,
    /// How many of the partner's people need it.
    #[graphql(default = 1)]
    pub required_count: i32,
    /// A contact of the partner who owns it.
    pub owner_contact_id: Option<ID>,
    /// A vendor user who owns it.
    pub owner_user_id: Option<ID>,
    pub due_date: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct PlanSponsorInput {
    /// A vendor user (exactly one of userId and contactId).
    pub user_id: Option<ID>,
    /// A contact of the partner's org map.
    pub contact_id: Option<ID>,
    pub role: Option<String>,
}

#[derive(InputObject)]
pub struct PlanObjectiveInput {
    pub name: String,
    pub metric: PlanMetric,
    /// An amount of `currency` for REVENUE and TARGET_ACCOUNT_PIPELINE, a whole count otherwise.
    pub target: Decimal,
    pub currency: Option<String>,
    /// 1 to 100.
    pub weight: i32,
}

/// Changes to a plan: each list given replaces the plan's; one left out stays as it is.
#[derive(InputObject, Default)]
pub struct JointBusinessPlanChangesInput {
    pub name: Option<String>,
    pub targets: Option<Vec<PlanTargetInput>>,
    pub target_accounts: Option<Vec<PlanTargetAccountInput>>,
    pub enablement_needs: Option<Vec<PlanEnablementNeedInput>>,
    pub sponsors: Option<Vec<PlanSponsorInput>>,
    pub objectives: Option<Vec<PlanObjectiveInput>>,
}

/// A global ID of `kind` as a local id; one that is not names nothing (-1, not found).
fn id_of(id: Option<&ID>, kind: &str) -> Option<i64> {
    id.map(|id| local_id(id, kind).unwrap_or(-1))
}

impl JointBusinessPlanChangesInput {
    pub fn into_changes(self) -> PlanChanges {
        PlanChanges {
            name: self.name,
            targets: self.targets.map(|targets| {
                targets
                    .into_iter()
                    .map(|t| TargetInput {
                        quarter: t.quarter,
                        amount: t.amount,
                    })
                    .collect()
            }),
            accounts: self.target_accounts.map(|accounts| {
                accounts
                    .into_iter()
                    .map(|a| AccountItem {
                        account_id: id_of(a.account_id.as_ref(), crate::deals::ACCOUNT_KIND),
                        name: a.name.unwrap_or_default(),
                        domain: a.domain,
                        country: a.country,
                        ..Default::default()
                    })
                    .collect()
            }),
            needs: self.enablement_needs.map(|needs| {
                needs
                    .into_iter()
                    .map(|n| NeedItem {
                        course_id: id_of(n.course_id.as_ref(), crate::training::COURSE_KIND),
                        program_id: id_of(
                            n.certification_program_id.as_ref(),
                            crate::training::PROGRAM_KIND,
                        ),
                        content_id: id_of(n.content_id.as_ref(), crate::content::NODE_KIND),
                        required_count: n.required_count,
                        owner_contact_id: id_of(
                            n.owner_contact_id.as_ref(),
                            crate::partners::contacts::NODE_KIND,
                        ),
                        owner_user_id: id_of(n.owner_user_id.as_ref(), crate::users::NODE_KIND),
                        due_date: n.due_date,
                    })
                    .collect()
            }),
            sponsors: self.sponsors.map(|sponsors| {
                sponsors
                    .into_iter()
                    .map(|s| SponsorItem {
                        user_id: id_of(s.user_id.as_ref(), crate::users::NODE_KIND),
                        contact_id: id_of(
                            s.contact_id.as_ref(),
                            crate::partners::contacts::NODE_KIND,
                        ),
                        role: s.role,
                    })
                    .collect()
            }),
            objectives: self.objectives.map(|objectives| {
                objectives
                    .into_iter()
                    .map(|o| {
                        let metric: entity::enums::PlanMetric = o.metric.into();
                        ObjectiveItem {
                            name: o.name,
                            metric: sea_orm::ActiveEnum::to_value(&metric),
                            target: o.target,
                            currency: o.currency,
                            weight: o.weight,
                            target_value: 0,
                        }
                    })
                    .collect()
            }),
        }
    }
}

#[derive(InputObject)]
pub struct UpdateJointBusinessPlanInput {
    pub id: ID,
    /// The version read; a plan changed since is refused (STALE_VERSION).
    pub version: Option<i32>,
    pub changes: JointBusinessPlanChangesInput,
}

#[derive(Default)]
pub struct PlanContentMutation;

#[Object]
impl PlanContentMutation {
    /// Changes a draft or shared plan (channel managers): its name, targets, target
    /// accounts, enablement needs, sponsors and objectives.
    async fn update_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: UpdateJointBusinessPlanInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        let Some(current) = super::types::visible(ctx, &input.id).await? else {
            return Ok(super::types::not_found("id"));
        };
        let changes = input.changes.into_changes();
        Ok(super::types::payload(
            super::service::update(
                ctx.data::<Db>()?,
                actor(ctx)?.as_ref(),
                current,
                input.version,
                &changes,
            )
            .await
            .extend()?,
        ))
    }
}
