//! `serve --demo`: a small, believable partner program seeded into an empty database,
//! through the same services the API uses. Later domains add their own demo data here.

mod deals;
pub(crate) mod history;
mod leads;
mod org_map;
mod plans;

use chrono::{Duration, Utc};
use entity::enums::{ContentKind, PartnerStatus, PartnerType, Role};
use entity::{partner, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait,
};

use crate::auth::password::hash_password;
use crate::auth::Actor;
use crate::content::service::{self as content, Audience, ContentFields};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::money::MoneyInput;
use crate::partners::onboarding;
use crate::partners::service::{self as partners, PartnerFields};
use crate::recruitment::service::{self as recruitment, CriterionInput, ProspectFields};
use crate::tiers::service::{self as tiers, TierFields};
use crate::training::service as training;

pub const DEMO_PASSWORD: &str = "partnergraph-demo";

pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    /// Index into `PARTNERS`.
    pub partner: Option<usize>,
    pub org_admin: bool,
    pub note: &'static str,
}

struct DemoPartner {
    name: &'static str,
    partner_type: PartnerType,
    status: PartnerStatus,
    website: &'static str,
    country: &'static str,
    region: &'static str,
    verticals: &'static [&'static str],
    /// Index into `TIERS`.
    tier: usize,
    /// Index into `PARTNERS` of the distributor above it.
    parent: Option<usize>,
    started_days_ago: i64,
}

/// How many partners the demo program has.
pub const PARTNER_COUNT: usize = PARTNERS.len();

const PARTNERS: [DemoPartner; 6] = [
    DemoPartner {
        name: "Northwind",
        partner_type: PartnerType::Reseller,
        status: PartnerStatus::Active,
        website: "https://northwind.example",
        country: "US",
        region: "NA",
        verticals: &["RETAIL", "HEALTHCARE"],
        tier: 1,
        parent: None,
        started_days_ago: 700,
    },
    DemoPartner {
        name: "Summit Distribution",
        partner_type: PartnerType::Distributor,
        status: PartnerStatus::Active,
        website: "https://summit-distribution.example",
        country: "GB",
        region: "EMEA",
        verticals: &["MANUFACTURING", "PUBLIC_SECTOR"],
        tier: 2,
        parent: None,
        started_days_ago: 1500,
    },
    DemoPartner {
        name: "TierTwo",
        partner_type: PartnerType::Reseller,
        status: PartnerStatus::Active,
        website: "https://tiertwo.example",
        country: "DE",
        region: "EMEA",
        verticals: &["MANUFACTURING"],
        tier: 0,
        parent: Some(1),
        started_days_ago: 200,
    },
    DemoPartner {
        name: "Contoso Cloud Services",
        partner_type: PartnerType::Msp,
        status: PartnerStatus::Active,
        website: "https://contoso-cloud.example",
        country: "CA",
        region: "NA",
        verticals: &["FINANCIAL_SERVICES"],
        tier: 1,
        parent: None,
        started_days_ago: 400,
    },
    DemoPartner {
        name: "Fabrikam Integrators",
        partner_type: PartnerType::SystemIntegrator,
        status: PartnerStatus::Onboarding,
        website: "https://fabrikam.example",
        country: "FR",
        region: "EMEA",
        verticals: &["HEALTHCARE"],
        tier: 0,
        parent: None,
        started_days_ago: 12,
    },
    DemoPartner {
        name: "Alpine Referrals",
        partner_type: PartnerType::Referral,
        status: PartnerStatus::Dormant,
        website: "https://alpine-referrals.example",
        country: "CH",
        region: "EMEA",
        verticals: &[],
        tier: 0,
        parent: Some(1),
        started_days_ago: 900,
    },
];

pub const LOGINS: [DemoLogin; 5] = [
    DemoLogin {
        email: "manager@vendor.example",
        name: "Maria Chen",
        role: Role::ChannelManager,
        partner: None,
        org_admin: false,
        note: "channel manager: runs the program",
    },
    DemoLogin {
        email: "rep@vendor.example",
        name: "Raj Patel",
        role: Role::DirectRep,
        partner: None,
        org_admin: false,
        note: "direct rep: owns direct accounts",
    },
    DemoLogin {
        email: "alice@northwind.example",
        name: "Alice Walker",
        role: Role::Partner,
        partner: Some(0),
        org_admin: true,
        note: "partner user (org admin), reseller Northwind",
    },
    DemoLogin {
        email: "dave@summit-distribution.example",
        name: "Dave Okafor",
        role: Role::Partner,
        partner: Some(1),
        org_admin: true,
        note: "partner user (org admin), distributor Summit Distribution",
    },
    DemoLogin {
        email: "bob@tiertwo.example",
        name: "Bob Tanaka",
        role: Role::Partner,
        partner: Some(2),
        org_admin: true,
        note: "partner user (org admin), reseller TierTwo (tier two under Summit)",
    },
];

struct DemoTier {
    name: &'static str,
    rank: i32,
    protection_days: i32,
    rebate: bool,
    mdf: bool,
    min_revenue_usd: i64,
    registrations: i32,
    won_deals: i32,
    certifications: i32,
}

const TIERS: [DemoTier; 4] = [
    DemoTier {
        name: "Registered",
        rank: 1,
        protection_days: 30,
        rebate: false,
        mdf: false,
        min_revenue_usd: 0,
        registrations: 0,
        won_deals: 0,
        certifications: 0,
    },
    DemoTier {
        name: "Silver",
        rank: 2,
        protection_days: 60,
        rebate: false,
        mdf: false,
        min_revenue_usd: 50_000,
        registrations: 3,
        won_deals: 1,
        certifications: 1,
    },
    DemoTier {
        name: "Gold",
        rank: 3,
        protection_days: 90,
        rebate: true,
        mdf: true,
        min_revenue_usd: 250_000,
        registrations: 10,
        won_deals: 4,
        certifications: 2,
    },
    DemoTier {
        name: "Platinum",
        rank: 4,
        protection_days: 120,
        rebate: true,
        mdf: true,
        min_revenue_usd: 1_000_000,
        registrations: 25,
        won_deals: 10,
        certifications: 4,
    },
];

const CRITERIA: [(&str, &str, i32); 7] = [
    ("market_reach", "Market reach", 20),
    ("vertical_fit", "Vertical fit", 15),
    ("technical_capability", "Technical capability", 15),
    ("customer_overlap", "Customer base overlap", 10),
    ("complementary_portfolio", "Complementary portfolio", 15),
    ("revenue_potential", "Revenue potential", 15),
    ("ease_of_activation", "Ease of activation", 10),
];

struct DemoProspect {
    name: &'static str,
    partner_type: PartnerType,
    website: &'static str,
    country: &'static str,
    region: &'static str,
    /// In `CRITERIA` order.
    ratings: [i32; 7],
}

const PROSPECTS: [DemoProspect; 4] = [
    DemoProspect {
        name: "Initrode Systems",
        partner_type: PartnerType::Var,
        website: "initrode.example",
        country: "US",
        region: "NA",
        ratings: [8, 9, 7, 6, 8, 7, 9],
    },
    DemoProspect {
        name: "Hooli Cloud Partners",
        partner_type: PartnerType::Msp,
        website: "hooli-partners.example",
        country: "US",
        region: "NA",
        ratings: [9, 5, 9, 4, 7, 9, 5],
    },
    DemoProspect {
        name: "Vandelay Industries",
        partner_type: PartnerType::Distributor,
        website: "vandelay.example",
        country: "IT",
        region: "EMEA",
        ratings: [6, 4, 3, 7, 5, 6, 8],
    },
    DemoProspect {
        name: "Pied Piper Integrations",
        partner_type: PartnerType::SystemIntegrator,
        website: "piedpiper.example",
        country: "US",
        region: "NA",
        ratings: [3, 8, 10, 2, 6, 4, 3],
    },
];

const ONBOARDING_STEPS: [&str; 5] = [
    "Partner agreement signed",
    "Portal users invited",
    "Sales certification started",
    "Joint business plan drafted",
    "First deal registered",
];

const COURSES: [&str; 4] = [
    "Product Fundamentals",
    "Selling the Platform",
    "Technical Deployment",
    "Security and Compliance",
];

struct DemoContent {
    title: &'static str,
    kind: ContentKind,
    body: &'static str,
    tags: &'static [&'static str],
    internal_only: bool,
    min_tier_rank: Option<i32>,
    expired: bool,
}

const CONTENT: [DemoContent; 6] = [
    DemoContent { title: "Battle card: PartnerGraph vs. Globex Suite", kind: ContentKind::BattleCard, body: "Where we win against Globex: open API, explainable conflict checks, exact rebate maths. Landmines: Globex bundles its CRM; lead with time-to-value.", tags: &["globex", "competitive"], internal_only: false, min_tier_rank: None, expired: false },
    DemoContent { title: "Battle card: PartnerGraph vs. Initech PRM", kind: ContentKind::BattleCard, body: "Initech prices per partner seat. Our per-program pricing wins with distributors that manage many tier-two resellers.", tags: &["initech", "competitive"], internal_only: false, min_tier_rank: Some(2), expired: false },
    DemoContent { title: "Silver price sheet 2026", kind: ContentKind::PriceSheet, body: "Partner discount 20% off list; deal-registration bonus 5% on approved registrations.", tags: &["pricing"], internal_only: false, min_tier_rank: Some(2), expired: false },
    DemoContent { title: "Gold price sheet 2026", kind: ContentKind::PriceSheet, body: "Partner discount 30% off list; deal-registration bonus 8%; MDF eligible.", tags: &["pricing"], internal_only: false, min_tier_rank: Some(3), expired: false },
    DemoContent { title: "2025 promotion: double SPIFF", kind: ContentKind::Positioning, body: "Double SPIFF on every new-logo deal closed in Q4 2025.", tags: &["promotion"], internal_only: false, min_tier_rank: None, expired: true },
    DemoContent { title: "Channel margin model (internal)", kind: ContentKind::Other, body: "How partner margins roll up into channel P&L. Not for partners.", tags: &["finance"], internal_only: true, min_tier_rank: None, expired: false },
];

async fn seed_content(db: &Db, manager: &Actor) -> AppResult<()> {
    for item in &CONTENT {
        let fields = ContentFields {
            title: Some(item.title.into()),
            kind: Some(item.kind),
            body: Some(Some(item.body.into())),
            tags: Some(item.tags.iter().map(|t| t.to_string()).collect()),
            audience: Some(Audience {
                internal_only: item.internal_only,
                min_tier_rank: item.min_tier_rank,
                ..Default::default()
            }),
            review_by: Some(Some(Utc::now().date_naive() + Duration::days(90))),
            ..Default::default()
        };
        let created = expect(content::create(db, manager, fields).await?, "content")?;
        if item.expired {
            // A lapsed promotion: kept for the record, hidden from partners.
            let mut model: entity::content::ActiveModel = created.into();
            model.expires_at = Set(Some(Utc::now() - Duration::days(30)));
            model.review_by = Set(Some(Utc::now().date_naive() - Duration::days(60)));
            model.update(db).await?;
        }
    }
    Ok(())
}

async fn is_empty(db: &impl ConnectionTrait) -> AppResult<bool> {
    Ok(partner::Entity::find().count(db).await? == 0 && user::Entity::find().count(db).await? == 0)
}

fn expect<T>(result: Result<T, Vec<crate::relay::UserError>>, what: &str) -> AppResult<T> {
    result.map_err(|errors| {
        AppError::internal(format!(
            "demo {what}: {}",
            errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

async fn insert_user(
    db: &Db,
    login: &DemoLogin,
    partner_id: Option<i64>,
    password_hash: &str,
) -> AppResult<user::Model> {
    let now = Utc::now();
    Ok(user::ActiveModel {
        email: Set(login.email.into()),
        name: Set(login.name.into()),
        role: Set(login.role),
        partner_id: Set(partner_id),
        password_hash: Set(password_hash.to_owned()),
        is_active: Set(true),
        is_org_admin: Set(login.org_admin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn seed_program(db: &Db) -> AppResult<Vec<i64>> {
    let mut tier_ids = Vec::new();
    for tier in &TIERS {
        let fields = TierFields {
            name: Some(tier.name.into()),
            rank: Some(tier.rank),
            description: Some(Some(format!("{} partners", tier.name))),
            protection_days: Some(tier.protection_days),
            rebate_eligible: Some(tier.rebate),
            mdf_eligible: Some(tier.mdf),
            min_won_revenue: Some(MoneyInput {
                amount: tier.min_revenue_usd.into(),
                currency: "USD".into(),
            }),
            min_approved_registrations: Some(tier.registrations),
            min_won_deals: Some(tier.won_deals),
            min_active_certifications: Some(tier.certifications),
            criteria_period_months: Some(12),
        };
        tier_ids.push(expect(tiers::create(db, fields).await?, "tier")?.id);
    }
    let steps: Vec<(String, Option<String>)> = ONBOARDING_STEPS
        .iter()
        .map(|s| (s.to_string(), None))
        .collect();
    onboarding::replace_template(db, &steps).await?;
    let criteria = CRITERIA
        .iter()
        .map(|(key, label, weight)| CriterionInput {
            key: key.to_string(),
            label: label.to_string(),
            description: None,
            weight: *weight,
        })
        .collect();
    expect(recruitment::set_criteria(db, criteria).await?, "profile")?;
    Ok(tier_ids)
}

async fn seed_partners(db: &Db, manager: &Actor, tier_ids: &[i64]) -> AppResult<Vec<i64>> {
    let today = Utc::now().date_naive();
    let mut ids: Vec<i64> = Vec::new();
    for demo in &PARTNERS {
        let initial = if demo.status == PartnerStatus::Onboarding {
            PartnerStatus::Onboarding
        } else {
            PartnerStatus::Active
        };
        let fields = PartnerFields {
            name: Some(demo.name.into()),
            partner_type: Some(demo.partner_type),
            website: Some(Some(demo.website.into())),
            region: Some(Some(demo.region.into())),
            country: Some(Some(demo.country.into())),
            verticals: Some(demo.verticals.iter().map(|v| v.to_string()).collect()),
            parent_id: Some(demo.parent.map(|i| ids[i])),
            channel_manager_id: Some(Some(manager.user_id)),
            partnership_started_on: Some(Some(today - Duration::days(demo.started_days_ago))),
            ..Default::default()
        };
        let created = expect(
            partners::create(
                db,
                manager,
                fields,
                Some(initial),
                Some(tier_ids[demo.tier]),
            )
            .await?,
            "partner",
        )?;
        if demo.status != initial {
            expect(
                partners::change_status(
                    db,
                    manager,
                    created.id,
                    demo.status,
                    Some("no registrations in two quarters".into()),
                )
                .await?,
                "status",
            )?;
        }
        ids.push(created.id);
    }
    Ok(ids)
}

async fn seed_training(db: &Db, manager: &Actor, users: &[user::Model]) -> AppResult<()> {
    let mut course_ids = Vec::new();
    for title in COURSES {
        course_ids.push(
            expect(
                training::create_course(db, title.into(), None, Some(90)).await?,
                "course",
            )?
            .id,
        );
    }
    expect(
        training::create_program(
            db,
            "Certified Sales Professional".into(),
            None,
            12,
            vec![course_ids[0], course_ids[1]],
        )
        .await?,
        "program",
    )?;
    expect(
        training::create_program(
            db,
            "Certified Technical Specialist".into(),
            None,
            24,
            vec![course_ids[0], course_ids[2], course_ids[3]],
        )
        .await?,
        "program",
    )?;
    let earlier = Utc::now() - Duration::days(40);
    // (user index in LOGINS, courses completed)
    for (user, courses) in [(2, vec![0, 1]), (3, vec![0, 1, 2]), (4, vec![0])] {
        for course in courses {
            expect(
                training::record_completion(
                    db,
                    manager,
                    &users[user],
                    course_ids[course],
                    Some(earlier),
                )
                .await?,
                "completion",
            )?;
        }
    }
    Ok(())
}

async fn seed_prospects(db: &Db) -> AppResult<()> {
    for prospect in &PROSPECTS {
        let fields = ProspectFields {
            name: Some(prospect.name.into()),
            website: Some(prospect.website.into()),
            partner_type: Some(prospect.partner_type),
            country: Some(prospect.country.into()),
            region: Some(prospect.region.into()),
            notes: None,
            ratings: CRITERIA
                .iter()
                .zip(prospect.ratings)
                .map(|((key, _, _), value)| (key.to_string(), value))
                .collect(),
        };
        expect(recruitment::create(db, fields).await?, "prospect")?;
    }
    Ok(())
}

async fn tick_onboarding(db: &Db, partner_id: i64, manager: &Actor, done: usize) -> AppResult<()> {
    for item in onboarding::items_of(db, partner_id)
        .await?
        .into_iter()
        .take(done)
    {
        let mut model: entity::onboarding_item::ActiveModel = item.into();
        model.completed_at = Set(Some(Utc::now()));
        model.completed_by_id = Set(Some(manager.user_id));
        model.update(db).await?;
    }
    Ok(())
}

/// Seeds the demo program if the database is empty. Returns whether it seeded.
pub async fn seed(db: &DatabaseConnection) -> AppResult<bool> {
    let db = &Db::direct(db.clone());
    if !is_empty(db).await? {
        return Ok(false);
    }
    // One hash for every demo login: they share the published demo password anyway.
    let password_hash = hash_password(DEMO_PASSWORD.to_owned()).await?;
    let manager_user = insert_user(db, &LOGINS[0], None, &password_hash).await?;
    let manager = Actor::new(manager_user.id, Role::ChannelManager, None, 0);
    let tier_ids = seed_program(db).await?;
    let partner_ids = seed_partners(db, &manager, &tier_ids).await?;
    let mut users = vec![manager_user];
    for login in &LOGINS[1..] {
        users.push(
            insert_user(
                db,
                login,
                login.partner.map(|i| partner_ids[i]),
                &password_hash,
            )
            .await?,
        );
    }
    seed_training(db, &manager, &users).await?;
    seed_prospects(db).await?;
    tick_onboarding(db, partner_ids[4], &manager, 2).await?;
    seed_content(db, &manager).await?;
    deals::seed_deals(db, &manager, &users).await?;
    deals::seed_incentives(db, &manager, &users, &partner_ids).await?;
    let started: Vec<i64> = PARTNERS.iter().map(|p| p.started_days_ago).collect();
    history::seed(db, &partner_ids, &started, &users[1], &password_hash).await?;
    leads::seed(db, &manager, &users[2]).await?;
    let (Some(summit), Some(northwind)) = (users[3].partner_id, users[2].partner_id) else {
        return Err(AppError::internal(
            "the demo's partner users belong to partners",
        ));
    };
    let mapped = org_map::seed(db, manager.user_id, users[1].id, summit, northwind).await?;
    plans::seed(db, &manager, &users[1], &users[2], &users[3], &mapped).await?;
    Ok(true)
}

pub async fn seed_and_report(db: &DatabaseConnection) -> AppResult<()> {
    let mut report = if seed(db).await? {
        "Seeded the demo program.\n".to_owned()
    } else {
        "The database already holds data; the demo program was not seeded again.\n".to_owned()
    };
    report += &format!("Demo logins (password for all: {DEMO_PASSWORD}):\n");
    for login in &LOGINS {
        report += &format!("  {:<34} {}\n", login.email, login.note);
    }
    crate::cli::say(&report);
    Ok(())
}
