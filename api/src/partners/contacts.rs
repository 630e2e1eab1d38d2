//! The partner's org map: people, their titles, their role in deals and their influence.
//! Channel managers keep it; a partner's organisation admins keep their own.

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::contact;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{policy, NODE_KIND as PARTNER_KIND};
use crate::auth::{actor, Actor};
use crate::db::Db;
use crate::error::AppResult;
use crate::loaders::{
    load_group, load_one, InfluencesByContact, RelationshipsByContact, ReportsByContact,
};
use crate::relay::{
    global_id, local_id, paginate, PageArgs, RelayConnection, UserError, UserErrorCode,
};
use crate::users::service::is_valid_email;

pub const NODE_KIND: &str = "Contact";

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DealRole")]
pub enum DealRole {
    DecisionMaker,
    Champion,
    Influencer,
    Technical,
    Finance,
    Sales,
    Marketing,
    Other,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Influence")]
pub enum Influence {
    Low,
    Medium,
    High,
}

pub struct Contact(pub contact::Model);

#[Object]
impl Contact {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.0.partner_id)
            .await?
            .map(super::Partner))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    async fn deal_role(&self) -> DealRole {
        self.0.deal_role.into()
    }
    async fn influence(&self) -> Influence {
        self.0.influence.into()
    }
    async fn is_executive_sponsor(&self) -> bool {
        self.0.is_executive_sponsor
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    /// The contact this one reports to.
    async fn reports_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        let Some(id) = self.0.reports_to_id else {
            return Ok(None);
        };
        Ok(load_one::<contact::Entity>(ctx, id).await?.map(Contact))
    }
    /// The contacts who report to this one.
    async fn direct_reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Contact>> {
        Ok(load_group::<ReportsByContact>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(Contact)
            .collect())
    }
    /// The products and verticals this person pushes, and how strongly.
    async fn influences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::org_map::ContactInfluence>> {
        Ok(load_group::<InfluencesByContact>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(super::org_map::ContactInfluence)
            .collect())
    }
    /// How well named vendor staff know this person.
    async fn relationships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::org_map::ContactRelationship>> {
        Ok(load_group::<RelationshipsByContact>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(super::org_map::ContactRelationship)
            .collect())
    }
    /// The vendor's private notes (vendor staff; null for partners).
    async fn vendor_notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .0
            .vendor_notes
            .as_deref()
            .filter(|_| actor(ctx).is_ok_and(|a| a.is_vendor_staff())))
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Who may change a partner's contacts: channel managers, and that partner's own
/// organisation admins.
pub(super) fn can_manage_contacts(actor: &Actor, partner_id: i64) -> bool {
    policy::can_manage_program(actor)
        || (actor.is_org_admin && actor.partner_id == Some(partner_id))
}

pub async fn list(
    db: &Db,
    partner_id: i64,
    args: &PageArgs,
) -> AppResult<RelayConnection<Contact>> {
    let select = contact::Entity::find().filter(contact::Column::PartnerId.eq(partner_id));
    paginate(db, select, contact::Column::Id, args, |c| c.id, Contact).await
}

/// The contact, if its partner is visible to the caller.
pub async fn find_visible(db: &Db, actor: &Actor, id: i64) -> AppResult<Option<contact::Model>> {
    let Some(found) = contact::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(policy::scope(db, actor)
        .await?
        .allows(found.partner_id)
        .then_some(found))
}

#[derive(InputObject)]
pub struct ContactInput {
    /// Required when creating; ignored on update.
    pub partner_id: Option<ID>,
    /// Required when updating.
    pub id: Option<ID>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub deal_role: Option<DealRole>,
    pub influence: Option<Influence>,
    pub is_executive_sponsor: Option<bool>,
    pub notes: Option<String>,
    pub department: Option<String>,
    /// Another contact of the same partner (null: reports to no one on the map).
    pub reports_to_id: async_graphql::MaybeUndefined<ID>,
    /// The vendor's private notes (vendor staff only; never shown to the partner).
    pub vendor_notes: Option<String>,
}

#[derive(InputObject)]
pub struct DeleteContactInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct ContactPayload {
    pub contact: Option<Contact>,
    /// The id of a deleted contact.
    pub deleted_contact_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

fn errors(user_errors: Vec<UserError>) -> ContactPayload {
    ContactPayload {
        user_errors,
        ..Default::default()
    }
}

fn validate(actor: &Actor, input: &ContactInput, creating: bool) -> Vec<UserError> {
    let mut errors = Vec::new();
    if input.vendor_notes.is_some() && !actor.is_vendor_staff() {
        errors.push(UserError::new(
            "vendorNotes",
            UserErrorCode::RuleViolation,
            "only the vendor's staff keep their private notes",
        ));
    }
    for (field, value) in [
        ("department", input.department.as_deref()),
        ("vendorNotes", input.vendor_notes.as_deref()),
    ] {
        let max = if field == "department" { 100 } else { 2_000 };
        if let Err(e) = crate::integrations::text::optional(field, value, max) {
            errors.push(e);
        }
    }
    match &input.name {
        Some(name) if name.trim().is_empty() => errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )),
        None if creating => errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )),
        _ => {}
    }
    if let Some(email) = input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        if !is_valid_email(email) {
            errors.push(UserError::new(
                "email",
                UserErrorCode::Invalid,
                "is not a valid email address",
            ));
        }
    }
    errors
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn create(db: &Db, actor: &Actor, input: ContactInput) -> AppResult<ContactPayload> {
    let partner_id = input
        .partner_id
        .as_ref()
        .and_then(|id| local_id(id, PARTNER_KIND));
    let visible = match partner_id {
        Some(id) => super::service::find_visible(db, actor, id).await?.is_some(),
        None => false,
    };
    let Some(partner_id) = partner_id.filter(|_| visible) else {
        return Ok(errors(UserError::one(
            "partnerId",
            UserErrorCode::NotFound,
            "no such partner",
        )));
    };
    if !can_manage_contacts(actor, partner_id) {
        return Err(crate::error::AppError::forbidden());
    }
    let mut problems = validate(actor, &input, true);
    // A new contact has no reports: its line cannot loop, its manager must be a contact of
    // the same partner.
    let reports_to_id = match &input.reports_to_id {
        async_graphql::MaybeUndefined::Value(manager) => {
            let to = local_id(manager, NODE_KIND).unwrap_or(-1);
            let same = contact::Entity::find_by_id(to)
                .one(db)
                .await?
                .is_some_and(|m| m.partner_id == partner_id);
            if !same {
                problems.push(UserError::new(
                    "reportsToId",
                    UserErrorCode::NotFound,
                    "no contact of the same partner with this id",
                ));
            }
            Some(to)
        }
        _ => None,
    };
    if !problems.is_empty() {
        return Ok(errors(problems));
    }
    let now = Utc::now();
    let created = contact::ActiveModel {
        partner_id: Set(partner_id),
        name: Set(input.name.unwrap_or_default().trim().to_owned()),
        email: Set(blank_to_none(input.email).map(|e| e.to_lowercase())),
        phone: Set(blank_to_none(input.phone)),
        title: Set(blank_to_none(input.title)),
        deal_role: Set(input
            .deal_role
            .map_or(entity::enums::DealRole::Other, Into::into)),
        influence: Set(input
            .influence
            .map_or(entity::enums::Influence::Medium, Into::into)),
        is_executive_sponsor: Set(input.is_executive_sponsor.unwrap_or(false)),
        notes: Set(blank_to_none(input.notes)),
        department: Set(blank_to_none(input.department)),
        vendor_notes: Set(blank_to_none(input.vendor_notes)),
        reports_to_id: Set(reports_to_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;

    Ok(ContactPayload {
        contact: Some(Contact(created)),
        ..Default::default()
    })
}

/// The contact the caller may change, or the payload explaining why not.
async fn editable(
    db: &Db,
    actor: &Actor,
    id: Option<&ID>,
) -> AppResult<Result<contact::Model, ContactPayload>> {
    let found = match id.and_then(|id| local_id(id, NODE_KIND)) {
        Some(id) => find_visible(db, actor, id).await?,
        None => None,
    };
    let Some(found) = found else {
        return Ok(Err(errors(UserError::one(
            "id",
            UserErrorCode::NotFound,
            "no such contact",
        ))));
    };
    if !can_manage_contacts(actor, found.partner_id) {
        return Err(crate::error::AppError::forbidden());
    }
    Ok(Ok(found))
}

async fn update(db: &Db, actor: &Actor, input: ContactInput) -> AppResult<ContactPayload> {
    let found = match editable(db, actor, input.id.as_ref()).await? {
        Ok(found) => found,
        Err(payload) => return Ok(payload),
    };
    let problems = validate(actor, &input, false);
    if !problems.is_empty() {
        return Ok(errors(problems));
    }
    let current = found.clone();
    let mut model: contact::ActiveModel = found.into();
    if let Some(name) = input.name {
        model.name = Set(name.trim().to_owned());
    }
    if input.email.is_some() {
        model.email = Set(blank_to_none(input.email).map(|e| e.to_lowercase()));
    }
    if input.phone.is_some() {
        model.phone = Set(blank_to_none(input.phone));
    }
    if input.title.is_some() {
        model.title = Set(blank_to_none(input.title));
    }
    if let Some(role) = input.deal_role {
        model.deal_role = Set(role.into());
    }
    if let Some(influence) = input.influence {
        model.influence = Set(influence.into());
    }
    if let Some(flag) = input.is_executive_sponsor {
        model.is_executive_sponsor = Set(flag);
    }
    if input.notes.is_some() {
        model.notes = Set(blank_to_none(input.notes));
    }
    if input.department.is_some() {
        model.department = Set(blank_to_none(input.department));
    }
    if input.vendor_notes.is_some() {
        model.vendor_notes = Set(blank_to_none(input.vendor_notes));
    }
    let line = match &input.reports_to_id {
        async_graphql::MaybeUndefined::Value(manager) => Some(Some(manager.clone())),
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Undefined => None,
    };
    if let Some(Some(manager)) = &line {
        let to = local_id(manager, NODE_KIND).unwrap_or(-1);
        if let Some(problem) = super::org_map::reporting_problem(db, &current, to).await? {
            return Ok(errors(vec![problem]));
        }
    }
    if let Some(manager) = line {
        model.reports_to_id = Set(manager.map(|m| local_id(&m, NODE_KIND).unwrap_or(-1)));
    }
    model.updated_at = Set(Utc::now());
    let updated = model.update(db).await?;
    Ok(ContactPayload {
        contact: Some(Contact(updated)),
        ..Default::default()
    })
}

#[derive(Default)]
pub struct ContactMutation;

#[Object]
impl ContactMutation {
    /// Adds a person to a partner's org map (channel managers; that partner's org admins).
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: ContactInput,
    ) -> async_graphql::Result<ContactPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        create(db, &actor, input).await.extend()
    }

    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        input: ContactInput,
    ) -> async_graphql::Result<ContactPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        update(db, &actor, input).await.extend()
    }

    async fn delete_contact(
        &self,
        ctx: &Context<'_>,
        input: DeleteContactInput,
    ) -> async_graphql::Result<ContactPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let found = match editable(db, &actor, Some(&input.id)).await.extend()? {
            Ok(found) => found,
            Err(payload) => return Ok(payload),
        };
        contact::Entity::delete_by_id(found.id)
            .exec(db)
            .await
            .map_err(crate::error::AppError::from)
            .extend()?;
        Ok(ContactPayload {
            deleted_contact_id: Some(input.id),
            ..Default::default()
        })
    }
}
