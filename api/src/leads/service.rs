//! Creating leads and routing them: each lead checked, written with its products, its
//! routing decision (as a history row saying why) and its event in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use entity::enums::{LeadStatus, PartnerStatus, PartnerType};
use entity::{
    certification, lead, lead_exclusion as exclusion, lead_history as history, lead_product,
    lead_routing_rule as rule, partner, product, tier, user,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect, SqlErr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::policy;
use super::routing::{self, Candidate, Decision, LeadFacts, Rule};
use super::stages::OPEN;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::integrations::text;
use crate::relay::{UserError, UserErrorCode};

pub type Outcome<T> = Result<T, Vec<UserError>>;

const MAX_NAME: usize = 200;
const MAX_SHORT: usize = 100;
const MAX_KEY: usize = 200;
const MAX_PRODUCTS: usize = 50;
/// Leads per `createLeads` call.
pub const MAX_BATCH: usize = 500;
const SETTINGS: &str = "lead_settings";

/// What a new lead is, as sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewLead {
    pub company_name: String,
    pub company_domain: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub vertical: Option<String>,
    pub product_ids: Vec<i64>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub source: Option<String>,
}

/// The program's lead settings (`setLeadSettings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadSettings {
    /// Hours a partner has to accept a lead before it goes to another.
    pub accept_within_hours: u32,
    /// The weighted fallback's weight per tier (a tier not listed: `default_weight`).
    pub tier_weights: BTreeMap<i64, u32>,
    /// The weight of a tier not listed and of partners without a tier.
    pub default_weight: u32,
}

impl Default for LeadSettings {
    fn default() -> Self {
        LeadSettings {
            accept_within_hours: 48,
            tier_weights: BTreeMap::new(),
            default_weight: 1,
        }
    }
}

impl LeadSettings {
    pub fn weight_of(&self, tier_id: Option<i64>) -> u32 {
        tier_id
            .and_then(|t| self.tier_weights.get(&t).copied())
            .unwrap_or(self.default_weight)
    }

    pub fn problems(&self) -> Vec<UserError> {
        let mut errors = Vec::new();
        if !(1..=720).contains(&self.accept_within_hours) {
            errors.push(UserError::new(
                "acceptWithinHours",
                UserErrorCode::Invalid,
                "must be between 1 and 720",
            ));
        }
        if self.default_weight > 100 || self.tier_weights.values().any(|w| *w > 100) {
            errors.push(UserError::new(
                "tierWeights",
                UserErrorCode::Invalid,
                "weights must be between 0 and 100",
            ));
        }
        errors
    }
}

pub async fn settings(db: &impl ConnectionTrait) -> AppResult<LeadSettings> {
    Ok(crate::settings::read(db, SETTINGS)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

pub async fn store_settings(
    db: &impl ConnectionTrait,
    new: &LeadSettings,
) -> AppResult<Outcome<()>> {
    let mut errors = new.problems();
    let named: Vec<i64> = new.tier_weights.keys().copied().collect();
    let found = tier::Entity::find()
        .filter(tier::Column::Id.is_in(named.clone()))
        .count(db)
        .await? as usize;
    if found != named.len() {
        errors.push(UserError::new(
            "tierWeights",
            UserErrorCode::NotFound,
            "names a tier that does not exist",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let json = serde_json::to_string(new).map_err(AppError::internal)?;
    crate::settings::store(db, SETTINGS, &json).await?;
    Ok(Ok(()))
}

/// A lead that passed its checks.
#[derive(Debug, Clone)]
pub struct Checked {
    lead: NewLead,
}

fn keep(result: Result<Option<String>, UserError>, errors: &mut Vec<UserError>) -> Option<String> {
    result.unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

/// The lead's fields trimmed and checked, or every problem at once.
pub async fn check(db: &impl ConnectionTrait, new: &NewLead) -> AppResult<Outcome<Checked>> {
    let mut errors = Vec::new();
    let company_name = match text::required("companyName", &new.company_name, MAX_NAME) {
        Ok(name) => name,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let company_domain = keep(
        text::optional("companyDomain", new.company_domain.as_deref(), MAX_SHORT),
        &mut errors,
    )
    .and_then(|d| match crate::deals::matching::web::parse(&d) {
        Ok(Some(web)) => Some(web.host),
        Ok(None) => None,
        Err(message) => {
            errors.push(UserError::new(
                "companyDomain",
                UserErrorCode::Invalid,
                message,
            ));
            None
        }
    });
    let country = keep(
        text::optional("country", new.country.as_deref(), MAX_SHORT),
        &mut errors,
    )
    .and_then(|c| match crate::partners::rules::normalize_country(&c) {
        Some(code) => Some(code),
        None => {
            errors.push(UserError::new(
                "country",
                UserErrorCode::Invalid,
                "must be a two-letter ISO 3166 code",
            ));
            None
        }
    });
    let region = keep(
        text::optional("region", new.region.as_deref(), MAX_SHORT),
        &mut errors,
    );
    let vertical = keep(
        text::optional("vertical", new.vertical.as_deref(), MAX_SHORT),
        &mut errors,
    );
    let contact_name = keep(
        text::optional("contactName", new.contact_name.as_deref(), MAX_NAME),
        &mut errors,
    );
    let contact_email = keep(
        text::optional("contactEmail", new.contact_email.as_deref(), 254),
        &mut errors,
    );
    if contact_email
        .as_deref()
        .is_some_and(|e| !crate::users::service::is_valid_email(e))
    {
        errors.push(UserError::new(
            "contactEmail",
            UserErrorCode::Invalid,
            "is not an email address",
        ));
    }
    let contact_phone = keep(
        text::optional("contactPhone", new.contact_phone.as_deref(), 50),
        &mut errors,
    );
    let source = keep(
        text::optional("source", new.source.as_deref(), MAX_SHORT),
        &mut errors,
    );
    let product_ids: Vec<i64> = new
        .product_ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if product_ids.len() > MAX_PRODUCTS {
        errors.push(UserError::new(
            "productIds",
            UserErrorCode::Invalid,
            format!("at most {MAX_PRODUCTS} products"),
        ));
    } else if !product_ids.is_empty() {
        let found = product::Entity::find()
            .filter(product::Column::Id.is_in(product_ids.clone()))
            .count(db)
            .await? as usize;
        if found != product_ids.len() {
            errors.push(UserError::new(
                "productIds",
                UserErrorCode::NotFound,
                "names a product that does not exist",
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(Checked {
        lead: NewLead {
            company_name,
            company_domain,
            country,
            region,
            vertical,
            product_ids,
            contact_name,
            contact_email,
            contact_phone,
            source,
        },
    }))
}

fn request_hash(new: &NewLead) -> String {
    let canonical = serde_json::to_string(new).unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What routing needs of the program, read once for a call (a batch reuses it, counting
/// its own assignments).
pub struct Context {
    pub rules: Vec<Rule>,
    pub candidates: Vec<Candidate>,
    pub settings: LeadSettings,
}

fn list<T: for<'de> Deserialize<'de>>(json: &str) -> Vec<T> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn parse_types(json: &str) -> Vec<PartnerType> {
    list::<String>(json)
        .iter()
        .filter_map(|t| sea_orm::ActiveEnum::try_from_value(t).ok())
        .collect()
}

pub async fn context(db: &impl ConnectionTrait) -> AppResult<Context> {
    let settings = settings(db).await?;
    let ranks: HashMap<i64, i32> = tier::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.rank))
        .collect();
    let rules = rule::Entity::find()
        .filter(rule::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|r| Rule {
            id: r.id,
            name: r.name.clone(),
            priority: r.priority,
            regions: list(&r.regions),
            verticals: list(&r.verticals),
            product_ids: list(&r.product_ids),
            partner_ids: list(&r.partner_ids),
            partner_types: parse_types(&r.partner_types),
            min_tier_rank: r.min_tier_id.and_then(|t| ranks.get(&t).copied()),
            certification_program_ids: list(&r.certification_program_ids),
            capacity: r.capacity,
        })
        .collect();
    type Row = (i64, PartnerType, Option<String>, Option<i64>);
    let partners: Vec<Row> = partner::Entity::find()
        .select_only()
        .column(partner::Column::Id)
        .column(partner::Column::PartnerType)
        .column(partner::Column::Region)
        .column(partner::Column::TierId)
        .filter(partner::Column::Status.eq(PartnerStatus::Active))
        .into_tuple()
        .all(db)
        .await?;
    let open: HashMap<i64, i64> = lead::Entity::find()
        .select_only()
        .column(lead::Column::AssignedPartnerId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(lead::Column::Status.is_in(OPEN))
        .filter(lead::Column::AssignedPartnerId.is_not_null())
        .group_by(lead::Column::AssignedPartnerId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let programs = programs_held(db).await?;
    let candidates = partners
        .into_iter()
        .map(|(id, partner_type, region, tier_id)| Candidate {
            id,
            partner_type: Some(partner_type),
            region,
            tier_rank: tier_id.and_then(|t| ranks.get(&t).copied()),
            weight: settings.weight_of(tier_id),
            programs: programs.get(&id).cloned().unwrap_or_default(),
            open_leads: open.get(&id).copied().unwrap_or(0).max(0) as u32,
        })
        .collect();
    Ok(Context {
        rules,
        candidates,
        settings,
    })
}

/// The certification programs each partner's users hold a current certification of.
async fn programs_held(db: &impl ConnectionTrait) -> AppResult<HashMap<i64, BTreeSet<i64>>> {
    let now = Utc::now();
    let rows: Vec<(Option<i64>, i64)> = certification::Entity::find()
        .select_only()
        .column_as(Expr::col((user::Entity, user::Column::PartnerId)), "p")
        .column(certification::Column::ProgramId)
        .join(
            JoinType::InnerJoin,
            certification::Entity::belongs_to(user::Entity)
                .from(certification::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .filter(certification::Column::AwardedAt.lte(now))
        .filter(
            certification::Column::ExpiresAt
                .is_null()
                .or(certification::Column::ExpiresAt.gt(now)),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut held: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for (partner, program) in rows {
        if let Some(p) = partner {
            held.entry(p).or_default().insert(program);
        }
    }
    Ok(held)
}

/// The partners that declined the lead or let it lapse.
pub async fn excluded(db: &impl ConnectionTrait, lead_id: i64) -> AppResult<BTreeSet<i64>> {
    Ok(exclusion::Entity::find()
        .select_only()
        .column(exclusion::Column::PartnerId)
        .filter(exclusion::Column::LeadId.eq(lead_id))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

pub async fn product_ids_of(db: &impl ConnectionTrait, lead_id: i64) -> AppResult<Vec<i64>> {
    Ok(lead_product::Entity::find()
        .select_only()
        .column(lead_product::Column::ProductId)
        .filter(lead_product::Column::LeadId.eq(lead_id))
        .into_tuple()
        .all(db)
        .await?)
}

pub fn facts_of(lead: &lead::Model, product_ids: Vec<i64>) -> LeadFacts {
    LeadFacts {
        region: lead.region.clone(),
        vertical: lead.vertical.clone(),
        product_ids,
    }
}

/// Puts the lead where `decision` says (with its partner, or nobody), appends the history
/// row saying why and announces an assignment, in `db` (the change's transaction). The
/// update is a compare-and-set on the version read: `None` when the lead changed meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn place(
    db: &impl ConnectionTrait,
    current: &lead::Model,
    decision: &Decision,
    actor_id: Option<i64>,
    why: &str,
    settings: &LeadSettings,
    now: DateTime<Utc>,
) -> AppResult<Option<lead::Model>> {
    let status = if decision.partner_id.is_some() {
        LeadStatus::Assigned
    } else {
        LeadStatus::Unassigned
    };
    let accept_by = decision
        .partner_id
        .map(|_| now + Duration::hours(i64::from(settings.accept_within_hours)));
    let moved = lead::Entity::update_many()
        .col_expr(lead::Column::Status, Expr::value(status))
        .col_expr(
            lead::Column::AssignedPartnerId,
            Expr::value(decision.partner_id),
        )
        .col_expr(lead::Column::RuleId, Expr::value(decision.rule_id))
        .col_expr(
            lead::Column::AssignedAt,
            Expr::value(decision.partner_id.map(|_| now)),
        )
        .col_expr(lead::Column::AcceptBy, Expr::value(accept_by))
        .col_expr(lead::Column::Version, Expr::value(current.version + 1))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now))
        .filter(lead::Column::Id.eq(current.id))
        .filter(lead::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    let from = (current.version > 0).then_some(current.status);
    record(
        db,
        current.id,
        from,
        status,
        decision.partner_id,
        actor_id,
        &format!("{why}{}", decision.reason),
        now,
    )
    .await?;
    if let Some(partner_id) = decision.partner_id {
        emit(
            db,
            NewEvent {
                ty: EventType::LeadAssigned,
                subject_id: current.id,
                partner_id: Some(partner_id),
                data: json!({
                    "id": crate::relay::global_id(super::NODE_KIND, current.id).to_string(),
                    "partnerId": crate::relay::global_id(crate::partners::NODE_KIND, partner_id).to_string(),
                    "acceptBy": accept_by,
                }),
            },
        )
        .await?;
    }
    Ok(lead::Entity::find_by_id(current.id).one(db).await?)
}

/// Appends a history row.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    db: &impl ConnectionTrait,
    lead_id: i64,
    from: Option<LeadStatus>,
    to: LeadStatus,
    partner_id: Option<i64>,
    actor_id: Option<i64>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    history::ActiveModel {
        lead_id: Set(lead_id),
        from_status: Set(from),
        to_status: Set(to),
        partner_id: Set(partner_id),
        actor_id: Set(actor_id),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

async fn existing_by_key(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &str,
) -> AppResult<Option<lead::Model>> {
    Ok(lead::Entity::find()
        .filter(lead::Column::CreatedById.eq(actor.user_id))
        .filter(lead::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

fn replayed(found: lead::Model, hash: &str) -> Outcome<lead::Model> {
    let stored = found.request_hash.clone();
    crate::relay::replayed(found, stored.as_deref(), hash, "lead")
}

fn key_of(key: Option<String>) -> Result<Option<String>, Vec<UserError>> {
    let key = key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
    if key
        .as_ref()
        .is_some_and(|k| k.chars().count() > MAX_KEY || k.chars().any(char::is_control))
    {
        return Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "must be at most 200 characters without control characters",
        ));
    }
    Ok(key)
}

/// Creates a lead and routes it, with `ctx` (updated with the assignment). The same
/// idempotency key from the same user returns the first lead and creates nothing.
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: NewLead,
    idempotency_key: Option<String>,
    ctx: &mut Context,
) -> AppResult<Outcome<lead::Model>> {
    if !policy::can_manage(actor) {
        return Err(AppError::forbidden());
    }
    let key = match key_of(idempotency_key) {
        Ok(key) => key,
        Err(errors) => return Ok(Err(errors)),
    };
    let hash = request_hash(&new);
    if let Some(key) = &key {
        if let Some(found) = existing_by_key(db, actor, key).await? {
            return Ok(replayed(found, &hash));
        }
    }
    let checked = match check(db, &new).await? {
        Ok(checked) => checked.lead,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let inserted = lead::ActiveModel {
        company_name: Set(checked.company_name.clone()),
        company_domain: Set(checked.company_domain.clone()),
        country: Set(checked.country.clone()),
        region: Set(checked.region.clone()),
        vertical: Set(checked.vertical.clone()),
        contact_name: Set(checked.contact_name.clone()),
        contact_email: Set(checked.contact_email.clone()),
        contact_phone: Set(checked.contact_phone.clone()),
        source: Set(checked.source.clone()),
        status: Set(LeadStatus::Unassigned),
        created_by_id: Set(actor.user_id),
        idempotency_key: Set(key.clone()),
        request_hash: Set(Some(hash.clone())),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let inserted = match inserted {
        Ok(model) => model,
        Err(err) if is_unique_violation(&err) => {
            drop(txn);
            // The racing request with the same key committed first: answer as a replay.
            return match existing_by_key(db, actor, key.as_deref().unwrap_or_default()).await? {
                Some(found) => Ok(replayed(found, &hash)),
                None => Err(err.into()),
            };
        }
        Err(err) => return Err(err.into()),
    };
    if !checked.product_ids.is_empty() {
        lead_product::Entity::insert_many(checked.product_ids.iter().map(|p| {
            lead_product::ActiveModel {
                lead_id: Set(inserted.id),
                product_id: Set(*p),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let decision = routing::route(
        &facts_of(&inserted, checked.product_ids.clone()),
        &ctx.rules,
        &ctx.candidates,
        &BTreeSet::new(),
    );
    let placed = place(
        &txn,
        &inserted,
        &decision,
        Some(actor.user_id),
        "created; ",
        &ctx.settings,
        now,
    )
    .await?
    .ok_or_else(|| AppError::internal("a new lead changed before it was routed"))?;
    txn.commit().await?;
    count_assignment(ctx, decision.partner_id, None);
    Ok(Ok(placed))
}

/// Keeps a batch's context's open lead counts in step with its own assignments.
pub fn count_assignment(ctx: &mut Context, to: Option<i64>, from: Option<i64>) {
    for c in ctx.candidates.iter_mut() {
        if Some(c.id) == to {
            c.open_leads += 1;
        }
        if Some(c.id) == from {
            c.open_leads = c.open_leads.saturating_sub(1);
        }
    }
}
