//! The demo's org maps: Summit Distribution's leadership and sales (who reports to whom,
//! what they push, how well the vendor's people know them, the vendor's private notes) and
//! Northwind's healthcare practice.

use chrono::{Duration, Utc};
use entity::enums::{DealRole, Influence};
use entity::{contact, contact_influence as influence, contact_relationship as relationship};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::db::Db;
use crate::error::AppResult;

/// The contacts the demo's plans name.
pub struct Mapped {
    pub summit_ceo: i64,
    pub summit_sales: i64,
    pub northwind_md: i64,
    pub northwind_practice: i64,
}

struct Person {
    name: &'static str,
    email: &'static str,
    title: &'static str,
    department: &'static str,
    role: DealRole,
    influence: Influence,
    sponsor: bool,
    vendor_notes: Option<&'static str>,
}

async fn add(db: &Db, partner: i64, reports_to: Option<i64>, p: Person) -> AppResult<i64> {
    let now = Utc::now();
    Ok(contact::ActiveModel {
        partner_id: Set(partner),
        name: Set(p.name.into()),
        email: Set(Some(p.email.into())),
        title: Set(Some(p.title.into())),
        department: Set(Some(p.department.into())),
        reports_to_id: Set(reports_to),
        deal_role: Set(p.role),
        influence: Set(p.influence),
        is_executive_sponsor: Set(p.sponsor),
        vendor_notes: Set(p.vendor_notes.map(Into::into)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

async fn pushes(
    db: &Db,
    contact: i64,
    product: Option<i64>,
    vertical: Option<&str>,
    strength: Influence,
) -> AppResult<()> {
    influence::ActiveModel {
        contact_id: Set(contact),
        product_id: Set(product),
        vertical: Set(vertical.map(Into::into)),
        strength: Set(strength),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn knows(
    db: &Db,
    contact: i64,
    user: i64,
    strength: Influence,
    days_ago: i64,
    sponsor: bool,
) -> AppResult<()> {
    let now = Utc::now();
    relationship::ActiveModel {
        contact_id: Set(contact),
        user_id: Set(user),
        strength: Set(strength),
        last_interaction_at: Set(Some(now - Duration::days(days_ago))),
        is_executive_sponsor: Set(sponsor),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn seed(
    db: &Db,
    manager: i64,
    rep: i64,
    summit: i64,
    northwind: i64,
) -> AppResult<Mapped> {
    let cloud = entity::product::Entity::find()
        .filter(entity::product::Column::Sku.eq("PG-CLOUD"))
        .one(db)
        .await?
        .map(|p| p.id);
    let ceo = add(db, summit, None, Person {
        name: "Maria Lopez",
        email: "maria.lopez@summit-distribution.example",
        title: "Chief Executive Officer",
        department: "Executive",
        role: DealRole::DecisionMaker,
        influence: Influence::High,
        sponsor: true,
        vendor_notes: Some("Wants a quarterly executive briefing; the distribution agreement renews next year."),
    })
    .await?;
    let sales = add(
        db,
        summit,
        Some(ceo),
        Person {
            name: "Tom Becker",
            email: "tom.becker@summit-distribution.example",
            title: "VP Sales",
            department: "Sales",
            role: DealRole::Champion,
            influence: Influence::High,
            sponsor: false,
            vendor_notes: Some("Compensates his reps on margin: MDF-funded campaigns move him."),
        },
    )
    .await?;
    let architect = add(
        db,
        summit,
        Some(sales),
        Person {
            name: "Priya Nair",
            email: "priya.nair@summit-distribution.example",
            title: "Lead Solutions Architect",
            department: "Presales",
            role: DealRole::Technical,
            influence: Influence::Medium,
            sponsor: false,
            vendor_notes: None,
        },
    )
    .await?;
    pushes(db, sales, cloud, None, Influence::High).await?;
    pushes(db, sales, None, Some("Manufacturing"), Influence::Medium).await?;
    pushes(db, architect, cloud, None, Influence::Medium).await?;
    knows(db, ceo, manager, Influence::High, 12, true).await?;
    knows(db, sales, manager, Influence::High, 4, false).await?;
    knows(db, architect, rep, Influence::Medium, 20, false).await?;

    let md = add(
        db,
        northwind,
        None,
        Person {
            name: "Erik Hansen",
            email: "erik.hansen@northwind.example",
            title: "Managing Director",
            department: "Executive",
            role: DealRole::DecisionMaker,
            influence: Influence::High,
            sponsor: true,
            vendor_notes: Some(
                "Cautious about exclusivity; wants proof of healthcare demand first.",
            ),
        },
    )
    .await?;
    let practice = add(
        db,
        northwind,
        Some(md),
        Person {
            name: "Lena Berg",
            email: "lena.berg@northwind.example",
            title: "Healthcare Practice Lead",
            department: "Healthcare",
            role: DealRole::Champion,
            influence: Influence::Medium,
            sponsor: false,
            vendor_notes: None,
        },
    )
    .await?;
    pushes(db, practice, None, Some("Healthcare"), Influence::High).await?;
    knows(db, md, manager, Influence::Medium, 30, true).await?;
    knows(db, practice, manager, Influence::Low, 45, false).await?;
    Ok(Mapped {
        summit_ceo: ceo,
        summit_sales: sales,
        northwind_md: md,
        northwind_practice: practice,
    })
}
