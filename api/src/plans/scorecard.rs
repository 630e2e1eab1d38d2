//! A plan's scorecard, pure: each objective's actual from the plan's computed figures, its
//! attainment, the weighted attainment of all of them, and whether an enablement need is met.

use chrono::NaiveDate;
use entity::enums::PlanMetric;

use crate::metrics::formulas::{rate, round4, Amounts};

/// What the plan's partner achieved, as the objectives measure it.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    /// Sourced plus influenced revenue in the period.
    pub revenue: Amounts,
    /// Open registrations' estimated value in the plan's target accounts.
    pub pipeline: Amounts,
    pub won_registrations: i64,
    pub certifications_earned: i64,
    pub needs_met: i64,
    pub leads_converted: i64,
}

/// Whether the metric counts money (its target has a currency) rather than things.
pub fn is_money(metric: PlanMetric) -> bool {
    matches!(
        metric,
        PlanMetric::Revenue | PlanMetric::TargetAccountPipeline
    )
}

/// The objective's actual: minor units of `currency` for money measures, a count otherwise.
pub fn actual(metric: PlanMetric, currency: Option<&str>, figures: &Figures) -> i64 {
    let money = |amounts: &Amounts| {
        currency
            .map(|c| i64::try_from(amounts.get(c)).unwrap_or(i64::MAX))
            .unwrap_or(0)
    };
    match metric {
        PlanMetric::Revenue => money(&figures.revenue),
        PlanMetric::TargetAccountPipeline => money(&figures.pipeline),
        PlanMetric::WonRegistrations => figures.won_registrations,
        PlanMetric::CertificationsEarned => figures.certifications_earned,
        PlanMetric::EnablementNeedsMet => figures.needs_met,
        PlanMetric::LeadsConverted => figures.leads_converted,
    }
}

/// actual / target, four decimals (uncapped: 1.25 is 125 %).
pub fn attainment(actual: i64, target: i64) -> Option<f64> {
    rate(actual.max(0) as u64, target.max(0) as u64)
}

/// The weighted mean of the objectives' attainments, each counted at most 1 (100 %), so one
/// objective far over target does not hide another far under it. `None` without objectives.
pub fn weighted(objectives: &[(i32, Option<f64>)]) -> Option<f64> {
    let total: i64 = objectives.iter().map(|(w, _)| i64::from(*w.max(&0))).sum();
    if total == 0 {
        return None;
    }
    let sum: f64 = objectives
        .iter()
        .map(|(w, a)| f64::from(*w.max(&0)) * a.unwrap_or(0.0).clamp(0.0, 1.0))
        .sum();
    Some(round4(sum / total as f64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedStatus {
    Met,
    Open,
    Overdue,
}

/// A need is met once enough of the partner's people have it; unmet past its due day it is
/// overdue.
pub fn need_status(
    earned: i64,
    required: i32,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> NeedStatus {
    if earned >= i64::from(required) {
        NeedStatus::Met
    } else if due.is_some_and(|due| due < today) {
        NeedStatus::Overdue
    } else {
        NeedStatus::Open
    }
}

/// An objective against its computed actual (minor units or a count, as its target).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObjectiveResult {
    pub name: String,
    /// The metric's stored name (`REVENUE`).
    pub metric: String,
    pub weight: i32,
    pub currency: Option<String>,
    pub target: i64,
    pub actual: i64,
    pub attainment: Option<f64>,
}

/// Every objective's result and the weighted attainment of all of them.
pub fn results(
    objectives: &[entity::joint_business_plan_objective::Model],
    figures: &Figures,
) -> (Vec<ObjectiveResult>, Option<f64>) {
    let results: Vec<ObjectiveResult> = objectives
        .iter()
        .map(|o| {
            let actual = actual(o.metric, o.currency.as_deref(), figures);
            ObjectiveResult {
                name: o.name.clone(),
                metric: sea_orm::ActiveEnum::to_value(&o.metric),
                weight: o.weight,
                currency: o.currency.clone(),
                target: o.target_value,
                actual,
                attainment: attainment(actual, o.target_value),
            }
        })
        .collect();
    let weights: Vec<(i32, Option<f64>)> =
        results.iter().map(|r| (r.weight, r.attainment)).collect();
    (results, weighted(&weights))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_objectives_read_their_currency_and_counts_read_counts() {
        let mut figures = Figures {
            won_registrations: 3,
            ..Default::default()
        };
        figures.revenue.add("USD", 15_000);
        figures.revenue.add("EUR", 7_000);
        assert_eq!(actual(PlanMetric::Revenue, Some("USD"), &figures), 15_000);
        assert_eq!(actual(PlanMetric::Revenue, Some("GBP"), &figures), 0);
        assert_eq!(actual(PlanMetric::WonRegistrations, None, &figures), 3);
        assert_eq!(attainment(15_000, 10_000), Some(1.5));
        assert_eq!(attainment(1, 0), None);
    }

    #[test]
    fn weighted_attainment_caps_each_objective_at_its_target() {
        // 3 × 1.0 (capped from 2.0) + 1 × 0.2 over a weight of 4.
        assert_eq!(weighted(&[(3, Some(2.0)), (1, Some(0.2))]), Some(0.8));
        assert_eq!(weighted(&[(1, Some(0.5)), (1, None)]), Some(0.25));
        assert_eq!(weighted(&[]), None);
    }

    #[test]
    fn a_need_is_met_by_enough_people_and_overdue_after_its_day() {
        let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).expect("a day");
        assert_eq!(need_status(2, 2, Some(day(1)), day(9)), NeedStatus::Met);
        assert_eq!(need_status(1, 2, Some(day(1)), day(9)), NeedStatus::Overdue);
        assert_eq!(need_status(1, 2, Some(day(9)), day(9)), NeedStatus::Open);
        assert_eq!(need_status(0, 1, None, day(9)), NeedStatus::Open);
    }
}
