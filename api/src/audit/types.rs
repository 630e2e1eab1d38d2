use async_graphql::{Context, Enum, InputObject, Object, ResultExt, ID};
use chrono::{DateTime, Utc};
use entity::audit_event as audit;
use sea_orm::{ColumnTrait, QueryFilter};

use super::{policy, NODE_KIND};
use crate::auth::actor;
use crate::db::Db;
use crate::error::AppError;
use crate::partners::Partner;
use crate::relay::{global_id, local_id, paginate_newest, PageArgs, RelayConnection};
use crate::users::{Role, User};

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AuditVia")]
pub enum AuditVia {
    /// A signed-in session.
    Session,
    /// An API key.
    ApiKey,
    /// Nobody signed in (a login, say).
    Anonymous,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AuditOutcome")]
pub enum AuditOutcome {
    /// It did what was asked.
    Succeeded,
    /// It answered userErrors: nothing changed.
    Rejected,
    /// It answered errors (unauthenticated, forbidden, not found, internal).
    Failed,
}

/// One mutation as it was run.
pub struct AuditEvent(pub audit::Model);

fn strings(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[Object]
impl AuditEvent {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Who ran it (null: nobody was signed in).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    /// The actor's role when it ran.
    async fn actor_role(&self) -> Option<Role> {
        self.0.actor_role.map(Into::into)
    }
    /// The actor's organisation when it ran.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Ok(crate::loaders::load_one::<entity::partner::Entity>(ctx, id)
            .await?
            .map(Partner))
    }
    async fn via(&self) -> AuditVia {
        self.0.via.into()
    }
    /// The API key it came with.
    async fn api_key_id(&self) -> Option<ID> {
        self.0
            .api_key_id
            .map(|id| global_id(crate::integrations::api_keys::NODE_KIND, id))
    }
    /// The client's address (behind trusted proxies, the address they forwarded).
    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }
    /// The operation's name as sent.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// The mutation fields it ran (`registerDeal`).
    async fn fields(&self) -> Vec<String> {
        self.0
            .fields
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect()
    }
    /// The objects it named: global IDs in its input and the objects it returned.
    async fn object_ids(&self) -> Vec<ID> {
        strings(&self.0.object_ids).into_iter().map(ID).collect()
    }
    async fn outcome(&self) -> AuditOutcome {
        self.0.outcome.into()
    }
    /// The codes of its userErrors or errors.
    async fn error_codes(&self) -> Vec<String> {
        strings(&self.0.error_codes)
    }
}

#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Entries of this user.
    pub actor_id: Option<ID>,
    /// Entries of this organisation's users (managers).
    pub partner_id: Option<ID>,
    pub operation_name: Option<String>,
    /// Entries that ran this mutation field (`approveDealRegistration`).
    pub field: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn filtered(
    mut select: sea_orm::Select<audit::Entity>,
    filter: AuditEventFilter,
) -> sea_orm::Select<audit::Entity> {
    if let Some(id) = filter.actor_id {
        let id = local_id(&id, crate::users::NODE_KIND).unwrap_or(-1);
        select = select.filter(audit::Column::ActorId.eq(id));
    }
    if let Some(id) = filter.partner_id {
        let id = local_id(&id, crate::partners::NODE_KIND).unwrap_or(-1);
        select = select.filter(audit::Column::PartnerId.eq(id));
    }
    if let Some(name) = filter.operation_name {
        select = select.filter(audit::Column::OperationName.eq(name));
    }
    if let Some(field) = filter.field {
        // Fields are stored comma-separated; a name has no comma, so matching it whole
        // between separators is exact.
        let field: String = field
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        select = select.filter(
            sea_orm::Condition::any()
                .add(audit::Column::Fields.eq(field.clone()))
                .add(audit::Column::Fields.starts_with(format!("{field},")))
                .add(audit::Column::Fields.ends_with(format!(",{field}")))
                .add(audit::Column::Fields.contains(format!(",{field},"))),
        );
    }
    if let Some(outcome) = filter.outcome {
        let outcome: entity::enums::AuditOutcome = outcome.into();
        select = select.filter(audit::Column::Outcome.eq(outcome));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit::Column::At.lt(to));
    }
    select
}

/// The entry `id` names, if the caller may read it.
pub async fn find_visible(
    db: &Db,
    actor: &crate::auth::Actor,
    id: i64,
) -> crate::error::AppResult<Option<audit::Model>> {
    let Some(select) = policy::visible_select(actor) else {
        return Ok(None);
    };
    Ok(select.filter(audit::Column::Id.eq(id)).one(db).await?)
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first: channel managers read every entry, a partner's org
    /// admins their own organisation's.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<AuditEvent>> {
        let actor = actor(ctx)?;
        let Some(select) = policy::visible_select(&actor) else {
            return Err(AppError::forbidden()).extend();
        };
        paginate_newest(
            ctx.data::<Db>()?,
            filtered(select, filter.unwrap_or_default()),
            audit::Column::Id,
            &PageArgs::new(first, after, last, before),
            |e| e.id,
            AuditEvent,
        )
        .await
        .extend()
    }
}
