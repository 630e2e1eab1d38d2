use async_graphql::ResultExt;
use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{partner, user};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{policy as user_policy, service};
use crate::auth::actor;
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::load_one;
use crate::partners::{policy, Partner};
use crate::relay::{
    global_id, local_id, paginate, PageArgs, RelayConnection, UserError, UserErrorCode,
};

pub const NODE_KIND: &str = "User";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    /// A user of one partner organisation.
    Partner,
    /// Runs the partner program.
    ChannelManager,
    /// The vendor's own seller, owning direct accounts.
    DirectRep,
}

/// The user with `id` (an author, an actor, an owner), through the request's loader.
pub async fn user_by_id(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<User>> {
    match id {
        Some(id) => Ok(load_one::<user::Entity>(ctx, id).await?.map(User::seen)),
        None => Ok(None),
    }
}

/// Someone who can log in. The password hash never leaves the server.
pub struct User {
    pub model: user::Model,
    /// Shown to that same user (`me`, a login payload): its own organisation is always visible,
    /// even in the request that logs it in and so carries no token yet.
    own_view: bool,
}

impl User {
    /// A user as seen by some caller; nested fields apply the caller's policy.
    pub fn seen(model: user::Model) -> Self {
        User {
            model,
            own_view: false,
        }
    }

    async fn caller_sees_partner(
        &self,
        ctx: &Context<'_>,
        partner_id: i64,
    ) -> async_graphql::Result<bool> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        Ok(actor.user_id == self.model.id
            || policy::scope(db, &actor).await.extend()?.allows(partner_id))
    }

    /// A user as seen by itself.
    pub fn own(model: user::Model) -> Self {
        User {
            model,
            own_view: true,
        }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.model.id)
    }

    async fn email(&self) -> &str {
        &self.model.email
    }

    async fn name(&self) -> &str {
        &self.model.name
    }

    async fn role(&self) -> Role {
        self.model.role.into()
    }

    /// The partner organisation of a partner user; null for vendor staff.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(partner_id) = self.model.partner_id else {
            return Ok(None);
        };
        if !self.own_view && !self.caller_sees_partner(ctx, partner_id).await? {
            return Ok(None);
        }
        Ok(load_one::<partner::Entity>(ctx, partner_id)
            .await?
            .map(Partner))
    }

    async fn is_active(&self) -> bool {
        self.model.is_active
    }

    /// Manages its own organisation's users and contacts.
    async fn is_org_admin(&self) -> bool {
        self.model.is_org_admin
    }

    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.model.deactivated_at
    }

    /// The user's certifications.
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<crate::training::Certification>> {
        let db = ctx.data::<Db>()?;
        crate::training::service::user_certifications(
            db,
            self.model.id,
            &PageArgs::new(first, after, last, before),
        )
        .await
        .extend()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The organisation of a `PARTNER` user.
    pub partner_id: Option<ID>,
    /// At least 10 characters.
    pub password: String,
    /// Lets a partner user manage its organisation's users and contacts.
    #[graphql(default)]
    pub is_org_admin: bool,
}

#[derive(InputObject)]
pub struct DeactivateUserInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct UserPayload {
    pub user: Option<User>,
    pub user_errors: Vec<UserError>,
}

fn payload(result: Result<user::Model, Vec<UserError>>) -> UserPayload {
    match result {
        Ok(model) => UserPayload {
            user: Some(User::seen(model)),
            user_errors: vec![],
        },
        Err(user_errors) => UserPayload {
            user: None,
            user_errors,
        },
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users the caller may see: everyone for vendor staff, otherwise the users of the
    /// partner organisations the caller can see. `partnerId` narrows to one organisation.
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        partner_id: Option<ID>,
    ) -> async_graphql::Result<RelayConnection<User>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let mut select = user::Entity::find();
        if !actor.is_vendor_staff() {
            let scope = policy::scope(db, &actor).await.extend()?;
            select = scope.restrict(
                select.filter(user::Column::PartnerId.is_not_null()),
                user::Column::PartnerId,
            );
        }
        if let Some(id) = partner_id {
            select = select.filter(
                user::Column::PartnerId.eq(local_id(&id, crate::partners::NODE_KIND).unwrap_or(-1)),
            );
        }
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
}

#[derive(Default)]
pub struct UserMutation;

impl UserMutation {
    async fn set_active(
        &self,
        ctx: &Context<'_>,
        id: &ID,
        active: bool,
    ) -> async_graphql::Result<UserPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let target = match local_id(id, NODE_KIND) {
            Some(id) => service::find_visible(db, &actor, id).await.extend()?,
            None => None,
        };
        let Some(target) = target else {
            return Ok(payload(Err(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such user",
            ))));
        };
        if !user_policy::can_manage_user(&actor, target.role, target.partner_id) {
            return Err(AppError::forbidden().extend());
        }
        if target.id == actor.user_id {
            return Ok(payload(Err(UserError::one(
                "id",
                UserErrorCode::RuleViolation,
                "you cannot deactivate yourself",
            ))));
        }
        Ok(payload(Ok(service::set_active(db, target, active)
            .await
            .extend()?)))
    }
}

#[Object]
impl UserMutation {
    /// Creates a user who can log in. Channel managers create any user; a partner's
    /// organisation admin creates partner users in its own organisation.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<UserPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let role: entity::enums::Role = input.role.into();
        let partner_id = input
            .partner_id
            .as_ref()
            .map(|id| local_id(id, crate::partners::NODE_KIND).unwrap_or(-1));
        if !user_policy::can_manage_user(&actor, role, partner_id) {
            return Err(AppError::forbidden().extend());
        }
        let new = service::NewUser {
            email: input.email,
            name: input.name,
            role,
            partner_id,
            password: input.password,
            is_org_admin: input.is_org_admin,
        };
        Ok(payload(service::create_user(db, new).await.extend()?))
    }

    /// Turns a user's access off; its sessions end at once.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        input: DeactivateUserInput,
    ) -> async_graphql::Result<UserPayload> {
        self.set_active(ctx, &input.id, false).await
    }

    /// Turns a deactivated user's access back on (it must log in again).
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        input: DeactivateUserInput,
    ) -> async_graphql::Result<UserPayload> {
        self.set_active(ctx, &input.id, true).await
    }
}
