//! What a plan's partner did that the plan measures beyond revenue: pipeline and wins in
//! the target accounts, the people who have each enablement need, certifications earned and
//! leads converted in the period. Read for a page of plans at once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::enums::DealStatus;
use entity::{
    account_domain, certification, content_event, course_completion, deal_registration as deal,
    joint_business_plan as plan, joint_business_plan_account as account_row,
    joint_business_plan_need as need_row, lead, user,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::scorecard::{need_status, Figures, NeedStatus};
use super::service::window;
use crate::error::AppResult;
use crate::metrics::formulas::Amounts;

/// Registrations still being pursued: they count as pipeline.
const OPEN: [DealStatus; 4] = [
    DealStatus::Submitted,
    DealStatus::UnderReview,
    DealStatus::Approved,
    DealStatus::Returned,
];

/// One target account's figures for the plan's partner.
#[derive(Debug, Default, Clone)]
pub struct AccountFigures {
    pub open_registrations: i64,
    /// Open registrations' estimated value.
    pub pipeline: Amounts,
    /// Registrations won in the plan's period.
    pub won: Amounts,
}

#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub accounts: Vec<(account_row::Model, AccountFigures)>,
    /// Each need with how many of the partner's people have it.
    pub needs: Vec<(need_row::Model, i64)>,
    pub certifications_earned: i64,
    pub leads_converted: i64,
}

type Reg = (
    i64,
    DealStatus,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<DateTime<Utc>>,
);

/// The partners' open and won registrations whose customer is one of the accounts.
async fn registrations_in(
    db: &impl ConnectionTrait,
    partners: &[i64],
    keys: &HashSet<String>,
    roots: &HashSet<String>,
) -> AppResult<Vec<Reg>> {
    if keys.is_empty() && roots.is_empty() {
        return Ok(vec![]);
    }
    let mut statuses: Vec<DealStatus> = OPEN.to_vec();
    statuses.push(DealStatus::Won);
    Ok(deal::Entity::find()
        .select_only()
        .columns([
            deal::Column::PartnerId,
            deal::Column::Status,
            deal::Column::CustomerNameKey,
            deal::Column::CustomerRoot,
            deal::Column::Currency,
            deal::Column::EstimatedValueMinor,
            deal::Column::ClosedAmountMinor,
            deal::Column::ClosedAt,
        ])
        .filter(deal::Column::PartnerId.is_in(partners.to_vec()))
        .filter(deal::Column::Status.is_in(statuses))
        .filter(
            Condition::any()
                .add(deal::Column::CustomerNameKey.is_in(keys.iter().cloned()))
                .add(deal::Column::CustomerRoot.is_in(roots.iter().cloned())),
        )
        .into_tuple()
        .all(db)
        .await?)
}

/// The registrable domains of existing accounts, by account.
async fn account_roots(
    db: &impl ConnectionTrait,
    rows: &[account_row::Model],
) -> AppResult<HashMap<i64, Vec<String>>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.account_id).collect();
    let mut roots: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(roots);
    }
    let found: Vec<(i64, String)> = account_domain::Entity::find()
        .select_only()
        .columns([
            account_domain::Column::AccountId,
            account_domain::Column::Root,
        ])
        .filter(account_domain::Column::AccountId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    for (account, root) in found {
        roots.entry(account).or_default().push(root);
    }
    Ok(roots)
}

fn account_figures(
    plan: &plan::Model,
    row: &account_row::Model,
    roots: &[String],
    registrations: &[Reg],
) -> AccountFigures {
    let (from, to) = window(plan);
    let mut figures = AccountFigures::default();
    let is_ours = |(partner, _, key, root, ..): &&Reg| {
        *partner == plan.partner_id
            && (*key == row.name_key
                || root.as_ref().is_some_and(|root| {
                    row.identity.as_ref() == Some(root) || roots.contains(root)
                }))
    };
    for (_, status, _, _, currency, estimated, closed, closed_at) in
        registrations.iter().filter(is_ours)
    {
        if *status == DealStatus::Won {
            if closed_at.is_some_and(|at| at >= from && at < to) {
                figures.won.add(currency, closed.unwrap_or(*estimated));
            }
        } else {
            figures.open_registrations += 1;
            figures.pipeline.add(currency, *estimated);
        }
    }
    figures
}

/// The partners' users, by partner.
async fn people(db: &impl ConnectionTrait, partners: &[i64]) -> AppResult<HashMap<i64, i64>> {
    let found: Vec<(i64, Option<i64>)> = user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::PartnerId])
        .filter(user::Column::PartnerId.is_in(partners.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter_map(|(user, partner)| Some((user, partner?)))
        .collect())
}

fn users_of(partners: &[i64]) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::QueryTrait;
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::PartnerId.is_in(partners.to_vec()))
        .into_query()
}

/// Who has what: (subject id, user id) pairs for courses completed, certifications held
/// now, and content used; and every certification's award time, by user.
struct Holdings {
    completions: HashSet<(i64, i64)>,
    held: HashSet<(i64, i64)>,
    used: HashSet<(i64, i64)>,
    awarded: Vec<(i64, DateTime<Utc>)>,
}

async fn holdings(
    db: &impl ConnectionTrait,
    partners: &[i64],
    needs: &[need_row::Model],
    now: DateTime<Utc>,
) -> AppResult<Holdings> {
    let courses: Vec<i64> = needs.iter().filter_map(|n| n.course_id).collect();
    let contents: Vec<i64> = needs.iter().filter_map(|n| n.content_id).collect();
    let completions: Vec<(i64, i64)> = if courses.is_empty() {
        vec![]
    } else {
        course_completion::Entity::find()
            .select_only()
            .columns([
                course_completion::Column::CourseId,
                course_completion::Column::UserId,
            ])
            .filter(course_completion::Column::CourseId.is_in(courses))
            .filter(course_completion::Column::UserId.in_subquery(users_of(partners)))
            .into_tuple()
            .all(db)
            .await?
    };
    let used: Vec<(i64, i64)> = if contents.is_empty() {
        vec![]
    } else {
        content_event::Entity::find()
            .select_only()
            .columns([
                content_event::Column::ContentId,
                content_event::Column::UserId,
            ])
            .distinct()
            .filter(content_event::Column::ContentId.is_in(contents))
            .filter(content_event::Column::PartnerId.is_in(partners.to_vec()))
            .into_tuple()
            .all(db)
            .await?
    };
    type Cert = (i64, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let certifications: Vec<Cert> = certification::Entity::find()
        .select_only()
        .columns([
            certification::Column::ProgramId,
            certification::Column::UserId,
            certification::Column::AwardedAt,
            certification::Column::ExpiresAt,
        ])
        .filter(certification::Column::UserId.in_subquery(users_of(partners)))
        .filter(certification::Column::AwardedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(Holdings {
        completions: completions.into_iter().collect(),
        held: certifications
            .iter()
            .filter(|(_, _, _, expires)| expires.is_none_or(|at| at > now))
            .map(|(program, user, ..)| (*program, *user))
            .collect(),
        used: used.into_iter().collect(),
        awarded: certifications
            .iter()
            .filter_map(|(_, user, awarded, _)| Some((*user, (*awarded)?)))
            .collect(),
    })
}

/// How many of the partner's people have the need now.
fn earned(need: &need_row::Model, partner: i64, people: &HashMap<i64, i64>, has: &Holdings) -> i64 {
    let (subject, set) = match (need.course_id, need.program_id, need.content_id) {
        (Some(course), ..) => (course, &has.completions),
        (None, Some(program), _) => (program, &has.held),
        (None, None, Some(content)) => (content, &has.used),
        _ => return 0,
    };
    let count = set
        .iter()
        .filter(|(s, user)| *s == subject && people.get(user) == Some(&partner))
        .count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

async fn conversions(
    db: &impl ConnectionTrait,
    partners: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<(Option<i64>, Option<DateTime<Utc>>)>> {
    Ok(lead::Entity::find()
        .select_only()
        .columns([lead::Column::AssignedPartnerId, lead::Column::ConvertedAt])
        .filter(lead::Column::AssignedPartnerId.is_in(partners.to_vec()))
        .filter(lead::Column::ConvertedAt.gte(from))
        .filter(lead::Column::ConvertedAt.lt(to))
        .into_tuple()
        .all(db)
        .await?)
}

/// Each plan's progress, read together for all of them.
pub async fn of(
    db: &impl ConnectionTrait,
    plans: &[plan::Model],
) -> AppResult<HashMap<i64, Progress>> {
    if plans.is_empty() {
        return Ok(HashMap::new());
    }
    let now = Utc::now();
    let ids: Vec<i64> = plans.iter().map(|p| p.id).collect();
    let mut partners: Vec<i64> = plans.iter().map(|p| p.partner_id).collect();
    partners.sort_unstable();
    partners.dedup();
    let mut accounts = account_row::Entity::find()
        .filter(account_row::Column::PlanId.is_in(ids.clone()))
        .all(db)
        .await?;
    accounts.sort_by_key(|a| (a.plan_id, a.position));
    let roots = account_roots(db, &accounts).await?;
    let keys: HashSet<String> = accounts.iter().map(|a| a.name_key.clone()).collect();
    let all_roots: HashSet<String> = accounts
        .iter()
        .filter_map(|a| a.identity.clone())
        .chain(roots.values().flatten().cloned())
        .collect();
    let registrations = registrations_in(db, &partners, &keys, &all_roots).await?;
    let mut needs = need_row::Entity::find()
        .filter(need_row::Column::PlanId.is_in(ids))
        .all(db)
        .await?;
    needs.sort_by_key(|n| (n.plan_id, n.position));
    let people = people(db, &partners).await?;
    let has = holdings(db, &partners, &needs, now).await?;
    let from = plans.iter().map(|p| window(p).0).min().expect("plans");
    let to = plans.iter().map(|p| window(p).1).max().expect("plans");
    let converted = conversions(db, &partners, from, to).await?;
    Ok(plans
        .iter()
        .map(|plan| {
            let (from, to) = window(plan);
            let in_period = |at: &DateTime<Utc>| *at >= from && *at < to;
            let no_roots = Vec::new();
            let progress = Progress {
                accounts: accounts
                    .iter()
                    .filter(|a| a.plan_id == plan.id)
                    .map(|a| {
                        let roots = a
                            .account_id
                            .and_then(|id| roots.get(&id))
                            .unwrap_or(&no_roots);
                        (a.clone(), account_figures(plan, a, roots, &registrations))
                    })
                    .collect(),
                needs: needs
                    .iter()
                    .filter(|n| n.plan_id == plan.id)
                    .map(|n| (n.clone(), earned(n, plan.partner_id, &people, &has)))
                    .collect(),
                certifications_earned: count(has.awarded.iter().filter(|(user, at)| {
                    people.get(user) == Some(&plan.partner_id) && in_period(at)
                })),
                leads_converted: count(converted.iter().filter(|(partner, at)| {
                    *partner == Some(plan.partner_id) && at.as_ref().is_some_and(in_period)
                })),
            };
            (plan.id, progress)
        })
        .collect())
}

/// The figures objectives are measured on: the plan's revenue rows (sourced, influenced)
/// and its progress.
pub fn figures(
    sourced: &super::service::Rows,
    influenced: &super::service::Rows,
    progress: &Progress,
    today: chrono::NaiveDate,
) -> Figures {
    let mut revenue = Amounts::default();
    for (_, currency, minor) in sourced.iter().chain(influenced) {
        revenue.add(currency, *minor);
    }
    let mut pipeline = Amounts::default();
    for (_, figures) in &progress.accounts {
        pipeline.merge(&figures.pipeline);
    }
    Figures {
        revenue,
        pipeline,
        won_registrations: i64::try_from(sourced.len()).unwrap_or(i64::MAX),
        certifications_earned: progress.certifications_earned,
        needs_met: count(progress.needs.iter().filter(|(need, earned)| {
            need_status(*earned, need.required_count, need.due_date, today) == NeedStatus::Met
        })),
        leads_converted: progress.leads_converted,
    }
}

fn count<T>(items: impl Iterator<Item = T>) -> i64 {
    i64::try_from(items.count()).unwrap_or(i64::MAX)
}
