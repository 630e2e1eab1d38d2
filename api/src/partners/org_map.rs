//! The org map around a partner's contacts: who reports to whom (never a loop), what each
//! person pushes (products or verticals, and how strongly), and how well named vendor
//! staff know them. Channel managers keep all of it; a partner's org admins keep their own
//! people's reporting lines and influence; relationships with vendor staff are the
//! vendor's to record.

use std::collections::HashMap;

use async_graphql::{Context, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{contact, contact_influence as influence, contact_relationship as relationship};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use super::contacts::{self, Contact, Influence};
use crate::auth::{actor, Actor};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::loaders::load_one;
use crate::relay::{local_id, UserError, UserErrorCode};
use crate::users::User;

const MAX_INFLUENCES: usize = 50;

/// Whether making `contact` report to `manager` would close a loop, given whom each contact
/// reports to now.
pub fn closes_loop(contact: i64, manager: i64, reports_to: &HashMap<i64, i64>) -> bool {
    let mut at = Some(manager);
    let mut steps = 0;
    while let Some(current) = at {
        if current == contact {
            return true;
        }
        steps += 1;
        if steps > reports_to.len() + 1 {
            // A loop already there (written before this rule): refuse to extend it.
            return true;
        }
        at = reports_to.get(&current).copied();
    }
    false
}

/// The problem with `contact` reporting to `manager_id`, if any: the manager must be
/// another contact of the same partner, and the line must not loop.
pub async fn reporting_problem(
    db: &impl ConnectionTrait,
    contact: &contact::Model,
    manager_id: i64,
) -> AppResult<Option<UserError>> {
    let problem =
        |code, message: &str| Some(UserError::new("reportsToId", code, message.to_owned()));
    let manager = contact::Entity::find_by_id(manager_id).one(db).await?;
    if manager.is_none_or(|m| m.partner_id != contact.partner_id) {
        return Ok(problem(
            UserErrorCode::NotFound,
            "no contact of the same partner with this id",
        ));
    }
    let lines: HashMap<i64, i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .column(contact::Column::ReportsToId)
        .filter(contact::Column::PartnerId.eq(contact.partner_id))
        .filter(contact::Column::ReportsToId.is_not_null())
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, to)| to.map(|to| (id, to)))
        .collect();
    Ok(closes_loop(contact.id, manager_id, &lines)
        .then(|| problem(UserErrorCode::RuleViolation, "would make a reporting loop"))
        .flatten())
}

/// What a contact pushes.
pub struct ContactInfluence(pub influence::Model);

#[Object]
impl ContactInfluence {
    async fn product(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::deals::Product>> {
        let Some(id) = self.0.product_id else {
            return Ok(None);
        };
        Ok(load_one::<entity::product::Entity>(ctx, id)
            .await?
            .map(crate::deals::Product))
    }
    async fn vertical(&self) -> Option<&str> {
        self.0.vertical.as_deref()
    }
    async fn strength(&self) -> Influence {
        self.0.strength.into()
    }
}

/// How well a member of the vendor's staff knows the contact.
pub struct ContactRelationship(pub relationship::Model);

#[Object]
impl ContactRelationship {
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, Some(self.0.user_id)).await
    }
    async fn strength(&self) -> Influence {
        self.0.strength.into()
    }
    async fn last_interaction_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_interaction_at
    }
    /// Whether this person is the vendor's executive sponsor for the contact.
    async fn is_executive_sponsor(&self) -> bool {
        self.0.is_executive_sponsor
    }
}

#[derive(InputObject)]
pub struct ContactInfluenceInput {
    /// A product the contact pushes (or a vertical: one of the two).
    pub product_id: Option<ID>,
    pub vertical: Option<String>,
    pub strength: Influence,
}

#[derive(InputObject)]
pub struct SetContactInfluencesInput {
    pub contact_id: ID,
    /// Replaces the contact's list (empty: none).
    pub influences: Vec<ContactInfluenceInput>,
}

#[derive(InputObject)]
pub struct SetContactRelationshipInput {
    pub contact_id: ID,
    /// A member of the vendor's staff (channel manager or direct rep).
    pub user_id: ID,
    pub strength: Influence,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub is_executive_sponsor: Option<bool>,
}

#[derive(InputObject)]
pub struct RemoveContactRelationshipInput {
    pub contact_id: ID,
    pub user_id: ID,
}

#[derive(SimpleObject, Default)]
pub struct OrgMapPayload {
    pub contact: Option<Contact>,
    pub user_errors: Vec<UserError>,
}

fn refused(field: &str, code: UserErrorCode, message: &str) -> OrgMapPayload {
    OrgMapPayload {
        contact: None,
        user_errors: UserError::one(field, code, message),
    }
}

/// The contact `id` names, if the caller may change its org map entry.
async fn editable(db: &Db, actor: &Actor, id: &ID) -> AppResult<Option<contact::Model>> {
    let Some(local) = local_id(id, contacts::NODE_KIND) else {
        return Ok(None);
    };
    let Some(found) = contacts::find_visible(db, actor, local).await? else {
        return Ok(None);
    };
    if !contacts::can_manage_contacts(actor, found.partner_id) {
        return Err(AppError::forbidden());
    }
    Ok(Some(found))
}

/// The rows an influence list becomes, or the problems with it.
fn influence_rows(
    contact_id: i64,
    list: &[ContactInfluenceInput],
) -> Result<Vec<influence::ActiveModel>, Vec<UserError>> {
    if list.len() > MAX_INFLUENCES {
        return Err(UserError::one(
            "influences",
            UserErrorCode::Invalid,
            format!("at most {MAX_INFLUENCES}"),
        ));
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let field = format!("influences.{i}");
        let vertical = match crate::integrations::text::optional(
            &format!("{field}.vertical"),
            item.vertical.as_deref(),
            100,
        ) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let product = item
            .product_id
            .as_ref()
            .map(|id| local_id(id, crate::deals::PRODUCT_KIND).unwrap_or(-1));
        if product.is_some() == vertical.is_some() {
            errors.push(UserError::new(
                &field,
                UserErrorCode::Invalid,
                "name a product or a vertical (one of the two)",
            ));
            continue;
        }
        rows.push(influence::ActiveModel {
            contact_id: Set(contact_id),
            product_id: Set(product),
            vertical: Set(vertical),
            strength: Set(item.strength.into()),
            created_at: Set(now),
            ..Default::default()
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

async fn products_exist(db: &Db, rows: &[influence::ActiveModel]) -> AppResult<bool> {
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.product_id.clone().unwrap())
        .collect();
    if ids.is_empty() {
        return Ok(true);
    }
    let found = entity::product::Entity::find()
        .select_only()
        .column(entity::product::Column::Id)
        .filter(entity::product::Column::Id.is_in(ids.clone()))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let distinct: std::collections::BTreeSet<i64> = ids.into_iter().collect();
    Ok(found.len() == distinct.len())
}

#[derive(Default)]
pub struct OrgMapMutation;

#[Object]
impl OrgMapMutation {
    /// Replaces what a contact pushes (channel managers; the partner's org admins).
    async fn set_contact_influences(
        &self,
        ctx: &Context<'_>,
        input: SetContactInfluencesInput,
    ) -> async_graphql::Result<OrgMapPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(found) = editable(db, &actor, &input.contact_id).await.extend()? else {
            return Ok(refused(
                "contactId",
                UserErrorCode::NotFound,
                "no such contact",
            ));
        };
        let rows = match influence_rows(found.id, &input.influences) {
            Ok(rows) => rows,
            Err(user_errors) => {
                return Ok(OrgMapPayload {
                    contact: None,
                    user_errors,
                })
            }
        };
        if !products_exist(db, &rows).await.extend()? {
            return Ok(refused(
                "influences",
                UserErrorCode::NotFound,
                "names a product that does not exist",
            ));
        }
        let txn = crate::db::begin_write(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        influence::Entity::delete_many()
            .filter(influence::Column::ContactId.eq(found.id))
            .exec(&txn)
            .await
            .map_err(AppError::from)
            .extend()?;
        if !rows.is_empty() {
            influence::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .map_err(AppError::from)
                .extend()?;
        }
        txn.commit().await.map_err(AppError::from).extend()?;
        Ok(OrgMapPayload {
            contact: Some(Contact(found)),
            user_errors: vec![],
        })
    }

    /// Records how well a member of the vendor's staff knows a contact (vendor staff).
    async fn set_contact_relationship(
        &self,
        ctx: &Context<'_>,
        input: SetContactRelationshipInput,
    ) -> async_graphql::Result<OrgMapPayload> {
        let db = ctx.data::<Db>()?;
        let Some(found) = relationship_target(ctx, &input.contact_id).await? else {
            return Ok(refused(
                "contactId",
                UserErrorCode::NotFound,
                "no such contact",
            ));
        };
        let staff = match local_id(&input.user_id, crate::users::NODE_KIND) {
            Some(id) => entity::user::Entity::find_by_id(id)
                .one(db)
                .await
                .map_err(AppError::from)
                .extend()?,
            None => None,
        };
        let Some(staff) = staff.filter(|u| u.is_active && u.role != Role::Partner) else {
            return Ok(refused(
                "userId",
                UserErrorCode::NotFound,
                "no active member of the vendor's staff with this id",
            ));
        };
        if input.last_interaction_at.is_some_and(|at| at > Utc::now()) {
            return Ok(refused(
                "lastInteractionAt",
                UserErrorCode::Invalid,
                "must not be in the future",
            ));
        }
        let now = Utc::now();
        relationship::Entity::insert(relationship::ActiveModel {
            contact_id: Set(found.id),
            user_id: Set(staff.id),
            strength: Set(input.strength.into()),
            last_interaction_at: Set(input.last_interaction_at),
            is_executive_sponsor: Set(input.is_executive_sponsor.unwrap_or(false)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                relationship::Column::ContactId,
                relationship::Column::UserId,
            ])
            .update_columns([
                relationship::Column::Strength,
                relationship::Column::LastInteractionAt,
                relationship::Column::IsExecutiveSponsor,
                relationship::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(AppError::from)
        .extend()?;
        Ok(OrgMapPayload {
            contact: Some(Contact(found)),
            user_errors: vec![],
        })
    }

    /// Forgets a staff member's relationship with a contact (vendor staff).
    async fn remove_contact_relationship(
        &self,
        ctx: &Context<'_>,
        input: RemoveContactRelationshipInput,
    ) -> async_graphql::Result<OrgMapPayload> {
        let db = ctx.data::<Db>()?;
        let Some(found) = relationship_target(ctx, &input.contact_id).await? else {
            return Ok(refused(
                "contactId",
                UserErrorCode::NotFound,
                "no such contact",
            ));
        };
        let user = local_id(&input.user_id, crate::users::NODE_KIND).unwrap_or(-1);
        relationship::Entity::delete_many()
            .filter(relationship::Column::ContactId.eq(found.id))
            .filter(relationship::Column::UserId.eq(user))
            .exec(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        Ok(OrgMapPayload {
            contact: Some(Contact(found)),
            user_errors: vec![],
        })
    }
}

/// The contact a relationship input names, if the caller sees it; relationships are the
/// vendor's to record (`FORBIDDEN` for partners).
async fn relationship_target(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<contact::Model>> {
    let actor = actor(ctx)?;
    if !actor.is_vendor_staff() {
        return Err(AppError::forbidden()).extend();
    }
    let Some(local) = local_id(id, contacts::NODE_KIND) else {
        return Ok(None);
    };
    contacts::find_visible(ctx.data::<Db>()?, &actor, local)
        .await
        .extend()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reporting_line_never_loops() {
        // 2 → 1, 3 → 2.
        let lines = HashMap::from([(2, 1), (3, 2)]);
        assert!(closes_loop(1, 3, &lines), "1 under 3 under 2 under 1");
        assert!(closes_loop(2, 2, &lines), "no one reports to themself");
        assert!(!closes_loop(3, 1, &lines));
        assert!(!closes_loop(4, 3, &lines));
        // A loop already stored is not walked forever.
        let looped = HashMap::from([(5, 6), (6, 5)]);
        assert!(closes_loop(7, 5, &looped));
    }
}
