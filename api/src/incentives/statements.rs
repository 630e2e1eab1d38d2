//! A partner's rebate statement on a program: what its counted deals earned, what the
//! ledger holds and paid, what is payable, as of now or a closed period; and payouts.

use entity::enums::DealStatus;
use entity::{deal_registration, ledger_entry, rebate_program};
use sea_orm::sea_query::{Alias, Expr, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};

use super::service::{
    amount, counted_select, counted_values, earnings_on, ledger_entries, program_view_query,
    read_view, write_entry, Earnings, ProgramView, ACCRUAL, ADJUSTMENT, PAYOUT,
};
use crate::auth::Actor;
use crate::db::Db;
use crate::db::{
    begin_write, minor_total, read_sums, settle, sum_minor, sums_query, Outcome, Shapes,
};
use crate::error::{AppError, AppResult};
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub struct Statement {
    pub earnings: Earnings,
    pub paid_minor: i64,
    /// False when the partner has left the program (a tier change): `earned` is then what
    /// accrued while it was in it, frozen, and still payable.
    pub in_program: bool,
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
            crate::db::scalar(total),
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
