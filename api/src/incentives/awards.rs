//! Deal-registration bonus margins and SPIFFs: each qualifying won deal earns a `PENDING`
//! award per rule; a channel manager approves or declines (with a reason) and pays it once.

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::Role;
use entity::{deal_registration, incentive_award, incentive_rule};
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::auth::{actor, Actor, RoleGuard};
use crate::db::Db;
use crate::db::{begin_write, settle, Outcome};
use crate::error::{AppError, AppResult};
use crate::money::{to_minor, Money, MoneyInput};
use crate::partners::policy::scope;
use crate::relay::{
    global_id, local_id, paginate, PageArgs, RelayConnection, UserError, UserErrorCode,
};

pub const RULE_KIND: &str = "IncentiveRule";
pub const AWARD_KIND: &str = "IncentiveAward";
const MANAGERS: &[Role] = &[Role::ChannelManager];
const BONUS: &str = "REGISTRATION_BONUS";
const SPIFF: &str = "SPIFF";

/// What `rule` pays for a deal closed for `closed_minor`, if the deal qualifies.
pub fn award_minor(
    rule: &incentive_rule::Model,
    closed_minor: i64,
    products: &[i64],
    closed_on: NaiveDate,
    currency: &str,
) -> Option<i64> {
    let qualifies = rule.currency == currency
        && closed_on >= rule.period_start
        && closed_on <= rule.period_end
        && closed_minor >= rule.min_deal_minor
        && rule.product_id.is_none_or(|p| products.contains(&p));
    if !qualifies {
        return None;
    }
    match (&rule.rate, rule.amount_minor) {
        (Some(rate), _) => {
            let rate: Decimal = rate.parse().ok()?;
            let exact = rate * Decimal::from(closed_minor);
            exact
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven)
                .try_into()
                .ok()
        }
        (None, Some(amount)) => Some(amount),
        (None, None) => None,
    }
}

/// Creates the awards a won deal earns (inside the win's transaction; at most one per rule).
pub async fn on_deal_won(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
) -> AppResult<()> {
    let (Some(closed_minor), Some(closed_at)) =
        (registration.closed_amount_minor, registration.closed_at)
    else {
        return Ok(());
    };
    let products = crate::deals::service::products_of(db, registration.id).await?;
    for rule in incentive_rule::Entity::find().all(db).await? {
        let Some(amount) = award_minor(
            &rule,
            closed_minor,
            &products,
            closed_at.date_naive(),
            &registration.currency,
        ) else {
            continue;
        };
        incentive_award::Entity::insert(incentive_award::ActiveModel {
            rule_id: Set(rule.id),
            registration_id: Set(registration.id),
            partner_id: Set(registration.partner_id),
            amount_minor: Set(amount),
            currency: Set(rule.currency.clone()),
            status: Set("PENDING".into()),
            reason: Set(None),
            decided_by_id: Set(None),
            paid_at: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                incentive_award::Column::RuleId,
                incentive_award::Column::RegistrationId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Moves an award `from` → `to` (compare-and-swap); paying writes the ledger.
async fn decide(
    db: &Db,
    actor: &Actor,
    id: i64,
    from: &str,
    to: &str,
    reason: Option<String>,
) -> AppResult<Outcome<incentive_award::Model>> {
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let mut update = incentive_award::Entity::update_many()
            .col_expr(incentive_award::Column::Status, to.into())
            .col_expr(
                incentive_award::Column::DecidedById,
                Some(actor.user_id).into(),
            )
            .filter(incentive_award::Column::Id.eq(id))
            .filter(incentive_award::Column::Status.eq(from));
        if reason.is_some() {
            update = update.col_expr(incentive_award::Column::Reason, reason.clone().into());
        }
        if to == "PAID" {
            update = update.col_expr(incentive_award::Column::PaidAt, Some(Utc::now()).into());
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::IllegalTransition,
                format!("only a {from} award can become {to}").to_lowercase(),
            )));
        }
        let award = incentive_award::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("award vanished"))?;
        if to == "PAID" {
            entity::ledger_entry::ActiveModel {
                partner_id: Set(award.partner_id),
                program_id: Set(None),
                kind: Set("INCENTIVE_PAYMENT".into()),
                amount_minor: Set(award.amount_minor),
                currency: Set(award.currency.clone()),
                source: Set(format!(
                    "incentive award {} for deal registration {}",
                    award.id, award.registration_id
                )),
                actor_id: Set(Some(actor.user_id)),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        Ok(Ok(award))
    }
    .await;
    settle(txn, result).await
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum IncentiveKind {
    /// A margin on the closed amount of a registered deal (`rate`).
    RegistrationBonus,
    /// A fixed amount per qualifying deal.
    Spiff,
}

pub struct IncentiveAward(incentive_award::Model);

#[Object]
impl IncentiveAward {
    async fn id(&self) -> ID {
        global_id(AWARD_KIND, self.0.id)
    }
    async fn amount(&self) -> Money {
        Money::from_minor(self.0.amount_minor, &self.0.currency)
    }
    /// `PENDING → APPROVED | DECLINED`, `APPROVED → PAID`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Why it was declined.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn rule_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let db = ctx.data::<Db>()?;
        let rule = incentive_rule::Entity::find_by_id(self.0.rule_id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        Ok(rule.map(|r| r.name))
    }
    async fn deal_registration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::deals::DealRegistration>> {
        let db = ctx.data::<Db>()?;
        let found = deal_registration::Entity::find_by_id(self.0.registration_id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        Ok(found.map(crate::deals::DealRegistration))
    }
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
}

#[derive(InputObject)]
pub struct CreateIncentiveRuleInput {
    pub name: String,
    pub kind: IncentiveKind,
    /// SPIFF: the fixed amount per deal.
    pub amount: Option<MoneyInput>,
    /// Registration bonus: a fraction of the closed amount (0.05 = 5%).
    pub rate: Option<Decimal>,
    /// Bonus currency (SPIFF: the amount's).
    pub currency: Option<String>,
    /// Only deals including this product qualify.
    pub product_id: Option<ID>,
    /// Only deals closed for at least this much qualify.
    pub min_deal: Option<MoneyInput>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

#[derive(SimpleObject, Default)]
pub struct IncentiveRulePayload {
    pub rule_id: Option<ID>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct IncentiveAwardActionInput {
    pub id: ID,
    /// Required to decline.
    pub reason: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct IncentiveAwardPayload {
    pub incentive_award: Option<IncentiveAward>,
    pub user_errors: Vec<UserError>,
}

fn award_payload(result: Outcome<incentive_award::Model>) -> IncentiveAwardPayload {
    match result {
        Ok(model) => IncentiveAwardPayload {
            incentive_award: Some(IncentiveAward(model)),
            user_errors: vec![],
        },
        Err(user_errors) => IncentiveAwardPayload {
            incentive_award: None,
            user_errors,
        },
    }
}

fn rule_fields(
    input: &CreateIncentiveRuleInput,
) -> Result<incentive_rule::ActiveModel, Vec<UserError>> {
    let mut errors = Vec::new();
    if input.name.trim().is_empty() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if input.period_end < input.period_start {
        errors.push(UserError::new(
            "periodEnd",
            UserErrorCode::Invalid,
            "must not be before periodStart",
        ));
    }
    let (currency, amount_minor, rate) = match input.kind {
        IncentiveKind::Spiff => match &input.amount {
            Some(money) => match to_minor(money) {
                Ok(minor) if minor > 0 => (money.currency.clone(), Some(minor), None),
                Ok(_) => {
                    return Err(UserError::one(
                        "amount",
                        UserErrorCode::Invalid,
                        "must be positive",
                    ))
                }
                Err(message) => {
                    return Err(UserError::one("amount", UserErrorCode::Invalid, message))
                }
            },
            None => {
                return Err(UserError::one(
                    "amount",
                    UserErrorCode::Required,
                    "a SPIFF pays a fixed amount",
                ))
            }
        },
        IncentiveKind::RegistrationBonus => match input.rate {
            Some(rate) if rate > Decimal::ZERO && rate <= Decimal::ONE => (
                input
                    .currency
                    .clone()
                    .unwrap_or_else(|| crate::money::DEFAULT_CURRENCY.into()),
                None,
                Some(rate.normalize().to_string()),
            ),
            _ => {
                return Err(UserError::one(
                    "rate",
                    UserErrorCode::Invalid,
                    "a bonus is a fraction between 0 and 1 (0.05 = 5%)",
                ))
            }
        },
    };
    if crate::money::minor_digits(&currency).is_none() {
        errors.push(UserError::new(
            "currency",
            UserErrorCode::Invalid,
            "unsupported currency",
        ));
    }
    let min_deal_minor = match &input.min_deal {
        Some(money) => {
            to_minor(money).map_err(|m| UserError::one("minDeal", UserErrorCode::Invalid, m))?
        }
        None => 0,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(incentive_rule::ActiveModel {
        name: Set(input.name.trim().to_owned()),
        kind: Set(if input.kind == IncentiveKind::Spiff {
            SPIFF
        } else {
            BONUS
        }
        .into()),
        currency: Set(currency),
        amount_minor: Set(amount_minor),
        rate: Set(rate),
        product_id: Set(input
            .product_id
            .as_ref()
            .map(|id| local_id(id, crate::deals::PRODUCT_KIND).unwrap_or(-1))),
        min_deal_minor: Set(min_deal_minor),
        period_start: Set(input.period_start),
        period_end: Set(input.period_end),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
}

#[derive(Default)]
pub struct AwardQuery;

#[Object]
impl AwardQuery {
    /// Bonus and SPIFF awards: a partner's own (a distributor's tier-two too), all for
    /// channel managers.
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager, Role::Partner])")]
    async fn incentive_awards(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<IncentiveAward>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let select = scope(db, &actor).await.extend()?.restrict(
            incentive_award::Entity::find(),
            incentive_award::Column::PartnerId,
        );
        paginate(
            db,
            select,
            incentive_award::Column::Id,
            &PageArgs::new(first, after, last, before),
            |a| a.id,
            IncentiveAward,
        )
        .await
        .extend()
    }
}

#[derive(Default)]
pub struct AwardMutation;

#[Object]
impl AwardMutation {
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_incentive_rule(
        &self,
        ctx: &Context<'_>,
        input: CreateIncentiveRuleInput,
    ) -> async_graphql::Result<IncentiveRulePayload> {
        let db = ctx.data::<Db>()?;
        let model = match rule_fields(&input) {
            Ok(model) => model,
            Err(user_errors) => {
                return Ok(IncentiveRulePayload {
                    rule_id: None,
                    user_errors,
                })
            }
        };
        let created = model.insert(db).await.map_err(AppError::from).extend()?;
        Ok(IncentiveRulePayload {
            rule_id: Some(global_id(RULE_KIND, created.id)),
            user_errors: vec![],
        })
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn approve_incentive_award(
        &self,
        ctx: &Context<'_>,
        input: IncentiveAwardActionInput,
    ) -> async_graphql::Result<IncentiveAwardPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.id, AWARD_KIND).unwrap_or(-1);
        Ok(award_payload(
            decide(db, &actor, id, "PENDING", "APPROVED", input.reason)
                .await
                .extend()?,
        ))
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn decline_incentive_award(
        &self,
        ctx: &Context<'_>,
        input: IncentiveAwardActionInput,
    ) -> async_graphql::Result<IncentiveAwardPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(reason) = input.reason.filter(|r| !r.trim().is_empty()) else {
            return Ok(award_payload(Err(UserError::one(
                "reason",
                UserErrorCode::Required,
                "say why the award is declined",
            ))));
        };
        let id = local_id(&input.id, AWARD_KIND).unwrap_or(-1);
        Ok(award_payload(
            decide(db, &actor, id, "PENDING", "DECLINED", Some(reason))
                .await
                .extend()?,
        ))
    }

    /// Pays an approved award, once, and writes it to the ledger.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn mark_incentive_award_paid(
        &self,
        ctx: &Context<'_>,
        input: IncentiveAwardActionInput,
    ) -> async_graphql::Result<IncentiveAwardPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.id, AWARD_KIND).unwrap_or(-1);
        Ok(award_payload(
            decide(db, &actor, id, "APPROVED", "PAID", None)
                .await
                .extend()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        rate: Option<&str>,
        amount: Option<i64>,
        product: Option<i64>,
        min: i64,
    ) -> incentive_rule::Model {
        incentive_rule::Model {
            id: 1,
            name: "r".into(),
            kind: "SPIFF".into(),
            currency: "USD".into(),
            amount_minor: amount,
            rate: rate.map(str::to_owned),
            product_id: product,
            min_deal_minor: min,
            period_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn bonus_margins_and_spiffs_per_qualifying_deal() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        // 5% of 60,000.00 = 3,000.00
        assert_eq!(
            award_minor(
                &rule(Some("0.05"), None, None, 0),
                6_000_000,
                &[1],
                day,
                "USD"
            ),
            Some(300_000)
        );
        assert_eq!(
            award_minor(
                &rule(None, Some(50_000), Some(1), 0),
                6_000_000,
                &[1, 2],
                day,
                "USD"
            ),
            Some(50_000)
        );
        assert_eq!(
            award_minor(
                &rule(None, Some(50_000), Some(3), 0),
                6_000_000,
                &[1, 2],
                day,
                "USD"
            ),
            None,
            "product not in the deal"
        );
        assert_eq!(
            award_minor(
                &rule(None, Some(50_000), None, 10_000_000),
                6_000_000,
                &[1],
                day,
                "USD"
            ),
            None,
            "deal too small"
        );
        assert_eq!(
            award_minor(
                &rule(None, Some(50_000), None, 0),
                6_000_000,
                &[1],
                day,
                "EUR"
            ),
            None,
            "other currency"
        );
        let later = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            award_minor(
                &rule(None, Some(50_000), None, 0),
                6_000_000,
                &[1],
                later,
                "USD"
            ),
            None,
            "outside the period"
        );
    }
}
