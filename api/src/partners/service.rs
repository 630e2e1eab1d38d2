//! Partner organisations: listing, creation, updates with optimistic concurrency, and
//! lifecycle changes with an append-only history.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use entity::enums::{PartnerStatus, PartnerType, Role};
use entity::{partner, partner_domain, partner_status_history, partner_vertical, tier, user};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, Select, Statement,
};

use super::onboarding;
use super::policy::scope;
use super::rules::{
    can_transition, creates_cycle, normalize_country, normalize_domain, normalize_verticals,
};
use super::types::Partner;
use crate::auth::service::revoke_user_sessions;
use crate::auth::Actor;
use crate::db::placeholder;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::relay::{paginate, PageArgs, RelayConnection, UserError, UserErrorCode};

/// Fields a partner can be created with or changed to. `None` leaves a field as it is on
/// update; the nested `Option` of clearable fields distinguishes "set to null".
#[derive(Default, Clone)]
pub struct PartnerFields {
    pub name: Option<String>,
    pub partner_type: Option<PartnerType>,
    pub website: Option<Option<String>>,
    pub domains: Option<Vec<String>>,
    pub region: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub verticals: Option<Vec<String>>,
    pub parent_id: Option<Option<i64>>,
    pub channel_manager_id: Option<Option<i64>>,
    pub partnership_started_on: Option<Option<NaiveDate>>,
}

#[derive(Default, Clone, Copy)]
pub struct PartnerFilter {
    pub status: Option<PartnerStatus>,
    pub partner_type: Option<PartnerType>,
    pub tier_id: Option<i64>,
    pub parent_id: Option<i64>,
}

pub fn visible_select(
    scope: &super::policy::PartnerScope,
    filter: PartnerFilter,
) -> Select<partner::Entity> {
    let mut select = scope.restrict(partner::Entity::find(), partner::Column::Id);
    if let Some(status) = filter.status {
        select = select.filter(partner::Column::Status.eq(status));
    }
    if let Some(partner_type) = filter.partner_type {
        select = select.filter(partner::Column::PartnerType.eq(partner_type));
    }
    if let Some(tier_id) = filter.tier_id {
        select = select.filter(partner::Column::TierId.eq(tier_id));
    }
    if let Some(parent_id) = filter.parent_id {
        select = select.filter(partner::Column::ParentId.eq(parent_id));
    }
    select
}

pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: PartnerFilter,
    args: &PageArgs,
) -> AppResult<RelayConnection<Partner>> {
    let select = visible_select(scope(db, actor).await?, filter);
    paginate(db, select, partner::Column::Id, args, |p| p.id, Partner).await
}

/// The partner, if it exists and the caller may see it (otherwise `None`: never leak existence).
pub async fn find_visible(db: &Db, actor: &Actor, id: i64) -> AppResult<Option<partner::Model>> {
    if !scope(db, actor).await?.allows(id) {
        return Ok(None);
    }
    Ok(partner::Entity::find_by_id(id).one(db).await?)
}

/// `id` and every partner above it, nearest first.
async fn ancestors(db: &impl ConnectionTrait, id: i64) -> AppResult<Vec<i64>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "WITH RECURSIVE up(id, parent_id, depth) AS (\
           SELECT id, parent_id, 0 FROM partners WHERE id = {p} \
           UNION SELECT p.id, p.parent_id, up.depth + 1 FROM partners p JOIN up ON p.id = up.parent_id \
           WHERE up.depth < 1000\
         ) SELECT id FROM up ORDER BY depth",
        p = placeholder(backend, 1)
    );
    let rows = db
        .query_all(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(AppError::from))
        .collect()
}

/// Checked, normalised values ready to store.
struct Normalized {
    website: Option<Option<String>>,
    domains: Option<Vec<String>>,
    country: Option<Option<String>>,
    region: Option<Option<String>>,
    verticals: Option<Vec<String>>,
}

fn website_url(domain: &str, given: &str) -> String {
    if given.contains("://") {
        given.trim().to_owned()
    } else {
        format!("https://{domain}")
    }
}

async fn validate(
    db: &impl ConnectionTrait,
    partner_id: Option<i64>,
    fields: &PartnerFields,
    errors: &mut Vec<UserError>,
) -> AppResult<Normalized> {
    if let Some(name) = &fields.name {
        if name.trim().is_empty() {
            errors.push(UserError::new(
                "name",
                UserErrorCode::Required,
                "must not be blank",
            ));
        } else if name.trim().chars().count() > 200 {
            errors.push(UserError::new(
                "name",
                UserErrorCode::Invalid,
                "must be at most 200 characters",
            ));
        }
    }
    let mut website = None;
    let mut website_domain = None;
    if let Some(given) = &fields.website {
        website = Some(
            match given.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(text) => match normalize_domain(text) {
                    Some(domain) => {
                        let url = website_url(&domain, text);
                        website_domain = Some(domain);
                        Some(url)
                    }
                    None => {
                        errors.push(UserError::new(
                            "website",
                            UserErrorCode::Invalid,
                            format!("{text:?} is not a website address"),
                        ));
                        None
                    }
                },
            },
        );
    }
    let mut domains = None;
    if fields.domains.is_some() || website_domain.is_some() {
        let mut set: Vec<String> = website_domain.iter().cloned().collect();
        for (i, text) in fields.domains.iter().flatten().enumerate() {
            match normalize_domain(text) {
                Some(domain) if !set.contains(&domain) => set.push(domain),
                Some(_) => {}
                None => errors.push(UserError::new(
                    &format!("domains.{i}"),
                    UserErrorCode::Invalid,
                    format!("{text:?} is not a domain name"),
                )),
            }
        }
        for domain in &set {
            let owner = partner_domain::Entity::find()
                .filter(partner_domain::Column::Domain.eq(domain.as_str()))
                .one(db)
                .await?;
            if owner.is_some_and(|o| Some(o.partner_id) != partner_id) {
                errors.push(UserError::new(
                    "domains",
                    UserErrorCode::Taken,
                    format!("{domain} belongs to another partner"),
                ));
            }
        }
        domains = Some(set);
    }
    let country = match &fields.country {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) if text.trim().is_empty() => Some(None),
        Some(Some(text)) => match normalize_country(text) {
            Some(code) => Some(Some(code)),
            None => {
                errors.push(UserError::new(
                    "country",
                    UserErrorCode::Invalid,
                    "use an ISO 3166-1 alpha-2 code such as US",
                ));
                None
            }
        },
    };
    let region = fields.region.as_ref().map(|r| {
        r.as_deref()
            .map(|t| t.trim().to_uppercase())
            .filter(|t| !t.is_empty())
    });
    if region
        .as_ref()
        .and_then(|r| r.as_ref())
        .is_some_and(|r| r.len() > 32)
    {
        errors.push(UserError::new(
            "region",
            UserErrorCode::Invalid,
            "must be at most 32 characters",
        ));
    }
    if let Some(Some(parent_id)) = fields.parent_id {
        validate_parent(db, partner_id, parent_id, errors).await?;
    }
    if let Some(Some(manager_id)) = fields.channel_manager_id {
        let manager = user::Entity::find_by_id(manager_id).one(db).await?;
        if !manager.is_some_and(|m| m.role == Role::ChannelManager && m.is_active) {
            errors.push(UserError::new(
                "channelManagerId",
                UserErrorCode::NotFound,
                "no active channel manager with this id",
            ));
        }
    }
    Ok(Normalized {
        website,
        domains,
        country,
        region,
        verticals: fields.verticals.as_deref().map(normalize_verticals),
    })
}

async fn validate_parent(
    db: &impl ConnectionTrait,
    partner_id: Option<i64>,
    parent_id: i64,
    errors: &mut Vec<UserError>,
) -> AppResult<()> {
    let Some(parent) = partner::Entity::find_by_id(parent_id).one(db).await? else {
        errors.push(UserError::new(
            "parentId",
            UserErrorCode::NotFound,
            "no such partner",
        ));
        return Ok(());
    };
    if parent.partner_type != PartnerType::Distributor {
        errors.push(UserError::new(
            "parentId",
            UserErrorCode::RuleViolation,
            "the parent of a tier-two partner must be a distributor",
        ));
    }
    if let Some(id) = partner_id {
        if creates_cycle(id, &ancestors(db, parent_id).await?) {
            errors.push(UserError::new(
                "parentId",
                UserErrorCode::RuleViolation,
                "a partner cannot sit below itself (this parent would make a cycle)",
            ));
        }
    }
    Ok(())
}

async fn replace_domains(
    db: &impl ConnectionTrait,
    partner_id: i64,
    domains: &[String],
) -> AppResult<()> {
    partner_domain::Entity::delete_many()
        .filter(partner_domain::Column::PartnerId.eq(partner_id))
        .exec(db)
        .await?;
    if !domains.is_empty() {
        partner_domain::Entity::insert_many(domains.iter().map(|d| partner_domain::ActiveModel {
            partner_id: Set(partner_id),
            domain: Set(d.clone()),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

async fn replace_verticals(
    db: &impl ConnectionTrait,
    partner_id: i64,
    verticals: &[String],
) -> AppResult<()> {
    partner_vertical::Entity::delete_many()
        .filter(partner_vertical::Column::PartnerId.eq(partner_id))
        .exec(db)
        .await?;
    if !verticals.is_empty() {
        partner_vertical::Entity::insert_many(verticals.iter().map(|v| {
            partner_vertical::ActiveModel {
                partner_id: Set(partner_id),
                vertical: Set(v.clone()),
                ..Default::default()
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

async fn record_status(
    db: &impl ConnectionTrait,
    partner_id: i64,
    from: Option<PartnerStatus>,
    to: PartnerStatus,
    actor_id: Option<i64>,
    reason: Option<String>,
) -> AppResult<()> {
    partner_status_history::ActiveModel {
        partner_id: Set(partner_id),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor_id),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The lowest tier, which new partners join unless told otherwise.
async fn entry_tier(db: &impl ConnectionTrait) -> AppResult<Option<tier::Model>> {
    use sea_orm::QueryOrder;
    Ok(tier::Entity::find()
        .order_by_asc(tier::Column::Rank)
        .one(db)
        .await?)
}

const INITIAL_STATUSES: [PartnerStatus; 3] = [
    PartnerStatus::Prospect,
    PartnerStatus::Onboarding,
    PartnerStatus::Active,
];

/// Creates a partner (default status `ONBOARDING`, entry tier, onboarding checklist from
/// the template), or returns what is wrong with the input and creates nothing.
pub async fn create<C: crate::db::Writer>(
    db: &C,
    actor: &Actor,
    fields: PartnerFields,
    status: Option<PartnerStatus>,
    tier_id: Option<i64>,
) -> AppResult<Result<partner::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let mut errors = Vec::new();
        if fields.name.is_none() {
            errors.push(UserError::new(
                "name",
                UserErrorCode::Required,
                "must not be blank",
            ));
        }
        let normalized = validate(&txn, None, &fields, &mut errors).await?;
        let status = status.unwrap_or(PartnerStatus::Onboarding);
        if !INITIAL_STATUSES.contains(&status) {
            errors.push(UserError::new(
                "status",
                UserErrorCode::Invalid,
                "a new partner starts as PROSPECT, ONBOARDING or ACTIVE",
            ));
        }
        let tier = match tier_id {
            Some(id) => {
                let found = tier::Entity::find_by_id(id).one(&txn).await?;
                if found.is_none() {
                    errors.push(UserError::new(
                        "tierId",
                        UserErrorCode::NotFound,
                        "no such tier",
                    ));
                }
                found
            }
            None => entry_tier(&txn).await?,
        };
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let now = Utc::now();
        let created = partner::ActiveModel {
            name: Set(fields.name.unwrap_or_default().trim().to_owned()),
            partner_type: Set(fields.partner_type.unwrap_or(PartnerType::Reseller)),
            status: Set(status),
            website: Set(normalized.website.flatten()),
            country: Set(normalized.country.flatten()),
            region: Set(normalized.region.flatten()),
            parent_id: Set(fields.parent_id.flatten()),
            channel_manager_id: Set(fields.channel_manager_id.flatten()),
            tier_id: Set(tier.as_ref().map(|t| t.id)),
            partnership_started_on: Set(fields
                .partnership_started_on
                .flatten()
                .or(Some(now.date_naive()))),
            status_changed_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        replace_domains(
            &txn,
            created.id,
            normalized.domains.as_deref().unwrap_or_default(),
        )
        .await?;
        replace_verticals(
            &txn,
            created.id,
            normalized.verticals.as_deref().unwrap_or_default(),
        )
        .await?;
        record_status(
            &txn,
            created.id,
            None,
            status,
            Some(actor.user_id),
            Some("created".into()),
        )
        .await?;
        if let Some(tier) = &tier {
            crate::tiers::service::record_tier_change(
                &txn,
                created.id,
                None,
                Some(tier.id),
                Some(actor.user_id),
                Some("entry tier".into()),
            )
            .await?;
        }
        onboarding::copy_template(&txn, created.id).await?;
        Ok(Ok(created))
    }
    .await;
    crate::db::settle(txn, result).await
}

fn not_found_error() -> Vec<UserError> {
    UserError::one("id", UserErrorCode::NotFound, "no such partner")
}

fn stale_error() -> Vec<UserError> {
    UserError::one(
        "version",
        UserErrorCode::StaleVersion,
        "the partner changed since you read it; reload and retry",
    )
}

/// Applies `fields` if `version` is still current (optimistic concurrency).
pub async fn update(
    db: &Db,
    id: i64,
    version: i32,
    fields: PartnerFields,
) -> AppResult<Result<partner::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(current) = partner::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Err(not_found_error()));
        };
        if current.version != version {
            return Ok(Err(stale_error()));
        }
        let mut errors = Vec::new();
        let normalized = validate(&txn, Some(id), &fields, &mut errors).await?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut update = partner::Entity::update_many()
            .col_expr(partner::Column::Version, (version + 1).into())
            .col_expr(partner::Column::UpdatedAt, Utc::now().into())
            .filter(partner::Column::Id.eq(id))
            .filter(partner::Column::Version.eq(version));
        if let Some(name) = &fields.name {
            update = update.col_expr(partner::Column::Name, name.trim().to_owned().into());
        }
        if let Some(partner_type) = fields.partner_type {
            update = update.col_expr(partner::Column::PartnerType, partner_type.into());
        }
        if let Some(website) = normalized.website {
            update = update.col_expr(partner::Column::Website, website.into());
        }
        if let Some(country) = normalized.country {
            update = update.col_expr(partner::Column::Country, country.into());
        }
        if let Some(region) = normalized.region {
            update = update.col_expr(partner::Column::Region, region.into());
        }
        if let Some(parent_id) = fields.parent_id {
            update = update.col_expr(partner::Column::ParentId, parent_id.into());
        }
        if let Some(manager_id) = fields.channel_manager_id {
            update = update.col_expr(partner::Column::ChannelManagerId, manager_id.into());
        }
        if let Some(started) = fields.partnership_started_on {
            update = update.col_expr(partner::Column::PartnershipStartedOn, started.into());
        }
        // Compare-and-swap on `version`: a concurrent writer makes this touch no row.
        if update.exec(&txn).await?.rows_affected != 1 {
            return Ok(Err(stale_error()));
        }
        if let Some(domains) = &normalized.domains {
            replace_domains(&txn, id, domains).await?;
        }
        if let Some(verticals) = &normalized.verticals {
            replace_verticals(&txn, id, verticals).await?;
        }
        let updated = partner::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("partner vanished inside its update"))?;
        Ok(Ok(updated))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// Moves a partner along its lifecycle. Terminating one ends its users' sessions.
pub async fn change_status(
    db: &Db,
    actor: &Actor,
    id: i64,
    to: PartnerStatus,
    reason: Option<String>,
) -> AppResult<Result<partner::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(current) = partner::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Err(not_found_error()));
        };
        if !can_transition(current.status, to) {
            return Ok(Err(UserError::one(
                "status",
                UserErrorCode::IllegalTransition,
                format!(
                    "a {} partner cannot become {}",
                    current.status.to_value(),
                    to.to_value()
                ),
            )));
        }
        let now = Utc::now();
        let moved = partner::Entity::update_many()
            .col_expr(partner::Column::Status, to.into())
            .col_expr(partner::Column::StatusChangedAt, Some(now).into())
            .col_expr(partner::Column::UpdatedAt, now.into())
            .col_expr(partner::Column::Version, (current.version + 1).into())
            .filter(partner::Column::Id.eq(id))
            .filter(partner::Column::Status.eq(current.status))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(stale_error()));
        }
        record_status(
            &txn,
            id,
            Some(current.status),
            to,
            Some(actor.user_id),
            reason,
        )
        .await?;
        crate::auth::callers::forget_partner(id);
        if to == PartnerStatus::Terminated {
            let users = user::Entity::find()
                .filter(user::Column::PartnerId.eq(id))
                .all(&txn)
                .await?;
            for user in users {
                revoke_user_sessions(&txn, user.id).await?;
            }
        }
        let updated = partner::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("partner vanished inside its status change"))?;
        Ok(Ok(updated))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// Ids of the partners `actor` may see among `ids`.
pub async fn visible_among(
    db: &impl ConnectionTrait,
    actor: &Actor,
    ids: &[i64],
) -> AppResult<BTreeSet<i64>> {
    let scope = scope(db, actor).await?;
    Ok(ids.iter().copied().filter(|id| scope.allows(*id)).collect())
}
