//! The demo's lead distribution: a routing rule for Northwind's healthcare leads in North
//! America, and leads in each state (waiting for Northwind, accepted, converted, declined
//! and gone on to Contoso, unassigned, closed), made through the lead services.

use entity::{lead, product, user};
use sea_orm::{EntityTrait, QueryOrder};

use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::leads::respond::{self, Conversion};
use crate::leads::rules::NewRule;
use crate::leads::service::{self, NewLead};
use crate::money::MoneyInput;

fn new_lead(company: &str, region: &str, vertical: &str, contact: &str) -> NewLead {
    let slug: String = company
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    NewLead {
        company_name: company.into(),
        company_domain: Some(format!("{slug}.example")),
        country: Some(if region == "NA" { "US" } else { "BR" }.into()),
        region: Some(region.into()),
        vertical: Some(vertical.into()),
        product_ids: vec![],
        contact_name: Some(contact.into()),
        contact_email: Some(format!(
            "{}@{slug}.example",
            contact.to_lowercase().replace(' ', ".")
        )),
        contact_phone: None,
        source: Some("Q4 webinar".into()),
    }
}

fn made(outcome: service::Outcome<lead::Model>) -> AppResult<lead::Model> {
    outcome.map_err(|e| AppError::internal(format!("demo lead refused: {e:?}")))
}

pub async fn seed(db: &Db, manager: &Actor, alice: &user::Model) -> AppResult<()> {
    let northwind = alice
        .partner_id
        .ok_or_else(|| AppError::internal("alice belongs to Northwind"))?;
    let cloud = product::Entity::find()
        .order_by_asc(product::Column::Id)
        .one(db)
        .await?
        .map(|p| p.id);
    crate::leads::rules::create(
        db,
        NewRule {
            name: "Northwind: healthcare in North America".into(),
            priority: 100,
            regions: vec!["NA".into()],
            verticals: vec!["Healthcare".into()],
            product_ids: vec![],
            partner_ids: vec![northwind],
            partner_types: vec![],
            min_tier_id: None,
            certification_program_ids: vec![],
            capacity: Some(25),
        },
    )
    .await?
    .map_err(|e| AppError::internal(format!("demo rule refused: {e:?}")))?;
    let alice = Actor::new(alice.id, alice.role, alice.partner_id, 0);
    let mut ctx = service::context(db).await?;
    let create = |company: &'static str, region: &'static str, contact: &'static str| {
        let mut lead = new_lead(company, region, "Healthcare", contact);
        lead.product_ids = cloud.into_iter().collect();
        lead
    };
    let waiting = create("Lakeside Medical Group", "NA", "Jordan Ellis");
    made(service::create(db, manager, waiting, None, &mut ctx).await?)?;
    let accepted = create("Harbor Health Partners", "NA", "Sam Rivera");
    let accepted = made(service::create(db, manager, accepted, None, &mut ctx).await?)?;
    made(respond::accept(db, &alice, accepted).await?)?;
    let converted = create("Pinecrest Clinics", "NA", "Avery Kim");
    let converted = made(service::create(db, manager, converted, None, &mut ctx).await?)?;
    let converted = made(respond::accept(db, &alice, converted).await?)?;
    respond::convert(
        db,
        &alice,
        converted,
        Conversion {
            product_ids: vec![],
            estimated_value: Some(MoneyInput {
                amount: rust_decimal::Decimal::new(48_000, 0),
                currency: "USD".into(),
            }),
            expected_close_date: Some(chrono::Utc::now().date_naive() + chrono::Duration::days(75)),
            description: Some("From a routed lead".into()),
        },
    )
    .await?
    .map_err(|e| AppError::internal(format!("demo conversion refused: {e:?}")))?;
    let declined = create("Summitview Hospital", "NA", "Casey Morgan");
    let declined = made(service::create(db, manager, declined, None, &mut ctx).await?)?;
    made(respond::decline(db, &alice, declined, "No hospital practice this quarter").await?)?;
    let nobody = new_lead("Clínica São Lucas", "LATAM", "Healthcare", "Ana Souza");
    made(service::create(db, manager, nobody, None, &mut ctx).await?)?;
    let closed = create("Duplicate Dental Co", "NA", "Riley Quinn");
    let closed = made(service::create(db, manager, closed, None, &mut ctx).await?)?;
    made(respond::close(db, manager, closed, "duplicate of an existing account").await?)?;
    Ok(())
}
