//! What a plan holds besides its status: name, revenue targets, target accounts, enablement
//! needs, sponsors and objectives. One shape (`PlanChanges`) serves a channel manager's
//! `updateJointBusinessPlan` and a partner's proposal, which is kept (checked) until a
//! manager accepts it and it is checked again and applied. Each list present replaces the
//! plan's list; a list left out stays as it is.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::enums::{PlanMetric, PlanSide, Role};
use entity::{
    account, account_domain, certification_program, contact, content, course,
    joint_business_plan as plan, joint_business_plan_account as account_row,
    joint_business_plan_need as need_row, joint_business_plan_objective as objective_row,
    joint_business_plan_sponsor as sponsor_row, user,
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::scorecard::is_money;
use super::service::{checked_targets, write_targets, TargetInput};
use crate::auth::Actor;
use crate::deals::matching::{web, Customer};
use crate::error::AppResult;
use crate::integrations::text;
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

const MAX_ACCOUNTS: usize = 200;
const MAX_NEEDS: usize = 100;
const MAX_SPONSORS: usize = 20;
const MAX_OBJECTIVES: usize = 20;
const MAX_PEOPLE: i32 = 10_000;
const MAX_COUNT_TARGET: i64 = 1_000_000_000;

/// An account the plan pursues: an existing account or a named prospect. `name_key` and
/// `identity` are filled by the check (what registrations are matched on).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AccountItem {
    pub account_id: Option<i64>,
    pub name: String,
    pub domain: Option<String>,
    pub country: Option<String>,
    #[serde(default)]
    pub name_key: String,
    #[serde(default)]
    pub identity: Option<String>,
}

/// Enablement the partner needs: exactly one of course, certification program or content.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NeedItem {
    pub course_id: Option<i64>,
    pub program_id: Option<i64>,
    pub content_id: Option<i64>,
    pub required_count: i32,
    pub owner_contact_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub due_date: Option<NaiveDate>,
}

/// An executive sponsor: a vendor user or a contact of the partner's org map.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SponsorItem {
    pub user_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub role: Option<String>,
}

/// A weighted objective; `target_value` (minor units or a count) is filled by the check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectiveItem {
    pub name: String,
    /// The metric's name as stored (`REVENUE`).
    pub metric: String,
    pub target: Decimal,
    pub currency: Option<String>,
    pub weight: i32,
    #[serde(default)]
    pub target_value: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlanChanges {
    pub name: Option<String>,
    pub targets: Option<Vec<TargetInput>>,
    pub accounts: Option<Vec<AccountItem>>,
    pub needs: Option<Vec<NeedItem>>,
    pub sponsors: Option<Vec<SponsorItem>>,
    pub objectives: Option<Vec<ObjectiveItem>>,
}

impl PlanChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.targets.is_none()
            && self.accounts.is_none()
            && self.needs.is_none()
            && self.sponsors.is_none()
            && self.objectives.is_none()
    }
}

impl NeedItem {
    pub fn kind(&self) -> entity::enums::PlanNeedKind {
        use entity::enums::PlanNeedKind::*;
        match (self.course_id, self.program_id) {
            (Some(_), _) => Course,
            (None, Some(_)) => Certification,
            _ => Content,
        }
    }
}

impl ObjectiveItem {
    pub fn metric(&self) -> Option<PlanMetric> {
        PlanMetric::try_from_value(&self.metric).ok()
    }
}

/// Collects the problems of one list's items.
struct Problems(Vec<UserError>);

impl Problems {
    fn add(&mut self, field: String, code: UserErrorCode, message: impl Into<String>) {
        self.0.push(UserError::new(&field, code, message));
    }
}

fn too_many(field: &str, max: usize) -> UserError {
    UserError::new(field, UserErrorCode::Invalid, format!("at most {max}"))
}

/// Ids among `ids` that `select` finds.
async fn existing<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashSet<i64>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<i64> = E::find()
        .select_only()
        .column(column)
        .filter(column.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// Who may be named in a plan: the vendor's active staff, the plan partner's contacts;
/// and for a partner's proposal, only vendor users and accounts the plan already names.
struct Known {
    staff: HashSet<i64>,
    contacts: HashSet<i64>,
    proposer_is_partner: bool,
    named_users: HashSet<i64>,
    named_accounts: HashSet<i64>,
}

async fn known(
    db: &impl ConnectionTrait,
    actor: &Actor,
    current: &plan::Model,
    changes: &PlanChanges,
) -> AppResult<Known> {
    let mut users: Vec<i64> = Vec::new();
    let mut contacts: Vec<i64> = Vec::new();
    for need in changes.needs.iter().flatten() {
        users.extend(need.owner_user_id);
        contacts.extend(need.owner_contact_id);
    }
    for sponsor in changes.sponsors.iter().flatten() {
        users.extend(sponsor.user_id);
        contacts.extend(sponsor.contact_id);
    }
    let staff: Vec<i64> = if users.is_empty() {
        vec![]
    } else {
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Id.is_in(users))
            .filter(user::Column::Role.ne(Role::Partner))
            .filter(user::Column::IsActive.eq(true))
            .into_tuple()
            .all(db)
            .await?
    };
    let own_contacts: Vec<i64> = if contacts.is_empty() {
        vec![]
    } else {
        contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .filter(contact::Column::Id.is_in(contacts))
            .filter(contact::Column::PartnerId.eq(current.partner_id))
            .into_tuple()
            .all(db)
            .await?
    };
    let proposer_is_partner = actor.role == Role::Partner;
    let (mut named_users, mut named_accounts) = (HashSet::new(), HashSet::new());
    if proposer_is_partner {
        let sponsors: Vec<Option<i64>> = sponsor_row::Entity::find()
            .select_only()
            .column(sponsor_row::Column::UserId)
            .filter(sponsor_row::Column::PlanId.eq(current.id))
            .into_tuple()
            .all(db)
            .await?;
        let owners: Vec<Option<i64>> = need_row::Entity::find()
            .select_only()
            .column(need_row::Column::OwnerUserId)
            .filter(need_row::Column::PlanId.eq(current.id))
            .into_tuple()
            .all(db)
            .await?;
        named_users = sponsors.into_iter().chain(owners).flatten().collect();
        let accounts: Vec<Option<i64>> = account_row::Entity::find()
            .select_only()
            .column(account_row::Column::AccountId)
            .filter(account_row::Column::PlanId.eq(current.id))
            .into_tuple()
            .all(db)
            .await?;
        named_accounts = accounts.into_iter().flatten().collect();
    }
    Ok(Known {
        staff: staff.into_iter().collect(),
        contacts: own_contacts.into_iter().collect(),
        proposer_is_partner,
        named_users,
        named_accounts,
    })
}

impl Known {
    fn is_staff(&self, id: i64) -> bool {
        self.staff.contains(&id) && (!self.proposer_is_partner || self.named_users.contains(&id))
    }
}

fn checked_country(value: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(code) = value.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let code = code.to_ascii_uppercase();
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(Some(code))
    } else {
        Err("must be an ISO 3166-1 alpha-2 code")
    }
}

async fn check_accounts(
    db: &impl ConnectionTrait,
    known: &Known,
    items: &[AccountItem],
) -> AppResult<Result<Vec<AccountItem>, Vec<UserError>>> {
    if items.len() > MAX_ACCOUNTS {
        return Ok(Err(vec![too_many("targetAccounts", MAX_ACCOUNTS)]));
    }
    let ids: Vec<i64> = items.iter().filter_map(|a| a.account_id).collect();
    let accounts = if ids.is_empty() {
        vec![]
    } else {
        account::Entity::find()
            .filter(account::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?
    };
    let domains = if ids.is_empty() {
        vec![]
    } else {
        account_domain::Entity::find()
            .filter(account_domain::Column::AccountId.is_in(ids))
            .all(db)
            .await?
    };
    let mut problems = Problems(Vec::new());
    let mut checked: Vec<AccountItem> = Vec::new();
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("targetAccounts.{i}.{name}");
        let resolved = match item.account_id {
            Some(id) => {
                let found = accounts
                    .iter()
                    .find(|a| a.id == id)
                    .filter(|_| !known.proposer_is_partner || known.named_accounts.contains(&id));
                let Some(found) = found else {
                    problems.add(
                        field("accountId"),
                        UserErrorCode::NotFound,
                        "no such account",
                    );
                    continue;
                };
                let first = domains
                    .iter()
                    .filter(|d| d.account_id == id)
                    .min_by_key(|d| d.id);
                AccountItem {
                    account_id: Some(id),
                    name: found.name.clone(),
                    domain: first.map(|d| d.domain.clone()),
                    country: found.country.clone(),
                    name_key: found.name_key.clone(),
                    identity: first.map(|d| d.root.clone()),
                }
            }
            None => match prospect(item, &field) {
                Ok(prospect) => prospect,
                Err(error) => {
                    problems.0.push(error);
                    continue;
                }
            },
        };
        if !seen.insert((resolved.name_key.clone(), resolved.identity.clone())) {
            problems.add(
                field("name"),
                UserErrorCode::Taken,
                "the plan names this account twice",
            );
            continue;
        }
        checked.push(resolved);
    }
    Ok(if problems.0.is_empty() {
        Ok(checked)
    } else {
        Err(problems.0)
    })
}

/// A named prospect, normalised as registrations' customers are.
fn prospect(item: &AccountItem, field: &dyn Fn(&str) -> String) -> Result<AccountItem, UserError> {
    let name = text::required(&field("name"), &item.name, 200)?;
    let domain = text::optional(&field("domain"), item.domain.as_deref(), 253)?;
    if let Some(domain) = &domain {
        if let Err(message) = web::parse(domain) {
            return Err(UserError::new(
                &field("domain"),
                UserErrorCode::Invalid,
                message,
            ));
        }
    }
    let country = checked_country(item.country.as_deref())
        .map_err(|m| UserError::new(&field("country"), UserErrorCode::Invalid, m))?;
    let customer = Customer::new(&name, domain.as_deref(), country.as_deref());
    let name_key = customer.name_key();
    if name_key.is_empty() {
        return Err(UserError::new(
            &field("name"),
            UserErrorCode::Invalid,
            "must name a company, not only its legal form",
        ));
    }
    Ok(AccountItem {
        account_id: None,
        name,
        domain: customer.host(),
        country,
        name_key,
        identity: customer.identity(),
    })
}

async fn check_needs(
    db: &impl ConnectionTrait,
    known: &Known,
    items: &[NeedItem],
) -> AppResult<Result<Vec<NeedItem>, Vec<UserError>>> {
    if items.len() > MAX_NEEDS {
        return Ok(Err(vec![too_many("enablementNeeds", MAX_NEEDS)]));
    }
    let courses = existing::<course::Entity>(
        db,
        course::Column::Id,
        items.iter().filter_map(|n| n.course_id),
    )
    .await?;
    let programs = existing::<certification_program::Entity>(
        db,
        certification_program::Column::Id,
        items.iter().filter_map(|n| n.program_id),
    )
    .await?;
    let contents = existing::<content::Entity>(
        db,
        content::Column::Id,
        items.iter().filter_map(|n| n.content_id),
    )
    .await?;
    let mut problems = Problems(Vec::new());
    let mut seen = HashSet::new();
    for (i, need) in items.iter().enumerate() {
        let field = |name: &str| format!("enablementNeeds.{i}.{name}");
        let subjects = [need.course_id, need.program_id, need.content_id];
        let found = match subjects {
            [Some(id), None, None] => courses.contains(&id).then_some("courseId"),
            [None, Some(id), None] => programs.contains(&id).then_some("certificationProgramId"),
            [None, None, Some(id)] => contents.contains(&id).then_some("contentId"),
            _ => {
                problems.add(
                    field("courseId"),
                    UserErrorCode::Invalid,
                    "name exactly one of courseId, certificationProgramId and contentId",
                );
                continue;
            }
        };
        if found.is_none() {
            let which = ["courseId", "certificationProgramId", "contentId"]
                [subjects.iter().position(Option::is_some).unwrap_or(0)];
            problems.add(field(which), UserErrorCode::NotFound, "not found");
        } else if !seen.insert(subjects) {
            problems.add(
                field("courseId"),
                UserErrorCode::Taken,
                "the plan names this need twice",
            );
        }
        if !(1..=MAX_PEOPLE).contains(&need.required_count) {
            problems.add(
                field("requiredCount"),
                UserErrorCode::Invalid,
                format!("must be between 1 and {MAX_PEOPLE}"),
            );
        }
        if need
            .owner_contact_id
            .is_some_and(|id| !known.contacts.contains(&id))
        {
            problems.add(
                field("ownerContactId"),
                UserErrorCode::NotFound,
                "no such contact of the partner",
            );
        }
        if need.owner_user_id.is_some_and(|id| !known.is_staff(id)) {
            problems.add(
                field("ownerUserId"),
                UserErrorCode::NotFound,
                "no such vendor user",
            );
        }
    }
    Ok(if problems.0.is_empty() {
        Ok(items.to_vec())
    } else {
        Err(problems.0)
    })
}

fn check_sponsors(
    known: &Known,
    items: &[SponsorItem],
) -> Result<Vec<SponsorItem>, Vec<UserError>> {
    if items.len() > MAX_SPONSORS {
        return Err(vec![too_many("sponsors", MAX_SPONSORS)]);
    }
    let mut problems = Problems(Vec::new());
    let mut checked = Vec::new();
    let mut seen = HashSet::new();
    for (i, sponsor) in items.iter().enumerate() {
        let field = |name: &str| format!("sponsors.{i}.{name}");
        match (sponsor.user_id, sponsor.contact_id) {
            (Some(id), None) if !known.is_staff(id) => {
                problems.add(
                    field("userId"),
                    UserErrorCode::NotFound,
                    "no such vendor user",
                );
            }
            (None, Some(id)) if !known.contacts.contains(&id) => {
                problems.add(
                    field("contactId"),
                    UserErrorCode::NotFound,
                    "no such contact of the partner",
                );
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                problems.add(
                    field("userId"),
                    UserErrorCode::Invalid,
                    "name exactly one of userId and contactId",
                );
                continue;
            }
        }
        if !seen.insert((sponsor.user_id, sponsor.contact_id)) {
            problems.add(
                field("userId"),
                UserErrorCode::Taken,
                "the plan names this sponsor twice",
            );
        }
        match text::optional(&field("role"), sponsor.role.as_deref(), 100) {
            Ok(role) => checked.push(SponsorItem {
                role,
                ..sponsor.clone()
            }),
            Err(error) => problems.0.push(error),
        }
    }
    if problems.0.is_empty() {
        Ok(checked)
    } else {
        Err(problems.0)
    }
}

fn check_objectives(items: &[ObjectiveItem]) -> Result<Vec<ObjectiveItem>, Vec<UserError>> {
    if items.len() > MAX_OBJECTIVES {
        return Err(vec![too_many("objectives", MAX_OBJECTIVES)]);
    }
    let mut problems = Problems(Vec::new());
    let mut checked = Vec::new();
    for (i, objective) in items.iter().enumerate() {
        let field = |name: &str| format!("objectives.{i}.{name}");
        let name = match text::required(&field("name"), &objective.name, 200) {
            Ok(name) => name,
            Err(error) => {
                problems.0.push(error);
                continue;
            }
        };
        if !(1..=100).contains(&objective.weight) {
            problems.add(
                field("weight"),
                UserErrorCode::Invalid,
                "must be between 1 and 100",
            );
        }
        let Some(metric) = objective.metric() else {
            problems.add(field("metric"), UserErrorCode::Invalid, "unknown metric");
            continue;
        };
        let target = if is_money(metric) {
            let Some(currency) = objective.currency.clone() else {
                problems.add(
                    field("currency"),
                    UserErrorCode::Required,
                    "a money objective needs a currency",
                );
                continue;
            };
            to_minor(&MoneyInput {
                amount: objective.target,
                currency,
            })
            .map_err(|message| (field("target"), message))
        } else if objective.currency.is_some() {
            Err((field("currency"), "a count has no currency".to_owned()))
        } else if objective.target.fract() != Decimal::ZERO {
            Err((field("target"), "a count is a whole number".to_owned()))
        } else {
            i64::try_from(objective.target.trunc())
                .ok()
                .filter(|t| *t <= MAX_COUNT_TARGET)
                .ok_or((field("target"), "is too large".to_owned()))
        };
        match target {
            Ok(value) if value > 0 => checked.push(ObjectiveItem {
                name,
                target_value: value,
                ..objective.clone()
            }),
            Ok(_) => problems.add(field("target"), UserErrorCode::Invalid, "must be positive"),
            Err((field, message)) => problems.add(field, UserErrorCode::Invalid, message),
        }
    }
    if problems.0.is_empty() {
        Ok(checked)
    } else {
        Err(problems.0)
    }
}

/// The changes checked against the plan and what exists now: filled in (account names,
/// normalised keys, targets in minor units), or every problem with them.
pub async fn check(
    db: &impl ConnectionTrait,
    actor: &Actor,
    current: &plan::Model,
    changes: &PlanChanges,
) -> AppResult<Result<PlanChanges, Vec<UserError>>> {
    let known = known(db, actor, current, changes).await?;
    let mut errors = Vec::new();
    let mut checked = PlanChanges::default();
    if let Some(name) = &changes.name {
        match text::required("name", name, 200) {
            Ok(name) => checked.name = Some(name),
            Err(error) => errors.push(error),
        }
    }
    if let Some(targets) = &changes.targets {
        match checked_targets(targets, current.period_start, current.period_end) {
            Ok(_) => checked.targets = Some(targets.clone()),
            Err(more) => errors.extend(more),
        }
    }
    if let Some(accounts) = &changes.accounts {
        match check_accounts(db, &known, accounts).await? {
            Ok(items) => checked.accounts = Some(items),
            Err(more) => errors.extend(more),
        }
    }
    if let Some(needs) = &changes.needs {
        match check_needs(db, &known, needs).await? {
            Ok(items) => checked.needs = Some(items),
            Err(more) => errors.extend(more),
        }
    }
    if let Some(sponsors) = &changes.sponsors {
        match check_sponsors(&known, sponsors) {
            Ok(items) => checked.sponsors = Some(items),
            Err(more) => errors.extend(more),
        }
    }
    if let Some(objectives) = &changes.objectives {
        match check_objectives(objectives) {
            Ok(items) => checked.objectives = Some(items),
            Err(more) => errors.extend(more),
        }
    }
    Ok(if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    })
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Writes checked changes: each list present replaces the plan's.
pub async fn write(
    db: &impl ConnectionTrait,
    plan_id: i64,
    checked: &PlanChanges,
) -> AppResult<()> {
    if let Some(targets) = &checked.targets {
        let rows: Vec<(String, String, i64)> = targets
            .iter()
            .filter_map(|t| {
                Some((
                    t.quarter.trim().to_uppercase(),
                    t.amount.currency.clone(),
                    to_minor(&t.amount).ok()?,
                ))
            })
            .collect();
        write_targets(db, plan_id, &rows).await?;
    }
    if let Some(accounts) = &checked.accounts {
        account_row::Entity::delete_many()
            .filter(account_row::Column::PlanId.eq(plan_id))
            .exec(db)
            .await?;
        let rows = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| account_row::ActiveModel {
                plan_id: Set(plan_id),
                position: Set(position(i)),
                account_id: Set(a.account_id),
                name: Set(a.name.clone()),
                domain: Set(a.domain.clone()),
                country: Set(a.country.clone()),
                name_key: Set(a.name_key.clone()),
                identity: Set(a.identity.clone()),
                ..Default::default()
            });
        insert_all(db, rows.collect()).await?;
    }
    if let Some(needs) = &checked.needs {
        need_row::Entity::delete_many()
            .filter(need_row::Column::PlanId.eq(plan_id))
            .exec(db)
            .await?;
        let rows = needs
            .iter()
            .enumerate()
            .map(|(i, n)| need_row::ActiveModel {
                plan_id: Set(plan_id),
                position: Set(position(i)),
                kind: Set(n.kind()),
                course_id: Set(n.course_id),
                program_id: Set(n.program_id),
                content_id: Set(n.content_id),
                required_count: Set(n.required_count),
                owner_contact_id: Set(n.owner_contact_id),
                owner_user_id: Set(n.owner_user_id),
                due_date: Set(n.due_date),
                ..Default::default()
            });
        insert_all(db, rows.collect()).await?;
    }
    if let Some(sponsors) = &checked.sponsors {
        sponsor_row::Entity::delete_many()
            .filter(sponsor_row::Column::PlanId.eq(plan_id))
            .exec(db)
            .await?;
        let rows = sponsors
            .iter()
            .enumerate()
            .map(|(i, s)| sponsor_row::ActiveModel {
                plan_id: Set(plan_id),
                position: Set(position(i)),
                side: Set(if s.user_id.is_some() {
                    PlanSide::Vendor
                } else {
                    PlanSide::Partner
                }),
                user_id: Set(s.user_id),
                contact_id: Set(s.contact_id),
                role: Set(s.role.clone()),
                ..Default::default()
            });
        insert_all(db, rows.collect()).await?;
    }
    if let Some(objectives) = &checked.objectives {
        objective_row::Entity::delete_many()
            .filter(objective_row::Column::PlanId.eq(plan_id))
            .exec(db)
            .await?;
        let rows = objectives.iter().enumerate().filter_map(|(i, o)| {
            Some(objective_row::ActiveModel {
                plan_id: Set(plan_id),
                position: Set(position(i)),
                name: Set(o.name.clone()),
                metric: Set(o.metric()?),
                target_value: Set(o.target_value),
                currency: Set(o.currency.clone()),
                weight: Set(o.weight),
                ..Default::default()
            })
        });
        insert_all(db, rows.collect()).await?;
    }
    if let Some(name) = &checked.name {
        plan::Entity::update_many()
            .col_expr(
                plan::Column::Name,
                sea_orm::sea_query::Expr::value(name.clone()),
            )
            .filter(plan::Column::Id.eq(plan_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> AppResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    if rows.is_empty() {
        return Ok(());
    }
    <A::Entity as EntityTrait>::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
