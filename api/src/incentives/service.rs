//! Rebate programs and the money ledger. Earned rebates are kept in the ledger as accruals
//! (a deal won) and adjustments (a program changed); nothing is ever edited.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use entity::enums::DealStatus;
use entity::{deal_registration, ledger_entry, partner, rebate_eligibility, rebate_program};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use super::rebates::{self, Band, Method};
use crate::auth::Actor;
use crate::db::Db;
use crate::db::{begin_write, settle, sum_minor, Outcome, Shapes};
use crate::error::{AppError, AppResult};
use crate::events::{self, EventType, NewEvent};
use crate::money::{minor_digits, round, to_minor, Money, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub const ACCRUAL: &str = "ACCRUAL";
pub const ADJUSTMENT: &str = "ADJUSTMENT";
pub const PAYOUT: &str = "PAYOUT";
pub const MDF_PAYMENT: &str = "MDF_PAYMENT";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredBand {
    min: String,
    max: Option<String>,
    rate: String,
}

pub fn bands_of(program: &rebate_program::Model) -> Vec<Band> {
    let stored: Vec<StoredBand> = serde_json::from_str(&program.bands).unwrap_or_default();
    stored
        .into_iter()
        .filter_map(|b| {
            Some(Band {
                min: b.min.parse().ok()?,
                max: match b.max {
                    Some(max) => Some(max.parse().ok()?),
                    None => None,
                },
                rate: b.rate.parse().ok()?,
            })
        })
        .collect()
}

pub fn method_of(program: &rebate_program::Model) -> Method {
    if program.method == "BANDED" {
        Method::Banded
    } else {
        Method::Retroactive
    }
}

pub(super) fn amount(minor: i64, currency: &str) -> Decimal {
    Money::from_minor(minor, currency).amount
}

pub struct NewProgram {
    pub name: String,
    pub currency: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub method: Method,
    pub bands: Vec<Band>,
    pub cap: Option<Decimal>,
    pub partner_ids: Vec<i64>,
    pub tier_ids: Vec<i64>,
}

fn validate_program(new: &NewProgram) -> Vec<UserError> {
    let mut errors = Vec::new();
    if new.name.trim().is_empty() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if minor_digits(&new.currency).is_none() {
        errors.push(UserError::new(
            "currency",
            UserErrorCode::Invalid,
            "unsupported currency",
        ));
    }
    if new.period_end < new.period_start {
        errors.push(UserError::new(
            "periodEnd",
            UserErrorCode::Invalid,
            "must not be before periodStart",
        ));
    }
    if let Some(problem) = rebates::bands_problem(&new.bands) {
        errors.push(UserError::new("tiers", UserErrorCode::Invalid, problem));
    }
    if new.cap.is_some_and(|cap| cap <= Decimal::ZERO) {
        errors.push(UserError::new(
            "cap",
            UserErrorCode::Invalid,
            "must be positive",
        ));
    }
    if new.partner_ids.is_empty() && new.tier_ids.is_empty() {
        errors.push(UserError::new(
            "partnerIds",
            UserErrorCode::Required,
            "name the partners or tiers the program is for",
        ));
    }
    errors
}

fn encode_bands(bands: &[Band]) -> String {
    let stored: Vec<StoredBand> = bands
        .iter()
        .map(|b| StoredBand {
            min: b.min.to_string(),
            max: b.max.map(|m| m.to_string()),
            rate: b.rate.normalize().to_string(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

pub async fn create_program(
    db: &Db,
    actor: &Actor,
    new: NewProgram,
) -> AppResult<Outcome<rebate_program::Model>> {
    let errors = validate_program(&new);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let now = Utc::now();
        let cap_minor = match new.cap {
            Some(cap) => match to_minor(&MoneyInput {
                amount: cap,
                currency: new.currency.clone(),
            }) {
                Ok(minor) => Some(minor),
                Err(message) => {
                    return Ok(Err(UserError::one("cap", UserErrorCode::Invalid, message)))
                }
            },
            None => None,
        };
        let program = rebate_program::ActiveModel {
            name: Set(new.name.trim().to_owned()),
            currency: Set(new.currency.clone()),
            period_start: Set(new.period_start),
            period_end: Set(new.period_end),
            method: Set(if new.method == Method::Banded {
                "BANDED"
            } else {
                "RETROACTIVE"
            }
            .into()),
            cap_minor: Set(cap_minor),
            bands: Set(encode_bands(&new.bands)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for partner_id in &new.partner_ids {
            if partner::Entity::find_by_id(*partner_id)
                .one(&txn)
                .await?
                .is_none()
            {
                return Ok(Err(UserError::one(
                    "partnerIds",
                    UserErrorCode::NotFound,
                    "no such partner",
                )));
            }
            rebate_eligibility::ActiveModel {
                program_id: Set(program.id),
                partner_id: Set(Some(*partner_id)),
                tier_id: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        for tier_id in &new.tier_ids {
            rebate_eligibility::ActiveModel {
                program_id: Set(program.id),
                partner_id: Set(None),
                tier_id: Set(Some(*tier_id)),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(|_| AppError::BadUserInput("no such tier".into()))?;
        }
        // Wins already recorded in the period accrue at once.
        for partner_id in eligible_partners(&txn, &program).await? {
            sync(
                &txn,
                &program,
                partner_id,
                ACCRUAL,
                &format!("program {} created", program.id),
                Some(actor.user_id),
            )
            .await?;
        }
        Ok(Ok(program))
    }
    .await;
    settle(txn, result).await
}

/// Replaces a program's tiers (and cap); earnings change by adjustment entries only.
pub async fn update_bands(
    db: &Db,
    actor: &Actor,
    program_id: i64,
    version: i32,
    bands: Vec<Band>,
    cap: Option<Option<Decimal>>,
) -> AppResult<Outcome<rebate_program::Model>> {
    if let Some(problem) = rebates::bands_problem(&bands) {
        return Ok(Err(UserError::one(
            "tiers",
            UserErrorCode::Invalid,
            problem,
        )));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(current) = rebate_program::Entity::find_by_id(program_id)
            .one(&txn)
            .await?
        else {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such program",
            )));
        };
        // An omitted cap keeps the program's; only an explicit null removes it.
        let cap_minor = match cap {
            None => current.cap_minor,
            Some(None) => None,
            Some(Some(cap)) if cap <= Decimal::ZERO => {
                return Ok(Err(UserError::one(
                    "cap",
                    UserErrorCode::Invalid,
                    "must be positive",
                )))
            }
            Some(Some(cap)) => match to_minor(&MoneyInput {
                amount: cap,
                currency: current.currency.clone(),
            }) {
                Ok(minor) => Some(minor),
                Err(message) => {
                    return Ok(Err(UserError::one("cap", UserErrorCode::Invalid, message)))
                }
            },
        };
        let moved = rebate_program::Entity::update_many()
            .col_expr(rebate_program::Column::Bands, encode_bands(&bands).into())
            .col_expr(rebate_program::Column::CapMinor, cap_minor.into())
            .col_expr(rebate_program::Column::Version, (version + 1).into())
            .col_expr(rebate_program::Column::UpdatedAt, Utc::now().into())
            .filter(rebate_program::Column::Id.eq(program_id))
            .filter(rebate_program::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "version",
                UserErrorCode::StaleVersion,
                "the program changed since you read it",
            )));
        }
        let updated = rebate_program::Entity::find_by_id(program_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("program vanished"))?;
        for partner_id in eligible_partners(&txn, &updated).await? {
            sync(
                &txn,
                &updated,
                partner_id,
                ADJUSTMENT,
                &format!("program {} changed to version {}", program_id, version + 1),
                Some(actor.user_id),
            )
            .await?;
        }
        Ok(Ok(updated))
    }
    .await;
    settle(txn, result).await
}

pub async fn eligible_partners(
    db: &impl ConnectionTrait,
    program: &rebate_program::Model,
) -> AppResult<Vec<i64>> {
    let rows = rebate_eligibility::Entity::find()
        .filter(rebate_eligibility::Column::ProgramId.eq(program.id))
        .all(db)
        .await?;
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.partner_id).collect();
    let tiers: Vec<i64> = rows.iter().filter_map(|r| r.tier_id).collect();
    if !tiers.is_empty() {
        ids.extend(
            partner::Entity::find()
                .filter(partner::Column::TierId.is_in(tiers))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.id),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The rebate programs `partner_id` is in, named or through its tier: one query however
/// many programs there are.
pub async fn programs_of(db: &impl ConnectionTrait, partner_id: i64) -> AppResult<BTreeSet<i64>> {
    let ids: Vec<i64> = rebate_eligibility::Entity::find()
        .select_only()
        .column(rebate_eligibility::Column::ProgramId)
        .distinct()
        .filter(names_partner(partner_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Eligibility rows that put `partner_id` in their program: naming it, or its tier.
fn names_partner(partner_id: i64) -> Condition {
    let partners_tier = partner::Entity::find_by_id(partner_id)
        .select_only()
        .column(partner::Column::TierId)
        .into_query();
    Condition::any()
        .add(rebate_eligibility::Column::PartnerId.eq(partner_id))
        .add(rebate_eligibility::Column::TierId.in_subquery(partners_tier))
}

/// Whether `partner_id` is in `program`, named or through its tier.
pub async fn is_eligible(
    db: &impl ConnectionTrait,
    program: &rebate_program::Model,
    partner_id: i64,
) -> AppResult<bool> {
    Ok(programs_of(db, partner_id).await?.contains(&program.id))
}

/// The won deals `program` counts for `partner_id`, as a query: in its currency and period,
/// and not in the period of an earlier program the partner is in (revenue never earns
/// twice). Sums run in the database; the rows are read only when a client lists them.
/// `earlier`: those earlier programs (`ProgramView::earlier`).
pub(super) fn counted_select(
    program: &rebate_program::Model,
    partner_id: i64,
    earlier: &[rebate_program::Model],
) -> Select<deal_registration::Entity> {
    let mut select = deal_registration::Entity::find()
        .filter(deal_registration::Column::PartnerId.eq(partner_id))
        .filter(crate::deals::status_is(DealStatus::Won))
        .filter(deal_registration::Column::Currency.eq(program.currency.as_str()))
        .filter(closed_within(program));
    for other in earlier {
        select = select.filter(closed_within(other).not());
    }
    select
}

/// The values `counted_select` binds, in its order.
pub(super) fn counted_values(
    program: &rebate_program::Model,
    partner_id: i64,
    earlier: &[rebate_program::Model],
) -> Vec<Value> {
    let mut values = vec![partner_id.into(), program.currency.as_str().into()];
    for period in std::iter::once(program).chain(earlier) {
        values.extend(period_bounds(period).map(Value::from));
    }
    values
}

/// Closed on a day of `program`'s period (UTC days, both ends included).
fn closed_within(program: &rebate_program::Model) -> Condition {
    let [start, end] = period_bounds(program);
    Condition::all()
        .add(deal_registration::Column::ClosedAt.gte(start))
        .add(deal_registration::Column::ClosedAt.lt(end))
}

/// The first instant of `program`'s period and the first after it.
fn period_bounds(program: &rebate_program::Model) -> [DateTime<Utc>; 2] {
    [
        day_start(program.period_start),
        day_start(program.period_end + Days::new(1)),
    ]
}

/// The query of the won deals `program` counts for `partner_id`, earliest close first.
pub async fn counted_deals(
    db: &impl ConnectionTrait,
    program: &rebate_program::Model,
    partner_id: i64,
) -> AppResult<Select<deal_registration::Entity>> {
    let earlier = match program_view(db, program.id, partner_id).await? {
        Some(view) => view.earlier,
        None => vec![],
    };
    Ok(counted_select(program, partner_id, &earlier)
        .order_by_asc(deal_registration::Column::ClosedAt)
        .order_by_asc(deal_registration::Column::Id))
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

pub struct Earnings {
    pub total: Decimal,
    pub earned: Decimal,
}

pub async fn earnings(
    db: &impl ConnectionTrait,
    view: &ProgramView,
    partner_id: i64,
) -> AppResult<Earnings> {
    let counted = counted_select(&view.program, partner_id, &view.earlier);
    let total_minor = sum_minor(db, counted, deal_registration::Column::ClosedAmountMinor).await?;
    Ok(earnings_on(&view.program, total_minor))
}

/// What `program` pays on a measured volume of `total_minor`.
pub(super) fn earnings_on(program: &rebate_program::Model, total_minor: i64) -> Earnings {
    let total = amount(total_minor, &program.currency);
    let cap = program.cap_minor.map(|c| amount(c, &program.currency));
    let earned = round(
        rebates::earned(method_of(program), &bands_of(program), total, cap),
        &program.currency,
    );
    Earnings { total, earned }
}

async fn ledger_sum(
    db: &impl ConnectionTrait,
    program_id: i64,
    partner_id: i64,
    kinds: &[&str],
) -> AppResult<i64> {
    Ok(sum_minor(
        db,
        ledger_entries(program_id, partner_id, kinds),
        ledger_entry::Column::AmountMinor,
    )
    .await?)
}

pub(super) fn ledger_entries(
    program_id: i64,
    partner_id: i64,
    kinds: &[&str],
) -> Select<ledger_entry::Entity> {
    ledger_entry::Entity::find()
        .filter(ledger_entry::Column::ProgramId.eq(program_id))
        .filter(ledger_entry::Column::PartnerId.eq(partner_id))
        .filter(ledger_entry::Column::Kind.is_in(kinds.iter().copied()))
}

/// Brings the ledger's accrued total for (program, partner) in line with what is earned,
/// writing the difference as one `kind` entry.
pub async fn sync(
    db: &impl ConnectionTrait,
    program: &rebate_program::Model,
    partner_id: i64,
    kind: &str,
    source: &str,
    actor: Option<i64>,
) -> AppResult<()> {
    let Some(view) = program_view(db, program.id, partner_id).await? else {
        return Ok(());
    };
    let earned = earnings(db, &view, partner_id).await?.earned;
    let earned_minor = to_minor(&MoneyInput {
        amount: earned,
        currency: program.currency.clone(),
    })
    .map_err(AppError::internal)?;
    let accrued = ledger_sum(db, program.id, partner_id, &[ACCRUAL, ADJUSTMENT]).await?;
    if earned_minor != accrued {
        let entry = write_entry(
            db,
            partner_id,
            Some(program.id),
            kind,
            earned_minor - accrued,
            &program.currency,
            source,
            actor,
        )
        .await?;
        events::emit(db, rebate_accrued(&entry, program)).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn write_entry(
    db: &impl ConnectionTrait,
    partner_id: i64,
    program_id: Option<i64>,
    kind: &str,
    amount_minor: i64,
    currency: &str,
    source: &str,
    actor: Option<i64>,
) -> AppResult<ledger_entry::Model> {
    Ok(ledger_entry::ActiveModel {
        partner_id: Set(partner_id),
        program_id: Set(program_id),
        kind: Set(kind.to_owned()),
        amount_minor: Set(amount_minor),
        currency: Set(currency.to_owned()),
        source: Set(source.chars().take(200).collect()),
        actor_id: Set(actor),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The event of a change of what a partner has accrued in a rebate program.
fn rebate_accrued(entry: &ledger_entry::Model, program: &rebate_program::Model) -> NewEvent {
    NewEvent {
        ty: EventType::RebateAccrued,
        subject_id: entry.id,
        partner_id: Some(entry.partner_id),
        data: serde_json::json!({
            "amount": Money::from_minor(entry.amount_minor, &entry.currency),
            "programId": crate::relay::global_id("RebateProgram", program.id).to_string(),
            "programName": program.name,
            "source": entry.source,
        }),
    }
}

/// Accrues rebates and creates bonus/SPIFF awards for a deal just won (called inside the
/// deal's transaction).
pub async fn on_deal_won(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
    actor: i64,
) -> AppResult<()> {
    super::awards::on_deal_won(db, registration).await?;
    let programs = programs_of(db, registration.partner_id).await?;
    for program in rebate_program::Entity::find().all(db).await? {
        if programs.contains(&program.id) {
            sync(
                db,
                &program,
                registration.partner_id,
                ACCRUAL,
                &format!("deal registration {} won", registration.id),
                Some(actor),
            )
            .await?;
        }
    }
    Ok(())
}

/// A program as one partner's statement reads it.
pub struct ProgramView {
    pub program: rebate_program::Model,
    /// Whether the partner is in the program, named or through its tier.
    pub eligible: bool,
    /// The earlier programs in its currency that the partner is in: revenue in their
    /// periods does not count again.
    pub earlier: Vec<rebate_program::Model>,
}

static PROGRAM_VIEW: Shapes = Shapes::new();

/// `program_id` as `partner_id`'s statement sees it, in one statement; none when there is
/// no such program.
pub async fn program_view(
    db: &impl ConnectionTrait,
    program_id: i64,
    partner_id: i64,
) -> AppResult<Option<ProgramView>> {
    let statement = PROGRAM_VIEW.statement(
        db.get_database_backend(),
        0,
        vec![
            partner_id.into(),
            partner_id.into(),
            program_id.into(),
            program_id.into(),
        ],
        || program_view_query(program_id, partner_id),
    )?;
    let rows = db.query_all(statement).await?;
    Ok(read_view(&rows, program_id)?.map(|(view, _)| view))
}

/// The view of `program_id` in `program_view_query`'s rows, with the program's own row.
pub(super) fn read_view(
    rows: &[QueryResult],
    program_id: i64,
) -> AppResult<Option<(ProgramView, &QueryResult)>> {
    let mut found = None;
    let mut earlier = Vec::new();
    for row in rows {
        let program = rebate_program::Model::from_query_result(row, "")?;
        let eligible: bool = row.try_get("", "eligible")?;
        if program.id == program_id {
            found = Some((program, eligible, row));
        } else if eligible {
            earlier.push(program);
        }
    }
    Ok(found.map(|(program, eligible, row)| {
        let view = ProgramView {
            program,
            eligible,
            earlier,
        };
        (view, row)
    }))
}

/// The program and those before it in its currency, each with whether the partner is in
/// it (named, or through its tier).
pub(super) fn program_view_query(program_id: i64, partner_id: i64) -> SelectStatement {
    let partner_in_it = Query::select()
        .expr(Expr::cust("1"))
        .from(rebate_eligibility::Entity)
        .and_where(
            Expr::col((
                rebate_eligibility::Entity,
                rebate_eligibility::Column::ProgramId,
            ))
            .equals((rebate_program::Entity, rebate_program::Column::Id)),
        )
        .cond_where(names_partner(partner_id))
        .to_owned();
    let currency = rebate_program::Entity::find_by_id(program_id)
        .select_only()
        .column(rebate_program::Column::Currency)
        .into_query();
    rebate_program::Entity::find()
        .column_as(Expr::exists(partner_in_it), "eligible")
        .filter(rebate_program::Column::Id.lte(program_id))
        .filter(rebate_program::Column::Currency.in_subquery(currency))
        .into_query()
}
