//! `serve --demo`: a small, believable partner program seeded into an empty database.
//! Later domains add their own demo data here.

use chrono::Utc;
use entity::enums::{PartnerStatus, PartnerType, Role};
use entity::{partner, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, TransactionTrait,
};

use crate::auth::password::hash_password;
use crate::error::AppResult;

pub const DEMO_PASSWORD: &str = "partnergraph-demo";

pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    /// Index into `PARTNERS`.
    pub partner: Option<usize>,
    pub note: &'static str,
}

struct DemoPartner {
    name: &'static str,
    partner_type: PartnerType,
    status: PartnerStatus,
    website: &'static str,
    country: &'static str,
    /// Index into `PARTNERS` of the distributor above it.
    parent: Option<usize>,
}

const PARTNERS: [DemoPartner; 6] = [
    DemoPartner {
        name: "Northwind",
        partner_type: PartnerType::Reseller,
        status: PartnerStatus::Active,
        website: "https://northwind.example",
        country: "US",
        parent: None,
    },
    DemoPartner {
        name: "Summit Distribution",
        partner_type: PartnerType::Distributor,
        status: PartnerStatus::Active,
        website: "https://summit-distribution.example",
        country: "GB",
        parent: None,
    },
    DemoPartner {
        name: "TierTwo",
        partner_type: PartnerType::Reseller,
        status: PartnerStatus::Active,
        website: "https://tiertwo.example",
        country: "DE",
        parent: Some(1),
    },
    DemoPartner {
        name: "Contoso Cloud Services",
        partner_type: PartnerType::Msp,
        status: PartnerStatus::Active,
        website: "https://contoso-cloud.example",
        country: "CA",
        parent: None,
    },
    DemoPartner {
        name: "Fabrikam Integrators",
        partner_type: PartnerType::SystemIntegrator,
        status: PartnerStatus::Onboarding,
        website: "https://fabrikam.example",
        country: "FR",
        parent: None,
    },
    DemoPartner {
        name: "Alpine Referrals",
        partner_type: PartnerType::Referral,
        status: PartnerStatus::Dormant,
        website: "https://alpine-referrals.example",
        country: "CH",
        parent: Some(1),
    },
];

pub const LOGINS: [DemoLogin; 5] = [
    DemoLogin {
        email: "manager@vendor.example",
        name: "Maria Chen",
        role: Role::ChannelManager,
        partner: None,
        note: "channel manager: runs the program",
    },
    DemoLogin {
        email: "rep@vendor.example",
        name: "Raj Patel",
        role: Role::DirectRep,
        partner: None,
        note: "direct rep: owns direct accounts",
    },
    DemoLogin {
        email: "alice@northwind.example",
        name: "Alice Walker",
        role: Role::Partner,
        partner: Some(0),
        note: "partner user, reseller Northwind",
    },
    DemoLogin {
        email: "dave@summit-distribution.example",
        name: "Dave Okafor",
        role: Role::Partner,
        partner: Some(1),
        note: "partner user, distributor Summit Distribution",
    },
    DemoLogin {
        email: "bob@tiertwo.example",
        name: "Bob Tanaka",
        role: Role::Partner,
        partner: Some(2),
        note: "partner user, reseller TierTwo (tier two under Summit)",
    },
];

async fn is_empty(db: &impl ConnectionTrait) -> AppResult<bool> {
    Ok(partner::Entity::find().count(db).await? == 0 && user::Entity::find().count(db).await? == 0)
}

/// Seeds the demo program if the database is empty. Returns whether it seeded.
pub async fn seed(db: &DatabaseConnection) -> AppResult<bool> {
    if !is_empty(db).await? {
        return Ok(false);
    }
    // One hash for every demo login: they share the published demo password anyway.
    let password_hash = hash_password(DEMO_PASSWORD.to_owned()).await?;
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut partner_ids: Vec<i64> = Vec::with_capacity(PARTNERS.len());
    for demo in &PARTNERS {
        let created = partner::ActiveModel {
            name: Set(demo.name.into()),
            partner_type: Set(demo.partner_type),
            status: Set(demo.status),
            website: Set(Some(demo.website.into())),
            country: Set(Some(demo.country.into())),
            parent_id: Set(demo.parent.map(|i| partner_ids[i])),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        partner_ids.push(created.id);
    }
    for login in &LOGINS {
        user::ActiveModel {
            email: Set(login.email.into()),
            name: Set(login.name.into()),
            role: Set(login.role),
            partner_id: Set(login.partner.map(|i| partner_ids[i])),
            password_hash: Set(password_hash.clone()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

pub async fn seed_and_report(db: &DatabaseConnection) -> AppResult<()> {
    if seed(db).await? {
        println!("Seeded the demo program.");
    } else {
        println!("The database already holds data; the demo program was not seeded again.");
    }
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    for login in &LOGINS {
        println!("  {:<34} {}", login.email, login.note);
    }
    Ok(())
}
