//! The demo's joint business plans: an active one with Summit Distribution (Gold), accepted
//! by its org admin, with target accounts, enablement needs, sponsors from both org maps,
//! weighted objectives and this quarter's review; and one shared with Northwind, where the
//! partner has proposed a change that waits for the channel manager.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::{certification_program, course, user};
use rust_decimal::Decimal;
use sea_orm::{EntityTrait, QueryOrder};

use super::org_map::Mapped;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::metrics::formulas::quarter_label;
use crate::money::MoneyInput;
use crate::plans::changes::{AccountItem, NeedItem, ObjectiveItem, PlanChanges, SponsorItem};
use crate::plans::service::{self, NewPlan, TargetInput};
use crate::plans::stages::Move;
use crate::plans::{comments, reviews};

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

fn planned<T>(outcome: service::Outcome<T>) -> AppResult<T> {
    outcome.map_err(|e| AppError::internal(format!("demo plan refused: {e:?}")))
}

fn prospect(name: &str, domain: Option<&str>, country: &str) -> AccountItem {
    AccountItem {
        name: name.into(),
        domain: domain.map(Into::into),
        country: Some(country.into()),
        ..Default::default()
    }
}

fn objective(
    name: &str,
    metric: &str,
    target: i64,
    currency: Option<&str>,
    weight: i32,
) -> ObjectiveItem {
    ObjectiveItem {
        name: name.into(),
        metric: metric.into(),
        target: Decimal::new(target, 0),
        currency: currency.map(Into::into),
        weight,
        target_value: 0,
    }
}

fn sponsor(user_id: Option<i64>, contact_id: Option<i64>, role: &str) -> SponsorItem {
    SponsorItem {
        user_id,
        contact_id,
        role: Some(role.into()),
    }
}

fn partner_actor(user: &user::Model) -> Actor {
    let mut actor = Actor::new(user.id, user.role, user.partner_id, 0);
    actor.is_org_admin = true;
    actor
}

/// Summit's plan: what it pursues with the vendor and how it is measured.
async fn summit_contents(
    db: &Db,
    rep: i64,
    mapped: &Mapped,
    manager: &Actor,
) -> AppResult<PlanChanges> {
    let program = certification_program::Entity::find()
        .order_by_asc(certification_program::Column::Id)
        .one(db)
        .await?
        .map(|p| p.id);
    let course = course::Entity::find()
        .order_by_desc(course::Column::Id)
        .one(db)
        .await?
        .map(|c| c.id);
    let due = Utc::now().date_naive() + Duration::days(45);
    Ok(PlanChanges {
        accounts: Some(vec![
            prospect(
                "Globex Manufacturing GmbH",
                Some("globex-manufacturing.example"),
                "DE",
            ),
            prospect("Stark Industries", Some("stark.example"), "US"),
            prospect("Wayne Logistics", None, "US"),
        ]),
        needs: Some(vec![
            NeedItem {
                program_id: program,
                required_count: 2,
                owner_contact_id: Some(mapped.summit_sales),
                owner_user_id: Some(manager.user_id),
                due_date: Some(due),
                ..Default::default()
            },
            NeedItem {
                course_id: course,
                required_count: 1,
                owner_contact_id: Some(mapped.summit_sales),
                owner_user_id: Some(rep),
                due_date: Some(due),
                ..Default::default()
            },
        ]),
        sponsors: Some(vec![
            sponsor(Some(manager.user_id), None, "Executive sponsor"),
            sponsor(None, Some(mapped.summit_ceo), "Executive sponsor"),
            sponsor(None, Some(mapped.summit_sales), "Plan owner"),
        ]),
        objectives: Some(vec![
            objective("Grow revenue", "REVENUE", 140_000, Some("USD"), 3),
            objective(
                "Pipeline in the target accounts",
                "TARGET_ACCOUNT_PIPELINE",
                50_000,
                Some("USD"),
                2,
            ),
            objective("Deals won", "WON_REGISTRATIONS", 6, None, 1),
            objective("Certified sellers", "CERTIFICATIONS_EARNED", 2, None, 1),
        ]),
        ..Default::default()
    })
}

pub async fn seed(
    db: &Db,
    manager: &Actor,
    rep: &user::Model,
    alice: &user::Model,
    dave: &user::Model,
    mapped: &Mapped,
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
    let contents = summit_contents(db, rep.id, mapped, manager).await?;
    let active = planned(service::update(db, manager, active, None, &contents).await?)?;
    let active = planned(service::advance(db, manager, active, Move::Share).await?)?;
    let admin = partner_actor(dave);
    let active = planned(service::advance(db, &admin, active, Move::Accept).await?)?;
    let review = planned(
        reviews::record(
            db,
            manager,
            active.clone(),
            reviews::NewReview {
                quarter: quarters[0].clone(),
                vendor_notes: Some("Manufacturing pipeline is ahead; certifications lag.".into()),
                adjustments: Some("Two sellers through certification before the next review; joint campaign on Globex.".into()),
                next_quarter_targets: vec![],
            },
        )
        .await?,
    )?;
    planned(
        reviews::add_partner_notes(
            db,
            &admin,
            review,
            active,
            "Agreed. We need the technical course scheduled in our time zone.",
        )
        .await?,
    )?;

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
    let northwind_contents = PlanChanges {
        accounts: Some(vec![prospect(
            "Harbor Clinics",
            Some("harborclinics.example"),
            "US",
        )]),
        sponsors: Some(vec![
            sponsor(Some(manager.user_id), None, "Executive sponsor"),
            sponsor(None, Some(mapped.northwind_md), "Executive sponsor"),
        ]),
        objectives: Some(vec![
            objective("Healthcare revenue", "REVENUE", 40_000, Some("USD"), 2),
            objective("Leads converted", "LEADS_CONVERTED", 3, None, 1),
        ]),
        ..Default::default()
    };
    let shared = planned(service::update(db, manager, shared, None, &northwind_contents).await?)?;
    let shared = planned(service::advance(db, manager, shared, Move::Share).await?)?;
    let proposal = PlanChanges {
        accounts: Some(vec![
            prospect("Harbor Clinics", Some("harborclinics.example"), "US"),
            prospect("Fjord Health", Some("fjordhealth.example"), "NO"),
        ]),
        sponsors: Some(vec![
            sponsor(Some(manager.user_id), None, "Executive sponsor"),
            sponsor(None, Some(mapped.northwind_md), "Executive sponsor"),
            sponsor(None, Some(mapped.northwind_practice), "Plan owner"),
        ]),
        ..Default::default()
    };
    planned(
        comments::add(
            db,
            &partner_actor(alice),
            &shared,
            "We would add Fjord Health (already in talks) and Lena as plan owner.",
            Some(proposal),
        )
        .await?,
    )?;
    Ok(())
}
