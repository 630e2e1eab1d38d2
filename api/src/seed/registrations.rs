//! The generated registrations: each partner's (by a power law of activity) for customers
//! a popular slice of which many partners court, with products, history, exclusivity and an
//! outcome by age.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{DealStatus, DealType};
use entity::{deal_exclusivity, deal_history, deal_registration, deal_registration_product};
use indicatif::ProgressBar;
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::{
    activity, bar, insert_all, next_id, power_law, GeneratedCustomer, GeneratedPartner, Program,
    SeedOptions, DAY_SECONDS, LEGAL,
};
use crate::deals::matching::Customer;
use crate::error::AppResult;

/// Where a registration ended up, given how long ago it was created.
fn outcome(rng: &mut ChaCha8Rng, age_days: i64) -> DealStatus {
    let choices: &[(DealStatus, u32)] = if age_days <= 3 {
        &[
            (DealStatus::Submitted, 60),
            (DealStatus::UnderReview, 25),
            (DealStatus::Draft, 15),
        ]
    } else if age_days <= 80 {
        &[
            (DealStatus::Approved, 55),
            (DealStatus::Rejected, 10),
            (DealStatus::Returned, 5),
            (DealStatus::Withdrawn, 5),
            (DealStatus::Won, 15),
            (DealStatus::Lost, 10),
        ]
    } else {
        &[
            (DealStatus::Won, 40),
            (DealStatus::Lost, 30),
            (DealStatus::Expired, 15),
            (DealStatus::Rejected, 10),
            (DealStatus::Withdrawn, 5),
        ]
    };
    let pick = WeightedIndex::new(choices.iter().map(|c| c.1)).expect("weights are positive");
    choices[pick.sample(rng)].0
}

struct Batch {
    registrations: Vec<deal_registration::ActiveModel>,
    products: Vec<deal_registration_product::ActiveModel>,
    history: Vec<deal_history::ActiveModel>,
    exclusivity: Vec<deal_exclusivity::ActiveModel>,
}

#[allow(clippy::too_many_arguments)]
fn registration(
    rng: &mut ChaCha8Rng,
    batch: &mut Batch,
    id: i64,
    history_id: &mut i64,
    partner: &GeneratedPartner,
    buyer: &GeneratedCustomer,
    program: &Program,
    claimed: &mut HashSet<(String, i64)>,
    now: DateTime<Utc>,
) {
    let age_days = activity::age_days(rng, partner.trend, 730);
    let created = now - Duration::seconds(age_days * DAY_SECONDS + rng.gen_range(0..DAY_SECONDS));
    let suffix = LEGAL.choose(rng).copied().unwrap_or("");
    let name = format!("{} {suffix}", buyer.name).trim().to_owned();
    let checked = Customer::new(&name, buyer.domain.as_deref(), Some(buyer.country));
    let key = checked.key();
    let how_many = rng.gen_range(1..=3);
    let mut products: Vec<i64> = program
        .products
        .choose_multiple(rng, how_many)
        .copied()
        .collect();
    products.sort_unstable();
    let mut status = outcome(rng, age_days);
    // Exclusivity: only one approved registration per customer and product.
    if status == DealStatus::Approved
        && products
            .iter()
            .any(|p| claimed.contains(&(key.clone(), *p)))
    {
        status = DealStatus::Rejected;
    }
    let submitted = (status != DealStatus::Draft).then(|| created + Duration::minutes(5));
    let decided = submitted.map(|at| at + Duration::hours(rng.gen_range(4..72)));
    let approved = matches!(
        status,
        DealStatus::Approved | DealStatus::Won | DealStatus::Lost | DealStatus::Expired
    )
    .then_some(decided)
    .flatten();
    let closed = matches!(status, DealStatus::Won | DealStatus::Lost)
        .then(|| (created + Duration::days(rng.gen_range(20..90))).min(now));
    let value_minor = (rng.gen_range(5_000.0_f64..50_000.0).powf(1.25) as i64 / 100) * 100 * 100;
    if status == DealStatus::Approved {
        for p in &products {
            claimed.insert((key.clone(), *p));
            batch.exclusivity.push(deal_exclusivity::ActiveModel {
                customer_key: Set(key.clone()),
                product_id: Set(*p),
                registration_id: Set(id),
            });
        }
    }
    let mut step = |from: Option<DealStatus>, to: DealStatus, at: DateTime<Utc>| {
        batch.history.push(deal_history::ActiveModel {
            id: Set(*history_id),
            registration_id: Set(id),
            actor_id: Set(Some(partner.first_user)),
            from_status: Set(from),
            to_status: Set(to),
            reason: Set(None),
            created_at: Set(at),
            api_key_id: Set(None),
        });
        *history_id += 1;
    };
    step(None, DealStatus::Draft, created);
    if let Some(at) = submitted {
        step(Some(DealStatus::Draft), DealStatus::Submitted, at);
    }
    if let (Some(at), false) = (
        decided,
        matches!(status, DealStatus::Draft | DealStatus::Submitted),
    ) {
        step(Some(DealStatus::Submitted), status, closed.unwrap_or(at));
    }
    batch.registrations.push(deal_registration::ActiveModel {
        id: Set(id),
        partner_id: Set(partner.id),
        created_by_id: Set(Some(partner.first_user)),
        status: Set(status),
        customer_name: Set(name),
        customer_name_token: Set(checked.first_token()),
        customer_name_key: Set(checked.name_key()),
        customer_domain: Set(checked.host()),
        customer_root: Set(checked.identity()),
        customer_country: Set(Some(buyer.country.into())),
        customer_key: Set(key),
        estimated_value_minor: Set(value_minor.max(100_000)),
        currency: Set("USD".into()),
        expected_close_date: Set((created + Duration::days(90)).date_naive()),
        deal_type: Set(*[
            DealType::New,
            DealType::New,
            DealType::Renewal,
            DealType::Expansion,
        ]
        .choose(rng)
        .unwrap_or(&DealType::New)),
        description: Set(Some(format!(
            "Opportunity registered through {}",
            partner.domain
        ))),
        external_id: Set(Some(format!("CRM-{id:08}"))),
        idempotency_key: Set(None),
        request_hash: Set(None),
        submitted_at: Set(submitted),
        approved_at: Set(approved),
        protected_until: Set(approved
            .filter(|_| status == DealStatus::Approved)
            .map(|at| at + Duration::days(90))),
        extension_request_days: Set(None),
        extension_request_reason: Set(None),
        closed_amount_minor: Set((status == DealStatus::Won)
            .then(|| value_minor.max(100_000) / 100 * rng.gen_range(80..=110))),
        closed_at: Set(closed),
        resubmission_count: Set(0),
        editable_fields: Set(None),
        contested_at: Set(None),
        review_lane: Set(None),
        conflict_score: Set(None),
        decided_at: Set(approved.or(decided.filter(|_| status == DealStatus::Rejected))),
        version: Set(1),
        created_at: Set(created),
        updated_at: Set(closed.or(decided).or(submitted).unwrap_or(created)),
    });
    for p in products {
        batch.products.push(deal_registration_product::ActiveModel {
            registration_id: Set(id),
            product_id: Set(p),
        });
    }
}

pub(super) async fn seed_registrations(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    options: &SeedOptions,
    partners: &[GeneratedPartner],
    customers: &[GeneratedCustomer],
    program: &Program,
    rows: &mut u64,
) -> AppResult<()> {
    let now = Utc::now();
    let first_id = next_id::<deal_registration::Entity>(db, deal_registration::Column::Id).await?;
    let mut history_id = next_id::<deal_history::Entity>(db, deal_history::Column::Id).await?;
    let mut claimed: HashSet<(String, i64)> = deal_exclusivity::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.customer_key, e.product_id))
        .collect();
    let by_activity = power_law(partners.len(), 1.1)?;
    // A popular slice of customers is courted by many partners: that is where conflicts are.
    let popular = (customers.len() / 50).max(1);
    let progress = bar(options, "registrations", options.registrations as u64);
    let chunk = 5_000;
    let mut done = 0;
    while done < options.registrations {
        let n = chunk.min(options.registrations - done);
        let mut batch = Batch {
            registrations: Vec::with_capacity(n),
            products: Vec::with_capacity(n * 2),
            history: Vec::with_capacity(n * 3),
            exclusivity: Vec::new(),
        };
        for k in 0..n {
            let partner = &partners[by_activity.sample(rng)];
            let buyer = if rng.gen_bool(0.2) {
                &customers[rng.gen_range(0..popular)]
            } else {
                &customers[rng.gen_range(0..customers.len())]
            };
            let id = first_id + (done + k) as i64;
            registration(
                rng,
                &mut batch,
                id,
                &mut history_id,
                partner,
                buyer,
                program,
                &mut claimed,
                now,
            );
        }
        let hidden = ProgressBar::hidden();
        *rows += insert_all(db, batch.registrations, &hidden).await?;
        *rows += insert_all(db, batch.products, &hidden).await?;
        *rows += insert_all(db, batch.history, &hidden).await?;
        *rows += insert_all(db, batch.exclusivity, &hidden).await?;
        done += n;
        progress.set_position(done as u64);
    }
    progress.finish();
    Ok(())
}
