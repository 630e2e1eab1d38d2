//! Rebate programs, the money ledger, and MDF. Earned rebates are kept in the ledger as
//! accruals (a deal won) and adjustments (a program changed); nothing is ever edited.
//! MDF running totals move only by conditional updates, backed by CHECK constraints.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use entity::enums::DealStatus;
use entity::{
    deal_registration, ledger_entry, mdf_activity, mdf_allocation, mdf_budget, mdf_claim,
    mdf_request, partner, rebate_eligibility, rebate_program,
};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    Select, Value,
};
use serde::{Deserialize, Serialize};

use super::rebates::{self, Band, Method};
use crate::auth::Actor;
use crate::db::Db;
use crate::db::{
    begin_write, minor_total, read_sums, settle, sum_minor, sums_query, Outcome, Shapes,
};
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

fn amount(minor: i64, currency: &str) -> Decimal {
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
fn counted_select(
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
fn counted_values(
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
fn earnings_on(program: &rebate_program::Model, total_minor: i64) -> Earnings {
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

fn ledger_entries(
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
async fn write_entry(
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

pub struct Statement {
    pub earnings: Earnings,
    pub paid_minor: i64,
    /// False when the partner has left the program (a tier change): `earned` is then what
    /// accrued while it was in it, frozen, and still payable.
    pub in_program: bool,
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
fn read_view(
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

static PROGRAM_STATEMENT: Shapes = Shapes::new();

/// `partner_id`'s statement in `program_id`, with the program as it sees it (none when
/// there is no such program; no statement when the partner is not in it). One statement
/// when no earlier program of the partner's shares the currency, which is the usual case:
/// the program's row carries its sums, taken over its own period. Otherwise those sums
/// would count revenue an earlier program already paid on, and `statement` reads them again,
/// leaving that revenue out.
pub async fn program_statement(
    db: &impl ConnectionTrait,
    program_id: i64,
    partner_id: i64,
) -> AppResult<Option<(ProgramView, Option<Statement>)>> {
    let backend = db.get_database_backend();
    let query = PROGRAM_STATEMENT.statement(
        backend,
        0,
        vec![
            partner_id.into(),
            partner_id.into(),
            program_id.into(),
            partner_id.into(),
            program_id.into(),
            program_id.into(),
            partner_id.into(),
            PAYOUT.into(),
            program_id.into(),
            program_id.into(),
        ],
        || program_statement_query(backend, program_id, partner_id),
    )?;
    let rows = db.query_all(query).await?;
    let Some((view, row)) = read_view(&rows, program_id)? else {
        return Ok(None);
    };
    let statement = if !view.eligible {
        former_statement(db, &view, partner_id).await?
    } else if view.earlier.is_empty() {
        let total_minor: i64 = row.try_get("", "measured_minor")?;
        Some(Statement {
            earnings: earnings_on(&view.program, total_minor),
            paid_minor: row.try_get("", "paid_minor")?,
            in_program: true,
        })
    } else {
        statement(db, &view, partner_id).await?
    };
    Ok(Some((view, statement)))
}

/// `program_view_query` with, on the program's own row, the partner's won revenue in the
/// program's currency and period (`measured_minor`) and its payouts (`paid_minor`).
fn program_statement_query(
    backend: DbBackend,
    program_id: i64,
    partner_id: i64,
) -> SelectStatement {
    let [starts, ends_before] = period_bounds_in_sql(backend);
    let closed_at = || {
        Expr::col((
            deal_registration::Entity,
            deal_registration::Column::ClosedAt,
        ))
    };
    let measured = minor_total(
        deal_registration::Entity::find()
            .filter(deal_registration::Column::PartnerId.eq(partner_id))
            .filter(crate::deals::status_is(DealStatus::Won))
            .filter(
                Expr::col((
                    deal_registration::Entity,
                    deal_registration::Column::Currency,
                ))
                .equals((rebate_program::Entity, rebate_program::Column::Currency)),
            )
            .filter(closed_at().gte(starts))
            .filter(closed_at().lt(ends_before)),
        deal_registration::Column::ClosedAmountMinor,
    );
    let paid = minor_total(
        ledger_entries(program_id, partner_id, &[PAYOUT]),
        ledger_entry::Column::AmountMinor,
    );
    // Only the program's own row needs them; CASE keeps the earlier rows from summing.
    let on_own_row = |total: SelectStatement| {
        Expr::case(
            Expr::col((rebate_program::Entity, rebate_program::Column::Id)).eq(program_id),
            SimpleExpr::SubQuery(None, Box::new(total.into_sub_query_statement())),
        )
    };
    let mut query = program_view_query(program_id, partner_id);
    query
        .expr_as(on_own_row(measured), Alias::new("measured_minor"))
        .expr_as(on_own_row(paid), Alias::new("paid_minor"));
    query
}

/// `period_bounds` of the program row in scope, computed by the database from its dates:
/// as the text SQLite stores a UTC timestamp in (what a bound `DateTime<Utc>` becomes), or
/// as a timestamp on PostgreSQL.
fn period_bounds_in_sql(backend: DbBackend) -> [SimpleExpr; 2] {
    let (start, end) = (
        r#""rebate_programs"."period_start""#,
        r#""rebate_programs"."period_end""#,
    );
    match backend {
        DbBackend::Postgres => [
            Expr::cust(format!("CAST({start} AS timestamp) AT TIME ZONE 'UTC'")),
            Expr::cust(format!("CAST({end} + 1 AS timestamp) AT TIME ZONE 'UTC'")),
        ],
        _ => [
            Expr::cust(format!("{start} || 'T00:00:00+00:00'")),
            Expr::cust(format!("date({end}, '+1 day') || 'T00:00:00+00:00'")),
        ],
    }
}

/// The program and those before it in its currency, each with whether the partner is in
/// it (named, or through its tier).
fn program_view_query(program_id: i64, partner_id: i64) -> SelectStatement {
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

static STATEMENT_SUMS: Shapes = Shapes::new();

/// `partner_id`'s statement in the program of `view`; none when the partner is not in it.
/// One statement: the measured volume and the payouts.
pub async fn statement(
    db: &impl ConnectionTrait,
    view: &ProgramView,
    partner_id: i64,
) -> AppResult<Option<Statement>> {
    if !view.eligible {
        return Ok(None);
    }
    let program = &view.program;
    let mut values = counted_values(program, partner_id, &view.earlier);
    values.extend([program.id.into(), partner_id.into(), PAYOUT.into()]);
    let sums = STATEMENT_SUMS.statement(
        db.get_database_backend(),
        view.earlier.len(),
        values,
        || {
            sums_query([
                minor_total(
                    counted_select(program, partner_id, &view.earlier),
                    deal_registration::Column::ClosedAmountMinor,
                ),
                minor_total(
                    ledger_entries(program.id, partner_id, &[PAYOUT]),
                    ledger_entry::Column::AmountMinor,
                ),
            ])
        },
    )?;
    let [total_minor, paid_minor] = read_sums(db, sums).await?;
    Ok(Some(Statement {
        earnings: earnings_on(program, total_minor),
        paid_minor,
        in_program: true,
    }))
}

/// The statement of a partner no longer in the program (its tier changed): accruals stop
/// when it leaves, so what it earned is what the ledger accrued while it was in, and it
/// stays payable. None when it never accrued anything here.
async fn former_statement(
    db: &impl ConnectionTrait,
    view: &ProgramView,
    partner_id: i64,
) -> AppResult<Option<Statement>> {
    let program = &view.program;
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::ProgramId.eq(program.id))
        .filter(ledger_entry::Column::PartnerId.eq(partner_id))
        .all(db)
        .await?;
    let total_of = |kinds: &[&str]| -> i64 {
        entries
            .iter()
            .filter(|entry| kinds.contains(&entry.kind.as_str()))
            .map(|entry| entry.amount_minor)
            .sum()
    };
    if !entries.iter().any(|entry| entry.kind != PAYOUT) {
        return Ok(None);
    }
    let measured = sum_minor(
        db,
        counted_select(program, partner_id, &view.earlier),
        deal_registration::Column::ClosedAmountMinor,
    )
    .await?;
    Ok(Some(Statement {
        earnings: Earnings {
            total: amount(measured, &program.currency),
            earned: amount(total_of(&[ACCRUAL, ADJUSTMENT]), &program.currency),
        },
        paid_minor: total_of(&[PAYOUT]),
        in_program: false,
    }))
}

/// Records money paid against a statement: at most what is payable (`earned − paid`), so a
/// payout never drives the statement negative. A partner that left the program is still
/// paid what it accrued while in it. The program's row is locked while the payable amount
/// is read, so two payouts at once cannot both spend it.
pub async fn record_payout(
    db: &Db,
    actor: &Actor,
    program: &rebate_program::Model,
    partner_id: i64,
    money: MoneyInput,
) -> AppResult<Outcome<()>> {
    let minor = match payout_minor(program, &money) {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        rebate_program::Entity::find_by_id(program.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let statement = program_statement(&txn, program.id, partner_id)
            .await?
            .and_then(|(_, statement)| statement);
        let Some(statement) = statement else {
            return Ok(Err(UserError::one(
                "partnerId",
                UserErrorCode::NotFound,
                "the partner has no statement in this program",
            )));
        };
        let earned_minor = to_minor(&MoneyInput {
            amount: statement.earnings.earned,
            currency: program.currency.clone(),
        })
        .map_err(AppError::internal)?;
        let payable_minor = earned_minor - statement.paid_minor;
        if minor > payable_minor {
            return Ok(Err(UserError::one(
                "amount",
                UserErrorCode::Overpayment,
                format!(
                    "only {} {} is payable",
                    amount(payable_minor.max(0), &program.currency),
                    program.currency
                ),
            )));
        }
        write_entry(
            &txn,
            partner_id,
            Some(program.id),
            PAYOUT,
            minor,
            &program.currency,
            &format!("payout for program {}", program.id),
            Some(actor.user_id),
        )
        .await?;
        Ok(Ok(()))
    }
    .await;
    settle(txn, result).await
}

/// A payout's amount in minor units: positive, in the program's currency.
fn payout_minor(
    program: &rebate_program::Model,
    money: &MoneyInput,
) -> Result<i64, Vec<UserError>> {
    if money.currency != program.currency {
        return Err(UserError::one(
            "amount",
            UserErrorCode::Invalid,
            format!("pay in the program's currency, {}", program.currency),
        ));
    }
    match to_minor(money) {
        Ok(minor) if minor > 0 => Ok(minor),
        Ok(_) => Err(UserError::one(
            "amount",
            UserErrorCode::Invalid,
            "must be positive",
        )),
        Err(message) => Err(UserError::one("amount", UserErrorCode::Invalid, message)),
    }
}

// ---- MDF ----

pub const PENDING: &str = "PENDING";
pub const APPROVED: &str = "APPROVED";
pub const DECLINED: &str = "DECLINED";
pub const SUBMITTED: &str = "SUBMITTED";
pub const REJECTED: &str = "REJECTED";
pub const PAID: &str = "PAID";

fn positive_minor(money: &MoneyInput, currency: &str, field: &str) -> Result<i64, Vec<UserError>> {
    if money.currency != currency {
        return Err(UserError::one(
            field,
            UserErrorCode::Invalid,
            format!("use the budget's currency, {currency}"),
        ));
    }
    match to_minor(money) {
        Ok(minor) if minor > 0 => Ok(minor),
        Ok(_) => Err(UserError::one(
            field,
            UserErrorCode::Invalid,
            "must be positive",
        )),
        Err(message) => Err(UserError::one(field, UserErrorCode::Invalid, message)),
    }
}

pub async fn create_budget(
    db: &Db,
    name: &str,
    money: &MoneyInput,
    start: NaiveDate,
    end: NaiveDate,
) -> AppResult<Outcome<mdf_budget::Model>> {
    if name.trim().is_empty() {
        return Ok(Err(UserError::one(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )));
    }
    if end < start {
        return Ok(Err(UserError::one(
            "periodEnd",
            UserErrorCode::Invalid,
            "must not be before periodStart",
        )));
    }
    if minor_digits(&money.currency).is_none() {
        return Ok(Err(UserError::one(
            "amount",
            UserErrorCode::Invalid,
            "unsupported currency",
        )));
    }
    let minor = match positive_minor(money, &money.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    Ok(Ok(mdf_budget::ActiveModel {
        name: Set(name.trim().to_owned()),
        amount_minor: Set(minor),
        allocated_minor: Set(0),
        currency: Set(money.currency.clone()),
        period_start: Set(start),
        period_end: Set(end),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?))
}

/// Allocates part of a budget to a partner: Σ allocations ≤ budget, checked and moved in
/// one conditional update.
pub async fn allocate(
    db: &Db,
    budget_id: i64,
    partner_id: i64,
    money: &MoneyInput,
) -> AppResult<Outcome<mdf_allocation::Model>> {
    let Some(budget) = mdf_budget::Entity::find_by_id(budget_id).one(db).await? else {
        return Ok(Err(UserError::one(
            "budgetId",
            UserErrorCode::NotFound,
            "no such budget",
        )));
    };
    if partner::Entity::find_by_id(partner_id)
        .one(db)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::one(
            "partnerId",
            UserErrorCode::NotFound,
            "no such partner",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_budget::Entity::update_many()
            .col_expr(
                mdf_budget::Column::AllocatedMinor,
                Expr::col(mdf_budget::Column::AllocatedMinor).add(minor),
            )
            .filter(mdf_budget::Column::Id.eq(budget_id))
            .filter(
                Expr::expr(Expr::col(mdf_budget::Column::AllocatedMinor).add(minor))
                    .lte(Expr::col(mdf_budget::Column::AmountMinor)),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            let left = mdf_budget::Entity::find_by_id(budget_id)
                .one(&txn)
                .await?
                .map_or(0, |b| b.amount_minor - b.allocated_minor);
            return Ok(Err(UserError::one(
                "amount",
                UserErrorCode::RuleViolation,
                format!(
                    "exceeds what is left of the budget ({} {})",
                    amount(left, &budget.currency),
                    budget.currency
                ),
            )));
        }
        let allocation = mdf_allocation::ActiveModel {
            budget_id: Set(budget_id),
            partner_id: Set(partner_id),
            amount_minor: Set(minor),
            approved_minor: Set(0),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Ok(Ok(allocation))
    }
    .await;
    settle(txn, result).await
}

pub async fn create_request(
    db: &Db,
    actor: &Actor,
    allocation: &mdf_allocation::Model,
    title: &str,
    activities: &[(String, MoneyInput)],
    currency: &str,
) -> AppResult<Outcome<mdf_request::Model>> {
    let mut errors = Vec::new();
    if title.trim().is_empty() {
        errors.push(UserError::new(
            "title",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if activities.is_empty() {
        errors.push(UserError::new(
            "activities",
            UserErrorCode::Required,
            "list at least one activity",
        ));
    }
    let mut amounts = Vec::new();
    for (i, (description, money)) in activities.iter().enumerate() {
        if description.trim().is_empty() {
            errors.push(UserError::new(
                &format!("activities.{i}.description"),
                UserErrorCode::Required,
                "must not be blank",
            ));
        }
        match positive_minor(money, currency, &format!("activities.{i}.amount")) {
            Ok(minor) => amounts.push(minor),
            Err(mut problem) => errors.append(&mut problem),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let request = mdf_request::ActiveModel {
            allocation_id: Set(allocation.id),
            partner_id: Set(allocation.partner_id),
            title: Set(title.trim().to_owned()),
            created_by_id: Set(Some(actor.user_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for ((description, _), minor) in activities.iter().zip(amounts) {
            mdf_activity::ActiveModel {
                request_id: Set(request.id),
                description: Set(description.trim().to_owned()),
                requested_minor: Set(minor),
                approved_minor: Set(None),
                claimed_minor: Set(0),
                status: Set(PENDING.into()),
                claim_deadline: Set(None),
                required_proof: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        Ok(Ok(request))
    }
    .await;
    settle(txn, result).await
}

pub async fn activity_context(
    db: &impl ConnectionTrait,
    activity_id: i64,
) -> AppResult<
    Option<(
        mdf_activity::Model,
        mdf_request::Model,
        mdf_allocation::Model,
        mdf_budget::Model,
    )>,
> {
    let Some(activity) = mdf_activity::Entity::find_by_id(activity_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let request = mdf_request::Entity::find_by_id(activity.request_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("request missing"))?;
    let allocation = mdf_allocation::Entity::find_by_id(request.allocation_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("allocation missing"))?;
    let budget = mdf_budget::Entity::find_by_id(allocation.budget_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("budget missing"))?;
    Ok(Some((activity, request, allocation, budget)))
}

/// Approves an activity for at most what was requested: Σ approved ≤ allocation, moved
/// in one conditional update.
pub async fn approve_activity(
    db: &Db,
    activity_id: i64,
    money: &MoneyInput,
    claim_deadline: Option<NaiveDate>,
    required_proof: Option<String>,
) -> AppResult<Outcome<mdf_activity::Model>> {
    let Some((activity, _, allocation, budget)) = activity_context(db, activity_id).await? else {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::NotFound,
            "no such activity",
        )));
    };
    if activity.status != PENDING {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only a pending activity can be decided",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "approvedAmount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    if minor > activity.requested_minor {
        return Ok(Err(UserError::one(
            "approvedAmount",
            UserErrorCode::Invalid,
            "cannot exceed the requested amount",
        )));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_allocation::Entity::update_many()
            .col_expr(
                mdf_allocation::Column::ApprovedMinor,
                Expr::col(mdf_allocation::Column::ApprovedMinor).add(minor),
            )
            .filter(mdf_allocation::Column::Id.eq(allocation.id))
            .filter(
                Expr::expr(Expr::col(mdf_allocation::Column::ApprovedMinor).add(minor))
                    .lte(Expr::col(mdf_allocation::Column::AmountMinor)),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "approvedAmount",
                UserErrorCode::RuleViolation,
                "exceeds what is left of the partner's allocation",
            )));
        }
        let decided = mdf_activity::Entity::update_many()
            .col_expr(mdf_activity::Column::Status, APPROVED.into())
            .col_expr(mdf_activity::Column::ApprovedMinor, Some(minor).into())
            .col_expr(mdf_activity::Column::ClaimDeadline, claim_deadline.into())
            .col_expr(
                mdf_activity::Column::RequiredProof,
                required_proof.clone().into(),
            )
            .filter(mdf_activity::Column::Id.eq(activity_id))
            .filter(mdf_activity::Column::Status.eq(PENDING))
            .exec(&txn)
            .await?;
        if decided.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "activityId",
                UserErrorCode::IllegalTransition,
                "the activity was decided meanwhile",
            )));
        }
        Ok(Ok(mdf_activity::Entity::find_by_id(activity_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("activity vanished"))?))
    }
    .await;
    settle(txn, result).await
}

pub async fn decline_activity(
    db: &Db,
    activity_id: i64,
) -> AppResult<Outcome<mdf_activity::Model>> {
    let moved = mdf_activity::Entity::update_many()
        .col_expr(mdf_activity::Column::Status, DECLINED.into())
        .filter(mdf_activity::Column::Id.eq(activity_id))
        .filter(mdf_activity::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only a pending activity can be declined",
        )));
    }
    Ok(Ok(mdf_activity::Entity::find_by_id(activity_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("activity"))?))
}

/// Claims money for an approved activity: Σ claims ≤ the approved amount, moved in one
/// conditional update.
pub async fn submit_claim(
    db: &Db,
    activity: &mdf_activity::Model,
    budget: &mdf_budget::Model,
    partner_id: i64,
    money: &MoneyInput,
    proof_note: Option<String>,
    proof_file_id: Option<i64>,
) -> AppResult<Outcome<mdf_claim::Model>> {
    if activity.status != APPROVED {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only an approved activity can be claimed",
        )));
    }
    if activity
        .claim_deadline
        .is_some_and(|deadline| Utc::now().date_naive() > deadline)
    {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::RuleViolation,
            "the claim deadline has passed",
        )));
    }
    if activity.required_proof.is_some() && proof_note.is_none() && proof_file_id.is_none() {
        return Ok(Err(UserError::one(
            "proof",
            UserErrorCode::Required,
            "this activity requires proof",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_activity::Entity::update_many()
            .col_expr(
                mdf_activity::Column::ClaimedMinor,
                Expr::col(mdf_activity::Column::ClaimedMinor).add(minor),
            )
            .filter(mdf_activity::Column::Id.eq(activity.id))
            .filter(
                Condition::all().add(
                    Expr::expr(Expr::col(mdf_activity::Column::ClaimedMinor).add(minor))
                        .lte(Expr::cust("COALESCE(approved_minor, 0)")),
                ),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "amount",
                UserErrorCode::RuleViolation,
                "exceeds the activity's approved amount",
            )));
        }
        let claim = mdf_claim::ActiveModel {
            activity_id: Set(activity.id),
            partner_id: Set(partner_id),
            amount_minor: Set(minor),
            proof_file_id: Set(proof_file_id),
            proof_note: Set(proof_note.clone()),
            status: Set(SUBMITTED.into()),
            paid_at: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Ok(Ok(claim))
    }
    .await;
    settle(txn, result).await
}

/// Moves a claim `from` → `to`; a rejected claim frees its amount for another claim, a
/// paid one is written to the ledger. Only one caller can make each move.
pub async fn decide_claim(
    db: &Db,
    actor: &Actor,
    claim_id: i64,
    from: &str,
    to: &str,
) -> AppResult<Outcome<mdf_claim::Model>> {
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(claim) = mdf_claim::Entity::find_by_id(claim_id).one(&txn).await? else {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such claim",
            )));
        };
        let mut update = mdf_claim::Entity::update_many()
            .col_expr(mdf_claim::Column::Status, to.into())
            .filter(mdf_claim::Column::Id.eq(claim_id))
            .filter(mdf_claim::Column::Status.eq(from));
        if to == PAID {
            update = update.col_expr(mdf_claim::Column::PaidAt, Some(Utc::now()).into());
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::IllegalTransition,
                format!("only a {from} claim can become {to}").to_lowercase(),
            )));
        }
        if to == REJECTED {
            mdf_activity::Entity::update_many()
                .col_expr(
                    mdf_activity::Column::ClaimedMinor,
                    Expr::col(mdf_activity::Column::ClaimedMinor).sub(claim.amount_minor),
                )
                .filter(mdf_activity::Column::Id.eq(claim.activity_id))
                .exec(&txn)
                .await?;
        }
        if to == PAID {
            let Some((_, _, _, budget)) = activity_context(&txn, claim.activity_id).await? else {
                return Err(AppError::internal("claim without activity"));
            };
            write_entry(
                &txn,
                claim.partner_id,
                None,
                MDF_PAYMENT,
                claim.amount_minor,
                &budget.currency,
                &format!("MDF claim {claim_id}"),
                Some(actor.user_id),
            )
            .await?;
            let paid = NewEvent {
                ty: EventType::MdfClaimPaid,
                subject_id: claim.id,
                partner_id: Some(claim.partner_id),
                data: serde_json::json!({
                    "amount": Money::from_minor(claim.amount_minor, &budget.currency),
                }),
            };
            events::emit(&txn, paid).await?;
        }
        Ok(Ok(mdf_claim::Entity::find_by_id(claim_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("claim vanished"))?))
    }
    .await;
    settle(txn, result).await
}
