//! The demo's deals and money: products, the direct and channel accounts, registrations in
//! several states, a retroactive rebate program for Summit and an MDF budget for Northwind.

use chrono::{Duration, Utc};
use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use super::expect;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::money::MoneyInput;

pub(super) async fn seed_incentives(
    db: &Db,
    manager: &Actor,
    users: &[user::Model],
    partner_ids: &[i64],
) -> AppResult<()> {
    use crate::incentives::rebates::{Band, Method};
    use crate::incentives::service::{self as incentives, NewProgram};
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    let start = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let end = chrono::NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let usd = |n: i64| MoneyInput {
        amount: n.into(),
        currency: "USD".into(),
    };
    let program = NewProgram {
        name: format!("{} growth rebate", today.year()),
        currency: "USD".into(),
        period_start: start,
        period_end: end,
        method: Method::Retroactive,
        bands: vec![
            Band {
                min: 0.into(),
                max: Some(100_000.into()),
                rate: "0.02".parse().unwrap_or_default(),
            },
            Band {
                min: 100_000.into(),
                max: None,
                rate: "0.04".parse().unwrap_or_default(),
            },
        ],
        cap: None,
        // Summit won Wayne Enterprises in the demo, so its statement has something to show.
        partner_ids: vec![partner_ids[1]],
        tier_ids: vec![],
    };
    expect(
        incentives::create_program(db, manager, program).await?,
        "rebate program",
    )?;
    let budget = expect(
        crate::incentives::mdf::create_budget(
            db,
            "Partner marketing fund",
            &usd(50_000),
            start,
            end,
        )
        .await?,
        "budget",
    )?;
    let allocation = expect(
        crate::incentives::mdf::allocate(db, budget.id, partner_ids[0], &usd(10_000)).await?,
        "allocation",
    )?;
    let alice = &users[2];
    let actor = Actor::new(alice.id, alice.role, alice.partner_id, 0);
    let activities = vec![
        ("Joint webinar with PartnerGraph".to_string(), usd(3_000)),
        ("Trade show booth".to_string(), usd(6_000)),
    ];
    expect(
        crate::incentives::mdf::create_request(
            db,
            &actor,
            &allocation,
            "Q3 demand generation",
            &activities,
            "USD",
        )
        .await?,
        "MDF request",
    )?;
    Ok(())
}

/// A demo registration: who registers which customer, and how far it gets.
struct DemoDeal {
    /// Index into `LOGINS`.
    user: usize,
    customer: &'static str,
    domain: &'static str,
    product: usize,
    submit: bool,
    then: Option<crate::deals::workflow::Action>,
}

pub(super) async fn seed_deals(db: &Db, manager: &Actor, users: &[user::Model]) -> AppResult<()> {
    use crate::deals::service::{self as deals, ActionInput, RegistrationInput};
    use crate::deals::workflow::{Action, Side};
    let mut products = Vec::new();
    for (name, sku) in [
        ("PartnerGraph Cloud", "PG-CLOUD"),
        ("PartnerGraph Analytics", "PG-ANALYTICS"),
        ("PartnerGraph Support Plus", "PG-SUPPORT"),
    ] {
        products.push(
            entity::product::ActiveModel {
                name: Set(name.into()),
                sku: Set(sku.into()),
                active: Set(true),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id,
        );
    }
    let rep = &users[1];
    for (name, domain, ownership, customer) in [
        (
            "Initech",
            "initech.com",
            entity::enums::AccountOwnership::Direct,
            true,
        ),
        (
            "Umbrella Corporation",
            "umbrella.example",
            entity::enums::AccountOwnership::Channel,
            true,
        ),
    ] {
        let account = deals::NewAccount {
            name: name.into(),
            domains: vec![domain.into()],
            country: Some("US".into()),
            ownership,
            is_customer: customer,
            owner_id: (ownership == entity::enums::AccountOwnership::Direct).then_some(rep.id),
        };
        expect(deals::create_account(db, account).await?, "account")?;
    }
    let close = Utc::now().date_naive() + Duration::days(60);
    let plan = [
        DemoDeal {
            user: 2,
            customer: "Acme Corporation",
            domain: "acme.example",
            product: 0,
            submit: true,
            then: Some(Action::Approve),
        },
        DemoDeal {
            user: 3,
            customer: "Stark Industries",
            domain: "stark.example",
            product: 1,
            submit: true,
            then: None,
        },
        DemoDeal {
            user: 4,
            customer: "Hooli",
            domain: "hooli.example",
            product: 0,
            submit: false,
            then: None,
        },
        DemoDeal {
            user: 3,
            customer: "Wayne Enterprises",
            domain: "wayne.example",
            product: 2,
            submit: true,
            then: Some(Action::MarkWon),
        },
    ];
    for DemoDeal {
        user,
        customer,
        domain,
        product,
        submit,
        then,
    } in plan
    {
        let author = &users[user];
        let actor = Actor::new(author.id, author.role, author.partner_id, 0);
        let input = RegistrationInput {
            customer_name: customer.into(),
            customer_domain: Some(domain.into()),
            customer_country: Some("US".into()),
            product_ids: vec![products[product]],
            estimated_value: None,
            expected_close_date: Some(close),
            deal_type: None,
            description: Some(format!(
                "{customer} evaluating {}",
                ["Cloud", "Analytics", "Support Plus"][product]
            )),
            external_id: None,
        };
        let money = MoneyInput {
            amount: 48_000.into(),
            currency: "USD".into(),
        };
        let created = expect(
            deals::register(db, &actor, input, Some(money), None, submit).await?,
            "registration",
        )?;
        let mut current = created;
        let steps: Vec<Action> = match then {
            Some(Action::MarkWon) => vec![Action::Approve, Action::MarkWon],
            Some(action) => vec![action],
            None => vec![],
        };
        for step in steps {
            let (who, side) = if step == Action::MarkWon {
                (&actor, Side::Partner)
            } else {
                (manager, Side::ChannelManager)
            };
            let input = ActionInput {
                closed_amount: (step == Action::MarkWon).then(|| MoneyInput {
                    amount: 52_500.into(),
                    currency: "USD".into(),
                }),
                ..Default::default()
            };
            current = expect(
                deals::act(db, who, side, current, step, input).await?,
                "deal step",
            )?;
        }
    }
    Ok(())
}
