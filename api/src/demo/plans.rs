//! The demo's joint business plans: an active one with Summit Distribution (Gold), accepted
//! by its org admin, and one shared with Northwind, waiting for its acceptance.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::user;
use rust_decimal::Decimal;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::metrics::formulas::quarter_label;
use crate::money::MoneyInput;
use crate::plans::service::{self, NewPlan, TargetInput};
use crate::plans::stages::Move;

fn usd(amount: i64) -> MoneyInput {
    MoneyInput {
        amount: Decimal::new(amount, 0),
        currency: "USD".into(),
    }
}

/// The first day of the quarter `day` is in.
fn quarter_start(day: NaiveDate) -> NaiveDate {
    let month = (day.month() - 1) / 3 * 3 + 1;
    NaiveDate::from_ymd_opt(day.year(), month, 1).expect("a quarter's first day")
}

fn planned(
    outcome: service::Outcome<entity::joint_business_plan::Model>,
) -> AppResult<entity::joint_business_plan::Model> {
    outcome.map_err(|e| AppError::internal(format!("demo plan refused: {e:?}")))
}

pub async fn seed(
    db: &Db,
    manager: &Actor,
    alice: &user::Model,
    dave: &user::Model,
) -> AppResult<()> {
    let today = Utc::now().date_naive();
    let start = quarter_start(today);
    let end = quarter_start(start + Duration::days(200)) - Duration::days(1);
    let quarters = [quarter_label(start), quarter_label(end)];
    let (Some(summit), Some(northwind)) = (dave.partner_id, alice.partner_id) else {
        return Err(AppError::internal(
            "the demo's partner users belong to partners",
        ));
    };
    let active = planned(
        service::create(
            db,
            manager,
            NewPlan {
                partner_id: summit,
                name: "Summit Distribution: grow the mid-market".into(),
                period_start: start,
                period_end: end,
                targets: quarters
                    .iter()
                    .zip([60_000, 80_000])
                    .map(|(quarter, amount)| TargetInput {
                        quarter: quarter.clone(),
                        amount: usd(amount),
                    })
                    .collect(),
            },
        )
        .await?,
    )?;
    let active = planned(service::advance(db, manager, active, Move::Share).await?)?;
    let mut admin = Actor::new(dave.id, dave.role, dave.partner_id, 0);
    admin.is_org_admin = true;
    planned(service::advance(db, &admin, active, Move::Accept).await?)?;
    let shared = planned(
        service::create(
            db,
            manager,
            NewPlan {
                partner_id: northwind,
                name: "Northwind: healthcare push".into(),
                period_start: start,
                period_end: end,
                targets: vec![TargetInput {
                    quarter: quarters[1].clone(),
                    amount: usd(40_000),
                }],
            },
        )
        .await?,
    )?;
    planned(service::advance(db, manager, shared, Move::Share).await?)?;
    Ok(())
}
