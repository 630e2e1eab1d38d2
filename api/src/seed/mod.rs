//! `partnergraph seed`: a realistic program at scale, for benchmarks and load tests.
//!
//! On top of the demo program (tiers, products, the demo logins, its past year) it generates
//! partners with users, end customers, named accounts, registrations with products and
//! history, content, the partners' content use and logins, and a rebate program. The shape
//! is heavy-tailed like a real channel: partner activity follows a power law (a few partners
//! register most deals), some customers are registered by several partners (so conflicts
//! occur), most registrations are closed history, and partners are steady, growing or going
//! dark (`activity`). The same seed value gives the same data. Rows are written in multi-row
//! batches with explicit ids.

mod activity;
mod registrations;

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::enums::{AccountOwnership, PartnerStatus, PartnerType, Role};
use entity::{
    account, account_domain, partner, partner_domain, partner_status_history, partner_vertical,
    product, tier, user,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::auth::Actor;
use crate::content::service::{self as content, Audience, ContentFields};
use crate::db::Db;
use crate::deals::matching::Customer;
use crate::error::{AppError, AppResult};
use crate::incentives::rebates::{Band, Method};
use crate::incentives::service::{self as incentives, NewProgram};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub partners: usize,
    pub registrations: usize,
    pub contents: usize,
    pub seed: u64,
    pub progress: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            partners: 2_000,
            registrations: 20_000,
            contents: 300,
            seed: 1,
            progress: false,
        }
    }
}

/// What was generated, and who to log in as.
#[derive(Debug)]
pub struct SeedReport {
    pub partners: usize,
    pub users: usize,
    pub customers: usize,
    pub registrations: usize,
    pub rows: u64,
    /// A user of the most active generated partner.
    pub busiest_partner_user: String,
    /// A user of a partner with an ordinary amount of activity.
    pub typical_partner_user: String,
    pub busiest_partner_id: i64,
    pub typical_partner_id: i64,
    /// The generated rebate program, and its most active eligible partner.
    pub rebate_program_id: i64,
    pub rebate_partner_id: i64,
    /// A customer many partners register (name, domain): registering it meets conflicts.
    pub contested_customer: (String, Option<String>),
    /// Up to 50 more customers (name, domain): a batch of conflict checks.
    pub sample_customers: Vec<(String, Option<String>)>,
    pub product_ids: Vec<i64>,
}

const SYLLABLES: [&str; 40] = [
    "al", "bor", "cor", "dan", "el", "fen", "gar", "hal", "is", "jor", "kel", "lum", "mar", "nor",
    "ol", "pra", "quin", "ros", "sil", "tor", "ul", "ven", "wel", "xan", "yor", "zen", "bri",
    "cla", "dro", "fra", "glo", "kri", "lan", "mon", "pel", "rin", "sta", "tri", "vin", "wex",
];
const CUSTOMER_WORDS: [&str; 12] = [
    "",
    "",
    "",
    "",
    "Health",
    "Bank",
    "Logistics",
    "Energy",
    "Retail",
    "Foods",
    "Media",
    "Labs",
];
const LEGAL: [&str; 8] = [
    "",
    "Inc",
    "Inc.",
    "Corp",
    "Corporation",
    "Ltd",
    "LLC",
    "GmbH",
];
const PARTNER_WORDS: [&str; 6] = [
    "Systems",
    "Solutions",
    "Technologies",
    "IT",
    "Consulting",
    "Networks",
];
const REGIONS: [&str; 4] = ["NA", "EMEA", "APAC", "LATAM"];
const COUNTRIES: [&str; 8] = ["US", "CA", "GB", "DE", "FR", "NL", "AU", "JP"];
const VERTICALS: [&str; 6] = [
    "RETAIL",
    "HEALTHCARE",
    "MANUFACTURING",
    "PUBLIC_SECTOR",
    "FINANCIAL_SERVICES",
    "EDUCATION",
];
const BATCH: usize = 500;
const DAY_SECONDS: i64 = 86_400;

fn word(rng: &mut ChaCha8Rng) -> String {
    let count = rng.gen_range(2..=3);
    let text: String = (0..count)
        .map(|_| *SYLLABLES.choose(rng).unwrap_or(&"al"))
        .collect();
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

struct GeneratedCustomer {
    /// The base name; registrations spell its legal suffix in different ways.
    name: String,
    domain: Option<String>,
    country: &'static str,
}

fn customer(rng: &mut ChaCha8Rng, index: usize) -> GeneratedCustomer {
    // The index keeps names unique even when the syllables repeat.
    let base = format!("{}{}", word(rng), index % 97);
    let extra = CUSTOMER_WORDS.choose(rng).copied().unwrap_or("");
    let name = if extra.is_empty() {
        base
    } else {
        format!("{base} {extra}")
    };
    let domain = rng.gen_bool(0.8).then(|| {
        let tld = ["com", "com", "com", "io", "co.uk", "de"]
            .choose(rng)
            .copied()
            .unwrap_or("com");
        format!("{}.{tld}", name.to_lowercase().replace(' ', "-"))
    });
    GeneratedCustomer {
        name,
        domain,
        country: COUNTRIES.choose(rng).copied().unwrap_or("US"),
    }
}

/// Power-law weights: item `i` is chosen in proportion to `1 / (i + 1)^exponent`.
fn power_law(count: usize, exponent: f64) -> AppResult<WeightedIndex<f64>> {
    WeightedIndex::new((0..count).map(|i| 1.0 / ((i + 1) as f64).powf(exponent)))
        .map_err(AppError::internal)
}

/// Writes rows in multi-row INSERTs of `BATCH`, in one transaction.
async fn insert_all<A>(db: &DatabaseConnection, rows: Vec<A>, bar: &ProgressBar) -> AppResult<u64>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let total = rows.len() as u64;
    let txn = db.begin().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        let n = chunk.len() as u64;
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
        bar.inc(n);
    }
    txn.commit().await?;
    Ok(total)
}

async fn next_id<E: EntityTrait>(db: &DatabaseConnection, id: E::Column) -> AppResult<i64> {
    let max: Option<Option<i64>> = E::find()
        .select_only()
        .column(id)
        .order_by_desc(id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0) + 1)
}

/// PostgreSQL sequences do not see explicit ids; move them past the generated rows.
async fn reset_sequences(db: &DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "partners",
        "users",
        "partner_domains",
        "partner_verticals",
        "partner_status_history",
        "accounts",
        "account_domains",
        "deal_registrations",
        "deal_history",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
        .await?;
    }
    Ok(())
}

fn bar(options: &SeedOptions, what: &str, total: u64) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

struct Program {
    manager: i64,
    rep: i64,
    tiers: Vec<tier::Model>,
    products: Vec<i64>,
    password_hash: String,
}

async fn program(db: &DatabaseConnection) -> AppResult<Program> {
    let staff = |role: Role| {
        user::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(&user::Column::Role, role))
            .order_by_asc(user::Column::Id)
            .one(db)
    };
    let manager = staff(Role::ChannelManager)
        .await?
        .ok_or_else(|| AppError::internal("the demo program has no channel manager"))?;
    let rep = staff(Role::DirectRep)
        .await?
        .ok_or_else(|| AppError::internal("the demo program has no direct rep"))?;
    Ok(Program {
        manager: manager.id,
        rep: rep.id,
        password_hash: manager.password_hash,
        tiers: tier::Entity::find()
            .order_by_asc(tier::Column::Rank)
            .all(db)
            .await?,
        products: product::Entity::find()
            .order_by_asc(product::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect(),
    })
}

struct GeneratedPartner {
    id: i64,
    tier_rank: i32,
    domain: String,
    first_user: i64,
    first_email: String,
    trend: activity::Trend,
}

async fn seed_partners(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    options: &SeedOptions,
    program: &Program,
    rows: &mut u64,
) -> AppResult<(Vec<GeneratedPartner>, usize)> {
    let now = Utc::now();
    let first_id = next_id::<partner::Entity>(db, partner::Column::Id).await?;
    let first_user = next_id::<user::Entity>(db, user::Column::Id).await?;
    let first_domain = next_id::<partner_domain::Entity>(db, partner_domain::Column::Id).await?;
    let first_vertical =
        next_id::<partner_vertical::Entity>(db, partner_vertical::Column::Id).await?;
    let first_history =
        next_id::<partner_status_history::Entity>(db, partner_status_history::Column::Id).await?;
    let types = [
        (PartnerType::Reseller, 40),
        (PartnerType::Var, 15),
        (PartnerType::SystemIntegrator, 15),
        (PartnerType::Referral, 12),
        (PartnerType::Msp, 12),
        (PartnerType::Distributor, 4),
        (PartnerType::Oem, 2),
    ];
    let type_pick = WeightedIndex::new(types.iter().map(|t| t.1)).map_err(AppError::internal)?;
    // Most partners sit in the entry tier; few reach the top.
    let tier_weights = [60, 25, 12, 3];
    let tier_pick = WeightedIndex::new(&tier_weights[..program.tiers.len().min(4)])
        .map_err(AppError::internal)?;

    let (mut partners, mut domains, mut verticals, mut history, mut users) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut generated = Vec::with_capacity(options.partners);
    let mut distributors: Vec<i64> = Vec::new();
    let mut user_id = first_user;
    for i in 0..options.partners {
        let id = first_id + i as i64;
        let name = format!(
            "{} {} {}",
            word(rng),
            PARTNER_WORDS.choose(rng).copied().unwrap_or("IT"),
            i + 1
        );
        let domain = format!("partner-{:05}.example", i + 1);
        let partner_type = types[type_pick.sample(rng)].0;
        let parent_id = (partner_type != PartnerType::Distributor
            && !distributors.is_empty()
            && rng.gen_bool(0.15))
        .then(|| *distributors.choose(rng).unwrap_or(&distributors[0]));
        if partner_type == PartnerType::Distributor {
            distributors.push(id);
        }
        let started = now - Duration::days(rng.gen_range(30..2_000));
        let tier = &program.tiers[tier_pick.sample(rng)];
        partners.push(partner::ActiveModel {
            id: Set(id),
            name: Set(name.clone()),
            partner_type: Set(partner_type),
            status: Set(PartnerStatus::Active),
            website: Set(Some(format!("https://{domain}"))),
            country: Set(Some(COUNTRIES.choose(rng).copied().unwrap_or("US").into())),
            parent_id: Set(parent_id),
            created_at: Set(started),
            updated_at: Set(started),
            version: Set(1),
            region: Set(Some(REGIONS.choose(rng).copied().unwrap_or("NA").into())),
            tier_id: Set(Some(tier.id)),
            channel_manager_id: Set(Some(program.manager)),
            partnership_started_on: Set(Some(started.date_naive())),
            status_changed_at: Set(Some(started)),
        });
        domains.push(partner_domain::ActiveModel {
            id: Set(first_domain + i as i64),
            partner_id: Set(id),
            domain: Set(domain.clone()),
        });
        verticals.push(partner_vertical::ActiveModel {
            id: Set(first_vertical + i as i64),
            partner_id: Set(id),
            vertical: Set(VERTICALS.choose(rng).copied().unwrap_or("RETAIL").into()),
        });
        history.push(partner_status_history::ActiveModel {
            id: Set(first_history + i as i64),
            partner_id: Set(id),
            from_status: Set(None),
            to_status: Set(PartnerStatus::Active),
            actor_id: Set(Some(program.manager)),
            reason: Set(None),
            created_at: Set(started),
        });
        let first = user_id;
        for n in 0..rng.gen_range(1..=3) {
            users.push(user::ActiveModel {
                id: Set(user_id),
                email: Set(format!("user{}@{domain}", n + 1)),
                name: Set(format!("{} User {}", name, n + 1)),
                role: Set(Role::Partner),
                partner_id: Set(Some(id)),
                password_hash: Set(program.password_hash.clone()),
                is_active: Set(true),
                created_at: Set(started),
                updated_at: Set(started),
                is_org_admin: Set(n == 0),
                deactivated_at: Set(None),
            });
            user_id += 1;
        }
        generated.push(GeneratedPartner {
            id,
            tier_rank: tier.rank,
            first_email: format!("user1@{domain}"),
            domain,
            first_user: first,
            trend: activity::trend_of(i),
        });
    }
    let user_count = users.len();
    let total = (partners.len() * 4 + users.len()) as u64;
    let progress = bar(options, "partners", total);
    *rows += insert_all(db, partners, &progress).await?;
    *rows += insert_all(db, domains, &progress).await?;
    *rows += insert_all(db, verticals, &progress).await?;
    *rows += insert_all(db, history, &progress).await?;
    *rows += insert_all(db, users, &progress).await?;
    progress.finish();
    Ok((generated, user_count))
}

/// Named accounts: a few customers are the vendor's direct accounts or existing customers.
async fn seed_accounts(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    options: &SeedOptions,
    customers: &[GeneratedCustomer],
    program: &Program,
    rows: &mut u64,
) -> AppResult<()> {
    let first_id = next_id::<account::Entity>(db, account::Column::Id).await?;
    let first_domain = next_id::<account_domain::Entity>(db, account_domain::Column::Id).await?;
    let now = Utc::now();
    let (mut accounts, mut domains) = (vec![], vec![]);
    let mut taken: HashSet<String> = account_domain::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect();
    for (i, c) in customers.iter().enumerate().filter(|(i, _)| i % 33 == 7) {
        let id = first_id + accounts.len() as i64;
        let direct = rng.gen_bool(0.4);
        let customer = Customer::new(&c.name, None, Some(c.country));
        accounts.push(account::ActiveModel {
            id: Set(id),
            name: Set(c.name.clone()),
            name_token: Set(customer.first_token()),
            name_key: Set(customer.name_key()),
            country: Set(Some(c.country.into())),
            ownership: Set(if direct {
                AccountOwnership::Direct
            } else {
                AccountOwnership::Open
            }),
            is_customer: Set(!direct),
            owner_id: Set(direct.then_some(program.rep)),
            created_at: Set(now - Duration::days((i % 700) as i64)),
        });
        if let Some(domain) = c.domain.as_ref().filter(|d| taken.insert((*d).clone())) {
            domains.push(account_domain::ActiveModel {
                id: Set(first_domain + domains.len() as i64),
                account_id: Set(id),
                domain: Set(domain.clone()),
                root: Set(Customer::new("", Some(domain), None)
                    .identity()
                    .unwrap_or_else(|| domain.clone())),
            });
        }
    }
    let progress = bar(options, "accounts", (accounts.len() + domains.len()) as u64);
    *rows += insert_all(db, accounts, &progress).await?;
    *rows += insert_all(db, domains, &progress).await?;
    progress.finish();
    Ok(())
}

const CONTENT_TOPICS: [&str; 10] = [
    "competitive positioning",
    "pricing and discounting",
    "security architecture",
    "migration playbook",
    "customer onboarding",
    "renewal strategy",
    "cloud deployment",
    "data protection",
    "industry compliance",
    "quarterly launch",
];

/// Content goes through the content service: versions, labels and the search index stay
/// exactly as the API would write them.
async fn seed_content(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    options: &SeedOptions,
    program: &Program,
) -> AppResult<u64> {
    use entity::enums::ContentKind as Kind;
    let manager = Actor::new(program.manager, Role::ChannelManager, None, 0);
    let kinds = [
        Kind::BattleCard,
        Kind::PriceSheet,
        Kind::Positioning,
        Kind::CaseStudy,
        Kind::Training,
    ];
    let progress = bar(options, "content", options.contents as u64);
    let handle = Db::direct(db.clone());
    for i in 0..options.contents {
        let topic = CONTENT_TOPICS.choose(rng).copied().unwrap_or("playbook");
        let vertical = VERTICALS.choose(rng).copied().unwrap_or("RETAIL");
        let audience = Audience {
            internal_only: rng.gen_bool(0.05),
            min_tier_rank: rng.gen_bool(0.3).then(|| rng.gen_range(2..=4)),
            partner_types: vec![],
            regions: if rng.gen_bool(0.2) {
                vec![REGIONS.choose(rng).copied().unwrap_or("NA").into()]
            } else {
                vec![]
            },
            verticals: vec![],
        };
        let fields = ContentFields {
            title: Some(format!("{} {} #{}", word(rng), topic, i + 1)),
            kind: Some(kinds.choose(rng).copied().unwrap_or(Kind::Other)),
            body: Some(Some(format!(
                "How to win with {topic} in {} accounts. Lead with the business case, \
                 involve the partner engineer early and register the deal before the first demo.",
                vertical.to_lowercase()
            ))),
            tags: Some(vec![topic.replace(' ', "-"), "enablement".into()]),
            products: Some(vec![]),
            verticals: Some(vec![vertical.into()]),
            audience: Some(audience),
            review_by: Some(Some(
                (Utc::now() + Duration::days(rng.gen_range(-30..180))).date_naive(),
            )),
            ..Default::default()
        };
        content::create(&handle, &manager, fields)
            .await?
            .map_err(|e| AppError::internal(format!("seed content: {}", e[0].message)))?;
        progress.inc(1);
    }
    progress.finish();
    Ok(options.contents as u64)
}

/// A rebate program for the upper tiers over this year: creating it accrues every eligible
/// partner's won deals into the ledger, as it would in production.
async fn seed_rebates(db: &DatabaseConnection, program: &Program) -> AppResult<i64> {
    let today = Utc::now().date_naive();
    let start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let manager = Actor::new(program.manager, Role::ChannelManager, None, 0);
    let upper: Vec<i64> = program.tiers.iter().skip(2).map(|t| t.id).collect();
    let new = NewProgram {
        name: format!("{} scale rebate", today.year()),
        currency: "USD".into(),
        period_start: start,
        period_end: end,
        method: Method::Banded,
        bands: vec![
            Band {
                min: 0.into(),
                max: Some(250_000.into()),
                rate: "0.02".parse().unwrap_or_default(),
            },
            Band {
                min: 250_000.into(),
                max: Some(1_000_000.into()),
                rate: "0.03".parse().unwrap_or_default(),
            },
            Band {
                min: 1_000_000.into(),
                max: None,
                rate: "0.05".parse().unwrap_or_default(),
            },
        ],
        cap: None,
        partner_ids: vec![],
        tier_ids: upper,
    };
    let created = incentives::create_program(&Db::direct(db.clone()), &manager, new)
        .await?
        .map_err(|e| AppError::internal(format!("seed rebate program: {}", e[0].message)))?;
    Ok(created.id)
}

/// Seeds the demo program, then the generated one. Refuses a database that already holds
/// more than the demo program, so it is never mixed into real data.
pub async fn seed(db: &DatabaseConnection, options: &SeedOptions) -> AppResult<SeedReport> {
    crate::demo::seed(db).await?;
    if partner::Entity::find().count(db).await? > crate::demo::PARTNER_COUNT as u64 {
        return Err(AppError::BadUserInput(
            "the database already holds more than the demo program; seed an empty database".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let program = program(db).await?;
    let mut rows = 0u64;
    let (partners, users) = seed_partners(db, &mut rng, options, &program, &mut rows).await?;
    let customers: Vec<GeneratedCustomer> = (0..(options.registrations / 4).max(50))
        .map(|i| customer(&mut rng, i))
        .collect();
    seed_accounts(db, &mut rng, options, &customers, &program, &mut rows).await?;
    registrations::seed_registrations(
        db, &mut rng, options, &partners, &customers, &program, &mut rows,
    )
    .await?;
    crate::deals::lanes::refresh_all(db).await?;
    crate::deals::keys::prepare_keys(db).await?;
    crate::deals::conflict_scores::assess_unassessed(db).await?;
    reset_sequences(db).await?;
    rows += seed_content(db, &mut rng, options, &program).await?;
    rows += activity::seed_activity(db, &mut rng, options, &partners).await?;
    let rebate_program_id = seed_rebates(db, &program).await?;
    // After a bulk load, as after any large import: fresh planner statistics, and on
    // PostgreSQL a visibility map, without which index-only scans (counts) visit every row
    // until autovacuum comes by. Not ANALYZE on SQLite: its value-sampling statistics make
    // every statement re-plan at each execution.
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    let upper_rank = program.tiers.get(2).map_or(i32::MAX, |t| t.rank);
    let typical = partners.len() / 2;
    Ok(SeedReport {
        partners: partners.len(),
        users,
        customers: customers.len(),
        registrations: options.registrations,
        rows,
        busiest_partner_user: partners
            .first()
            .map(|p| p.first_email.clone())
            .unwrap_or_default(),
        typical_partner_user: partners
            .get(typical)
            .map(|p| p.first_email.clone())
            .unwrap_or_default(),
        busiest_partner_id: partners.first().map_or(0, |p| p.id),
        typical_partner_id: partners.get(typical).map_or(0, |p| p.id),
        rebate_program_id,
        // Partners are in activity order: the first in an eligible tier earns the most.
        rebate_partner_id: partners
            .iter()
            .find(|p| p.tier_rank >= upper_rank)
            .map_or(0, |p| p.id),
        contested_customer: (customers[0].name.clone(), customers[0].domain.clone()),
        sample_customers: customers
            .iter()
            .skip(1)
            .take(50)
            .map(|c| (c.name.clone(), c.domain.clone()))
            .collect(),
        product_ids: program.products.clone(),
    })
}
