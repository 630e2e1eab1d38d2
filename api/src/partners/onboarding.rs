//! Onboarding checklists: a default template copied to every new partner, then edited and
//! ticked off per partner.

use async_graphql::{ComplexObject, Context, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::enums::PartnerStatus;
use entity::{onboarding_item, onboarding_template_item, partner_status_history};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::error::AppResult;
use crate::relay::global_id;

pub const ITEM_KIND: &str = "OnboardingItem";

/// One step of a partner's onboarding checklist.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct OnboardingItem {
    #[graphql(skip)]
    pub model: onboarding_item::Model,
    pub title: String,
    pub description: Option<String>,
    pub position: i32,
    pub completed_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl OnboardingItem {
    async fn id(&self) -> ID {
        global_id(ITEM_KIND, self.model.id)
    }

    async fn completed(&self) -> bool {
        self.model.completed_at.is_some()
    }
}

impl From<onboarding_item::Model> for OnboardingItem {
    fn from(model: onboarding_item::Model) -> Self {
        OnboardingItem {
            title: model.title.clone(),
            description: model.description.clone(),
            position: model.position,
            completed_at: model.completed_at,
            model,
        }
    }
}

/// A step of the default checklist.
#[derive(SimpleObject, Clone)]
pub struct OnboardingTemplateItem {
    pub title: String,
    pub description: Option<String>,
    pub position: i32,
}

impl From<onboarding_template_item::Model> for OnboardingTemplateItem {
    fn from(model: onboarding_template_item::Model) -> Self {
        OnboardingTemplateItem {
            title: model.title,
            description: model.description,
            position: model.position,
        }
    }
}

/// A partner's onboarding progress.
#[derive(SimpleObject)]
pub struct Onboarding {
    pub items: Vec<OnboardingItem>,
    pub completed_count: i32,
    pub total_count: i32,
    /// Whole percent of steps done (100 for an empty checklist).
    pub percent_complete: i32,
    /// When the partner (last) entered `ONBOARDING`.
    pub started_at: Option<DateTime<Utc>>,
    /// Days spent in `ONBOARDING`: until now while onboarding, else until it moved on.
    pub days_in_onboarding: Option<i32>,
}

/// Whole percent of `done` out of `total`, rounding down.
pub fn percent(done: usize, total: usize) -> i32 {
    (done * 100).checked_div(total).map_or(100, |p| p as i32)
}

/// Start and end of the latest `ONBOARDING` stay, from the status history (oldest first).
pub fn onboarding_window(
    history: &[partner_status_history::Model],
) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let start = history
        .iter()
        .rposition(|h| h.to_status == PartnerStatus::Onboarding)?;
    let end = history[start + 1..].first().map(|h| h.created_at);
    Some((history[start].created_at, end))
}

pub fn summarize(
    items: Vec<onboarding_item::Model>,
    history: &[partner_status_history::Model],
    now: DateTime<Utc>,
) -> Onboarding {
    let total = items.len();
    let done = items.iter().filter(|i| i.completed_at.is_some()).count();
    let window = onboarding_window(history);
    Onboarding {
        items: items.into_iter().map(OnboardingItem::from).collect(),
        completed_count: done as i32,
        total_count: total as i32,
        percent_complete: percent(done, total),
        started_at: window.map(|(start, _)| start),
        days_in_onboarding: window
            .map(|(start, end)| (end.unwrap_or(now) - start).num_days() as i32),
    }
}

pub async fn template(
    db: &impl ConnectionTrait,
) -> AppResult<Vec<onboarding_template_item::Model>> {
    Ok(onboarding_template_item::Entity::find()
        .order_by_asc(onboarding_template_item::Column::Position)
        .order_by_asc(onboarding_template_item::Column::Id)
        .all(db)
        .await?)
}

/// Gives a new partner its own copy of the template.
pub async fn copy_template(db: &impl ConnectionTrait, partner_id: i64) -> AppResult<()> {
    let now = Utc::now();
    let steps = template(db).await?;
    if steps.is_empty() {
        return Ok(());
    }
    onboarding_item::Entity::insert_many(steps.into_iter().map(|step| {
        onboarding_item::ActiveModel {
            partner_id: Set(partner_id),
            title: Set(step.title),
            description: Set(step.description),
            position: Set(step.position),
            completed_at: Set(None),
            completed_by_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// Replaces the default template (existing partners keep their own checklists).
pub async fn replace_template(
    db: &impl ConnectionTrait,
    steps: &[(String, Option<String>)],
) -> AppResult<()> {
    onboarding_template_item::Entity::delete_many()
        .exec(db)
        .await?;
    for (position, (title, description)) in steps.iter().enumerate() {
        onboarding_template_item::ActiveModel {
            title: Set(title.trim().to_owned()),
            description: Set(description.clone()),
            position: Set(position as i32 + 1),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn status_history(
    db: &impl ConnectionTrait,
    partner_id: i64,
) -> AppResult<Vec<partner_status_history::Model>> {
    Ok(partner_status_history::Entity::find()
        .filter(partner_status_history::Column::PartnerId.eq(partner_id))
        .order_by_asc(partner_status_history::Column::Id)
        .all(db)
        .await?)
}

pub async fn onboarding_of(
    ctx: &Context<'_>,
    db: &impl ConnectionTrait,
    partner_id: i64,
) -> async_graphql::Result<Onboarding> {
    use async_graphql::ResultExt;
    let items =
        crate::loaders::load_group::<crate::loaders::OnboardingByPartner>(ctx, partner_id).await?;
    let history = status_history(db, partner_id).await.extend()?;
    Ok(summarize(items, &history, Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn change(to: PartnerStatus, at: DateTime<Utc>) -> partner_status_history::Model {
        partner_status_history::Model {
            id: 0,
            partner_id: 1,
            from_status: None,
            to_status: to,
            actor_id: None,
            reason: None,
            created_at: at,
        }
    }

    #[test]
    fn days_in_onboarding_count_the_latest_stay() {
        let t0 = Utc::now() - Duration::days(30);
        let history = vec![
            change(PartnerStatus::Prospect, t0),
            change(PartnerStatus::Onboarding, t0 + Duration::days(2)),
            change(PartnerStatus::Active, t0 + Duration::days(12)),
        ];
        let summary = summarize(vec![], &history, Utc::now());
        assert_eq!(summary.days_in_onboarding, Some(10));
        let still = summarize(vec![], &history[..2], t0 + Duration::days(7));
        assert_eq!(still.days_in_onboarding, Some(5));
        assert_eq!(
            summarize(vec![], &history[..1], Utc::now()).days_in_onboarding,
            None
        );
    }

    #[test]
    fn percent_rounds_down_and_empty_is_complete() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(3, 3), 100);
        assert_eq!(percent(0, 0), 100);
    }
}

mod api {
    use async_graphql::{
        Context, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID,
    };
    use chrono::Utc;
    use entity::onboarding_item;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

    use crate::db::Db;

    use super::{OnboardingItem, OnboardingTemplateItem, ITEM_KIND};
    use crate::auth::{actor, Role, RoleGuard};
    use crate::error::AppError;
    use crate::partners::policy::can_manage_program;
    use crate::partners::{service, NODE_KIND as PARTNER_KIND};
    use crate::relay::{local_id, UserError, UserErrorCode};

    #[derive(InputObject)]
    pub struct OnboardingStepInput {
        pub title: String,
        pub description: Option<String>,
    }

    #[derive(InputObject)]
    pub struct SetOnboardingTemplateInput {
        /// The whole default checklist, in order.
        pub steps: Vec<OnboardingStepInput>,
    }

    #[derive(SimpleObject, Default)]
    pub struct OnboardingTemplatePayload {
        pub steps: Option<Vec<OnboardingTemplateItem>>,
        pub user_errors: Vec<UserError>,
    }

    #[derive(InputObject)]
    pub struct AddOnboardingItemInput {
        pub partner_id: ID,
        pub title: String,
        pub description: Option<String>,
    }

    #[derive(InputObject)]
    pub struct SetOnboardingItemCompletedInput {
        pub id: ID,
        #[graphql(default = true)]
        pub completed: bool,
    }

    #[derive(InputObject)]
    pub struct RemoveOnboardingItemInput {
        pub id: ID,
    }

    #[derive(SimpleObject, Default)]
    pub struct OnboardingItemPayload {
        pub item: Option<OnboardingItem>,
        pub removed_item_id: Option<ID>,
        pub user_errors: Vec<UserError>,
    }

    fn item_errors(field: &str, code: UserErrorCode, message: &str) -> OnboardingItemPayload {
        OnboardingItemPayload {
            user_errors: UserError::one(field, code, message),
            ..Default::default()
        }
    }

    /// The checklist item, if the caller can see its partner.
    async fn visible_item(
        ctx: &Context<'_>,
        id: &ID,
    ) -> async_graphql::Result<Option<onboarding_item::Model>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(id, ITEM_KIND) else {
            return Ok(None);
        };
        let Some(item) = onboarding_item::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?
        else {
            return Ok(None);
        };
        Ok(service::find_visible(db, &actor, item.partner_id)
            .await
            .extend()?
            .map(|_| item))
    }

    #[derive(Default)]
    pub struct OnboardingQuery;

    #[Object]
    impl OnboardingQuery {
        /// The default onboarding checklist new partners start with.
        #[graphql(guard = "RoleGuard(&[Role::ChannelManager, Role::DirectRep])")]
        async fn onboarding_template(
            &self,
            ctx: &Context<'_>,
        ) -> async_graphql::Result<Vec<OnboardingTemplateItem>> {
            let db = ctx.data::<Db>()?;
            Ok(super::template(db)
                .await
                .extend()?
                .into_iter()
                .map(Into::into)
                .collect())
        }
    }

    #[derive(Default)]
    pub struct OnboardingMutation;

    #[Object]
    impl OnboardingMutation {
        /// Replaces the default checklist (existing partners keep theirs).
        #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
        async fn set_onboarding_template(
            &self,
            ctx: &Context<'_>,
            input: SetOnboardingTemplateInput,
        ) -> async_graphql::Result<OnboardingTemplatePayload> {
            let db = ctx.data::<Db>()?;
            let errors: Vec<UserError> = input
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.title.trim().is_empty())
                .map(|(i, _)| {
                    UserError::new(
                        &format!("steps.{i}.title"),
                        UserErrorCode::Required,
                        "must not be blank",
                    )
                })
                .collect();
            if !errors.is_empty() {
                return Ok(OnboardingTemplatePayload {
                    steps: None,
                    user_errors: errors,
                });
            }
            let steps: Vec<(String, Option<String>)> = input
                .steps
                .into_iter()
                .map(|s| (s.title, s.description))
                .collect();
            super::replace_template(db, &steps).await.extend()?;
            let template = super::template(db).await.extend()?;
            Ok(OnboardingTemplatePayload {
                steps: Some(template.into_iter().map(Into::into).collect()),
                user_errors: vec![],
            })
        }

        /// Adds a step to one partner's checklist.
        #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
        async fn add_onboarding_item(
            &self,
            ctx: &Context<'_>,
            input: AddOnboardingItemInput,
        ) -> async_graphql::Result<OnboardingItemPayload> {
            let db = ctx.data::<Db>()?;
            let actor = actor(ctx)?;
            let partner = match local_id(&input.partner_id, PARTNER_KIND) {
                Some(id) => service::find_visible(db, &actor, id).await.extend()?,
                None => None,
            };
            let Some(partner) = partner else {
                return Ok(item_errors(
                    "partnerId",
                    UserErrorCode::NotFound,
                    "no such partner",
                ));
            };
            if input.title.trim().is_empty() {
                return Ok(item_errors(
                    "title",
                    UserErrorCode::Required,
                    "must not be blank",
                ));
            }
            let existing = super::super::onboarding::items_of(db, partner.id)
                .await
                .extend()?;
            let created = onboarding_item::ActiveModel {
                partner_id: Set(partner.id),
                title: Set(input.title.trim().to_owned()),
                description: Set(input.description),
                position: Set(existing.iter().map(|i| i.position).max().unwrap_or(0) + 1),
                completed_at: Set(None),
                completed_by_id: Set(None),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(AppError::from)
            .extend()?;
            Ok(OnboardingItemPayload {
                item: Some(created.into()),
                ..Default::default()
            })
        }

        #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
        async fn remove_onboarding_item(
            &self,
            ctx: &Context<'_>,
            input: RemoveOnboardingItemInput,
        ) -> async_graphql::Result<OnboardingItemPayload> {
            let db = ctx.data::<Db>()?;
            let Some(item) = visible_item(ctx, &input.id).await? else {
                return Ok(item_errors(
                    "id",
                    UserErrorCode::NotFound,
                    "no such onboarding item",
                ));
            };
            onboarding_item::Entity::delete_by_id(item.id)
                .exec(db)
                .await
                .map_err(AppError::from)
                .extend()?;
            Ok(OnboardingItemPayload {
                removed_item_id: Some(input.id),
                ..Default::default()
            })
        }

        /// Ticks a step off (or back on). Channel managers, and the partner's own users.
        async fn set_onboarding_item_completed(
            &self,
            ctx: &Context<'_>,
            input: SetOnboardingItemCompletedInput,
        ) -> async_graphql::Result<OnboardingItemPayload> {
            let actor = actor(ctx)?;
            let db = ctx.data::<Db>()?;
            let Some(item) = visible_item(ctx, &input.id).await? else {
                return Ok(item_errors(
                    "id",
                    UserErrorCode::NotFound,
                    "no such onboarding item",
                ));
            };
            if !can_manage_program(&actor) && actor.partner_id != Some(item.partner_id) {
                return Err(AppError::forbidden().extend());
            }
            let mut model: onboarding_item::ActiveModel = item.into();
            model.completed_at = Set(input.completed.then(Utc::now));
            model.completed_by_id = Set(input.completed.then_some(actor.user_id));
            let updated = model.update(db).await.map_err(AppError::from).extend()?;
            Ok(OnboardingItemPayload {
                item: Some(updated.into()),
                ..Default::default()
            })
        }
    }
}

pub use api::{OnboardingMutation, OnboardingQuery};

pub async fn items_of(
    db: &impl ConnectionTrait,
    partner_id: i64,
) -> AppResult<Vec<onboarding_item::Model>> {
    Ok(onboarding_item::Entity::find()
        .filter(onboarding_item::Column::PartnerId.eq(partner_id))
        .order_by_asc(onboarding_item::Column::Position)
        .all(db)
        .await?)
}
