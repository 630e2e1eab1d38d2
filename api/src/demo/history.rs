//! The demo program's past: a year of closed registrations, content engagement and logins
//! per partner, shaped so the metrics and health tell a story. Contoso goes dark over the
//! last months, TierTwo (a newer cohort) took six weeks to its first deal and grows since,
//! Alpine has been dormant for two years. The rep's direct
//! opportunities on Initech carry partner influence. Health snapshots are kept weekly over
//! the last half year, computed as of each week, so health history can be plotted.

use chrono::{DateTime, Duration, Utc};
use entity::enums::{ContentEventKind, DealStatus, DealType, InfluenceRole, OpportunityStage};
use entity::{
    account, content, content_event, deal_history, deal_registration, deal_registration_product,
    product, session, user,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::auth::Actor;
use crate::db::Db;
use crate::deals::matching::Customer;
use crate::error::{AppError, AppResult};
use crate::money::MoneyInput;
use crate::opportunities::service as opportunities;

/// One partner's year, month by month (oldest first; the last is the latest 30 days).
struct Story {
    /// Index into the demo's partners.
    partner: usize,
    /// The currency it registers deals in (its home market's).
    currency: &'static str,
    registrations: [u32; 12],
    /// Content views and downloads.
    engagement: [u32; 12],
    logins: [u32; 12],
    /// Its first won deal, days after its partnership started (older than the year); none:
    /// its first deal is among the year's.
    first_win_after: Option<i64>,
}

/// Northwind and Summit keep only the demo's live deals (their rebate and tier figures are
/// the demo's worked examples); the others have a past.
const STORIES: [Story; 3] = [
    // TierTwo: joined 200 days ago, first deal six weeks later, growing since.
    Story {
        partner: 2,
        currency: "EUR",
        registrations: [0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 4, 5],
        engagement: [0, 0, 0, 0, 0, 0, 4, 6, 8, 10, 12, 15],
        logins: [0, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7, 8],
        first_win_after: None,
    },
    // Contoso: going dark.
    Story {
        partner: 3,
        currency: "CAD",
        registrations: [5, 5, 6, 5, 5, 4, 4, 3, 2, 1, 1, 0],
        engagement: [20, 22, 21, 19, 18, 15, 12, 9, 6, 3, 2, 1],
        logins: [10, 10, 9, 9, 8, 7, 6, 4, 3, 2, 1, 0],
        first_win_after: Some(75),
    },
    // Alpine: dormant; its last deals are older than two years.
    Story {
        partner: 5,
        currency: "CHF",
        registrations: [0; 12],
        engagement: [0; 12],
        logins: [0; 12],
        first_win_after: Some(60),
    },
];

const CUSTOMERS: [&str; 16] = [
    "Aurora", "Beacon", "Cascade", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Ionic",
    "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orchid", "Pinnacle",
];
const TRADES: [&str; 8] = [
    "Retail",
    "Health",
    "Foods",
    "Logistics",
    "Energy",
    "Media",
    "Dental",
    "Motors",
];

/// A closed registration of `partner`, submitted at `submitted`.
struct Closed {
    partner_id: i64,
    user_id: Option<i64>,
    currency: &'static str,
    name: String,
    submitted: DateTime<Utc>,
    status: DealStatus,
    closed: Option<DateTime<Utc>>,
    value_minor: i64,
}

/// The outcome of the `n`-th registration of a story: most are won, some lost, a few
/// rejected; those of the last weeks are still being decided in real programs, but here
/// every historical one is closed (open ones come from the demo's live registrations).
fn outcome(n: u32) -> DealStatus {
    match n % 20 {
        0..=10 => DealStatus::Won,
        11..=16 => DealStatus::Lost,
        _ => DealStatus::Rejected,
    }
}

fn closed_registration(
    story: &Story,
    partner_id: i64,
    user_id: Option<i64>,
    month: usize,
    n: u32,
    now: DateTime<Utc>,
) -> Closed {
    let slot = now - Duration::days(30 * (12 - month as i64));
    let submitted = slot + Duration::days(i64::from(n * 7 % 28)) + Duration::hours(9);
    let status = outcome(n + story.partner as u32);
    let decided = submitted + Duration::hours(6 + i64::from(n * 13 % 60));
    let closed = match status {
        DealStatus::Rejected => None,
        _ => Some(
            (submitted + Duration::days(18 + i64::from(n * 11 % 40)))
                .min(now - Duration::hours(2))
                .max(decided + Duration::hours(1)),
        ),
    };
    let customer = format!(
        "{} {} {}",
        CUSTOMERS[(n as usize + story.partner * 5) % CUSTOMERS.len()],
        TRADES[(month + story.partner) % TRADES.len()],
        ["Group", "Partners", "Co", "Labs"][n as usize % 4]
    );
    Closed {
        partner_id,
        user_id,
        currency: story.currency,
        name: format!("{customer} {}", month * 10 + n as usize),
        submitted,
        status,
        closed,
        value_minor: (12_000 + i64::from(n * 3_700 % 40_000)) * 100,
    }
}

async fn insert_closed(db: &Db, closed: &[Closed], product_id: i64) -> AppResult<()> {
    for c in closed {
        let customer = Customer::new(&c.name, None, Some("US"));
        let decided = c.submitted + Duration::hours(30);
        let approved = (c.status != DealStatus::Rejected).then_some(decided);
        let row = deal_registration::ActiveModel {
            partner_id: Set(c.partner_id),
            created_by_id: Set(c.user_id),
            status: Set(c.status),
            customer_name: Set(c.name.clone()),
            customer_name_key: Set(customer.name_key()),
            customer_name_token: Set(customer.first_token()),
            customer_domain: Set(None),
            customer_root: Set(None),
            customer_country: Set(Some("US".into())),
            customer_key: Set(customer.key()),
            estimated_value_minor: Set(c.value_minor),
            currency: Set(c.currency.into()),
            expected_close_date: Set((c.submitted + Duration::days(60)).date_naive()),
            deal_type: Set(DealType::New),
            description: Set(Some("Registered through the partner portal".into())),
            submitted_at: Set(Some(c.submitted)),
            approved_at: Set(approved),
            decided_at: Set(Some(decided)),
            closed_amount_minor: Set((c.status == DealStatus::Won).then_some(c.value_minor)),
            closed_at: Set(c.closed),
            resubmission_count: Set(0),
            version: Set(1),
            created_at: Set(c.submitted - Duration::minutes(10)),
            updated_at: Set(c.closed.unwrap_or(decided)),
            ..Default::default()
        };
        let saved = deal_registration::Entity::insert(row).exec(db).await?;
        let id = saved.last_insert_id;
        deal_registration_product::Entity::insert(deal_registration_product::ActiveModel {
            registration_id: Set(id),
            product_id: Set(product_id),
        })
        .exec_without_returning(db)
        .await?;
        let mut steps = vec![
            (None, DealStatus::Draft, c.submitted - Duration::minutes(10)),
            (Some(DealStatus::Draft), DealStatus::Submitted, c.submitted),
        ];
        match (c.status, c.closed) {
            (DealStatus::Rejected, _) => {
                steps.push((Some(DealStatus::Submitted), DealStatus::Rejected, decided))
            }
            (status, Some(at)) => {
                steps.push((Some(DealStatus::Submitted), DealStatus::Approved, decided));
                steps.push((Some(DealStatus::Approved), status, at));
            }
            _ => {}
        }
        deal_history::Entity::insert_many(steps.into_iter().map(|(from, to, at)| {
            deal_history::ActiveModel {
                registration_id: Set(id),
                actor_id: Set(c.user_id),
                from_status: Set(from),
                to_status: Set(to),
                reason: Set(None),
                created_at: Set(at),
                api_key_id: Set(None),
                ..Default::default()
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// A user of each partner without a demo login (their activity needs one).
async fn member_of(db: &Db, partner_id: i64, email: &str, password_hash: &str) -> AppResult<i64> {
    if let Some(found) = user::Entity::find()
        .filter(user::Column::PartnerId.eq(partner_id))
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?
    {
        return Ok(found.id);
    }
    let now = Utc::now();
    let created = user::Entity::insert(user::ActiveModel {
        email: Set(email.into()),
        name: Set("Partner operations".into()),
        role: Set(entity::enums::Role::Partner),
        partner_id: Set(Some(partner_id)),
        password_hash: Set(password_hash.to_owned()),
        is_active: Set(true),
        is_org_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(created.last_insert_id)
}

/// Content views and downloads and logins of a story's user, month by month.
async fn insert_activity(
    db: &Db,
    story: &Story,
    partner_id: i64,
    user_id: i64,
    content_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut events = Vec::new();
    let mut sessions = Vec::new();
    for month in 0..12 {
        let slot = now - Duration::days(30 * (12 - month as i64));
        for n in 0..story.engagement[month] {
            events.push(content_event::ActiveModel {
                content_id: Set(content_ids[n as usize % content_ids.len()]),
                user_id: Set(user_id),
                partner_id: Set(Some(partner_id)),
                kind: Set(if n % 3 == 0 {
                    ContentEventKind::Download
                } else {
                    ContentEventKind::View
                }),
                created_at: Set(slot + Duration::hours(i64::from(n) * 29 % 700)),
                ..Default::default()
            });
        }
        for n in 0..story.logins[month] {
            let at = slot + Duration::hours(i64::from(n) * 67 % 700);
            sessions.push(ended_login(
                user_id,
                at,
                format!("demo-history-{partner_id}-{month}-{n}"),
            ));
        }
    }
    if !events.is_empty() {
        content_event::Entity::insert_many(events)
            .exec_without_returning(db)
            .await?;
    }
    if !sessions.is_empty() {
        session::Entity::insert_many(sessions)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// A login of `user_id` at `at` that ended two hours later: past portal activity. `tag`
/// makes its (never usable) token hash unique.
pub(crate) fn ended_login(user_id: i64, at: DateTime<Utc>, tag: String) -> session::ActiveModel {
    session::ActiveModel {
        user_id: Set(user_id),
        refresh_token_hash: Set(tag),
        previous_token_hash: Set(None),
        expires_at: Set(at + Duration::days(1)),
        revoked_at: Set(Some(at + Duration::hours(2))),
        created_at: Set(at),
        last_used_at: Set(at + Duration::hours(1)),
        ..Default::default()
    }
}

/// The content partners may read (past views and downloads are of these).
pub(crate) async fn partner_content_ids(db: &impl ConnectionTrait) -> AppResult<Vec<i64>> {
    Ok(content::Entity::find()
        .filter(content::Column::InternalOnly.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// The history of the demo program (after its partners, users, content and products).
pub async fn seed(
    db: &Db,
    partner_ids: &[i64],
    started_days_ago: &[i64],
    rep: &user::Model,
    password_hash: &str,
) -> AppResult<()> {
    let now = Utc::now();
    let product_id = product::Entity::find()
        .order_by_asc(product::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the demo has products"))?
        .id;
    let content_ids = partner_content_ids(db).await?;
    for story in &STORIES {
        let partner_id = partner_ids[story.partner];
        let active = story.logins.iter().any(|n| *n > 0);
        // A partner without activity needs no user of its own (nor does a distributor's
        // tier two gain one in the distributor's user list).
        let user_id = if active {
            let email = format!("ops{}@partners.demo.example", story.partner);
            Some(member_of(db, partner_id, &email, password_hash).await?)
        } else {
            None
        };
        let mut closed = Vec::new();
        if let Some(after) = story.first_win_after {
            let at = now - Duration::days(started_days_ago[story.partner] - after);
            let mut first = closed_registration(story, partner_id, user_id, 0, 0, now);
            first.name = format!("{} (first deal)", first.name);
            first.submitted = at - Duration::days(25);
            first.status = DealStatus::Won;
            first.closed = Some(at);
            closed.push(first);
        }
        for month in 0..12 {
            for n in 0..story.registrations[month] {
                closed.push(closed_registration(
                    story, partner_id, user_id, month, n, now,
                ));
            }
        }
        if story.first_win_after.is_none() {
            // Its first deal: six weeks after it joined; no other win before it.
            let first = now - Duration::days(started_days_ago[story.partner] - 42);
            let mut wins = closed.iter_mut().filter(|c| c.status == DealStatus::Won);
            if let Some(c) = wins.next() {
                c.closed = Some(first);
                c.submitted = first - Duration::days(22);
            }
            for c in wins {
                if c.closed.is_some_and(|at| at <= first) {
                    c.closed = Some(first + Duration::days(1));
                }
            }
        }
        insert_closed(db, &closed, product_id).await?;
        if let (Some(user_id), false) = (user_id, content_ids.is_empty()) {
            insert_activity(db, story, partner_id, user_id, &content_ids, now).await?;
        }
    }
    seed_opportunities(db, partner_ids, rep, now).await?;
    // Weekly health over the last half year, each as of its day.
    for weeks_ago in (1..=26).rev() {
        let at = now - Duration::weeks(weeks_ago);
        crate::health::service::write_snapshot(db, at.date_naive(), at).await?;
    }
    Ok(())
}

/// An opportunity: name, amount in USD, how and how many days ago it closed, and the
/// partners (demo index) that influenced it.
type DemoOpportunity = (
    &'static str,
    i64,
    Option<(OpportunityStage, i64)>,
    &'static [(usize, InfluenceRole)],
);

/// The rep's opportunities on its direct account, three with partner influence.
async fn seed_opportunities(
    db: &Db,
    partner_ids: &[i64],
    rep: &user::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(initech) = account::Entity::find()
        .filter(account::Column::OwnerId.eq(rep.id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let actor = Actor::new(rep.id, rep.role, None, 0);
    let plan: [DemoOpportunity; 4] = [
        (
            "Initech platform renewal",
            120_000,
            Some((OpportunityStage::Won, 100)),
            &[(0, InfluenceRole::Referral)],
        ),
        (
            "Initech analytics expansion",
            65_000,
            Some((OpportunityStage::Won, 40)),
            &[
                (3, InfluenceRole::CoSell),
                (1, InfluenceRole::Implementation),
            ],
        ),
        (
            "Initech support upgrade",
            18_000,
            Some((OpportunityStage::Won, 20)),
            &[],
        ),
        (
            "Initech EMEA rollout",
            90_000,
            None,
            &[(1, InfluenceRole::CoSell)],
        ),
    ];
    for (name, amount, closed, influencers) in plan {
        let new = opportunities::NewOpportunity {
            account_id: initech.id,
            name: name.into(),
            amount: MoneyInput {
                amount: amount.into(),
                currency: "USD".into(),
            },
            close_date: (now + Duration::days(45)).date_naive(),
            stage: Some(OpportunityStage::Negotiation),
            owner_id: None,
        };
        let created = super::expect(
            opportunities::create(db, &actor, new, None).await?,
            "opportunity",
        )?;
        for (partner, role) in influencers {
            super::expect(
                opportunities::add_influence(db, &actor, &created, partner_ids[*partner], *role)
                    .await?,
                "influence",
            )?;
        }
        if let Some((stage, days_ago)) = closed {
            let change = opportunities::Change {
                stage: Some(stage),
                closed_at: Some(now - Duration::days(days_ago)),
                ..Default::default()
            };
            super::expect(
                opportunities::change(db, &actor, created, change).await?,
                "opportunity close",
            )?;
        }
    }
    Ok(())
}
