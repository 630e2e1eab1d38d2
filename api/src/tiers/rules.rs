//! Tier progress as pure functions: which criteria of a tier a partner's metrics meet.

use entity::tier;

/// Program default deal-registration protection when a tier sets none.
pub const DEFAULT_PROTECTION_DAYS: i32 = 90;
/// The protection periods a tier may grant (0 = no protection).
pub const PROTECTION_CHOICES: [i32; 5] = [0, 30, 60, 90, 120];

/// What a partner achieved over a tier's trailing period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    pub won_revenue_minor: i64,
    pub approved_registrations: i64,
    pub won_deals: i64,
    pub active_certifications: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    WonRevenue,
    ApprovedRegistrations,
    WonDeals,
    ActiveCertifications,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub criterion: Criterion,
    /// In minor units for revenue, a count otherwise.
    pub required: i64,
    pub actual: i64,
    pub met: bool,
}

/// Every criterion of `tier`, checked against `metrics`.
pub fn checks(tier: &tier::Model, metrics: &Metrics) -> Vec<Check> {
    [
        (
            Criterion::WonRevenue,
            tier.min_won_revenue_minor,
            metrics.won_revenue_minor,
        ),
        (
            Criterion::ApprovedRegistrations,
            tier.min_approved_registrations.into(),
            metrics.approved_registrations,
        ),
        (
            Criterion::WonDeals,
            tier.min_won_deals.into(),
            metrics.won_deals,
        ),
        (
            Criterion::ActiveCertifications,
            tier.min_active_certifications.into(),
            metrics.active_certifications,
        ),
    ]
    .into_iter()
    .map(|(criterion, required, actual)| Check {
        criterion,
        required,
        actual,
        met: actual >= required,
    })
    .collect()
}

pub fn qualifies(tier: &tier::Model, metrics: &Metrics) -> bool {
    checks(tier, metrics).iter().all(|c| c.met)
}

pub struct Progress<'a> {
    pub current: Option<&'a tier::Model>,
    pub next: Option<&'a tier::Model>,
    /// The next tier's criteria against the partner's metrics.
    pub next_checks: Vec<Check>,
    /// The highest tier above the current one whose criteria are all met.
    pub eligible: Option<&'a tier::Model>,
}

/// Progress of a partner in `current` (any tier list order) given its metrics.
pub fn progress<'a>(
    tiers: &'a [tier::Model],
    current: Option<i64>,
    metrics: &Metrics,
) -> Progress<'a> {
    let mut ranked: Vec<&tier::Model> = tiers.iter().collect();
    ranked.sort_by_key(|t| t.rank);
    let current = current.and_then(|id| ranked.iter().copied().find(|t| t.id == id));
    let current_rank = current.map_or(0, |t| t.rank);
    let above: Vec<&tier::Model> = ranked
        .into_iter()
        .filter(|t| t.rank > current_rank)
        .collect();
    let next = above.first().copied();
    let eligible = above.iter().rev().copied().find(|t| qualifies(t, metrics));
    Progress {
        current,
        next,
        next_checks: next.map(|t| checks(t, metrics)).unwrap_or_default(),
        eligible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn tier(
        id: i64,
        rank: i32,
        revenue: i64,
        registrations: i32,
        certifications: i32,
    ) -> tier::Model {
        tier::Model {
            id,
            name: format!("T{rank}"),
            rank,
            description: None,
            protection_days: None,
            rebate_eligible: false,
            mdf_eligible: false,
            min_won_revenue_minor: revenue,
            currency: "USD".into(),
            min_approved_registrations: registrations,
            min_won_deals: 0,
            min_active_certifications: certifications,
            criteria_period_months: 12,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    fn program() -> Vec<tier::Model> {
        vec![
            tier(4, 4, 50_000_000, 20, 4),
            tier(1, 1, 0, 0, 0),
            tier(2, 2, 0, 0, 1),
            tier(3, 3, 10_000_000, 5, 2),
        ]
    }

    #[test]
    fn next_tier_and_its_unmet_criteria() {
        let tiers = program();
        let metrics = Metrics {
            active_certifications: 0,
            ..Default::default()
        };
        let progress = progress(&tiers, Some(1), &metrics);
        assert_eq!(progress.current.unwrap().rank, 1);
        assert_eq!(progress.next.unwrap().rank, 2);
        let certs = progress
            .next_checks
            .iter()
            .find(|c| c.criterion == Criterion::ActiveCertifications)
            .unwrap();
        assert_eq!((certs.required, certs.actual, certs.met), (1, 0, false));
        assert!(progress.eligible.is_none());
    }

    #[test]
    fn crossing_every_threshold_flags_eligibility_for_the_highest_tier_reached() {
        let tiers = program();
        let metrics = Metrics {
            won_revenue_minor: 10_000_000,
            approved_registrations: 5,
            won_deals: 0,
            active_certifications: 2,
        };
        let progress = progress(&tiers, Some(1), &metrics);
        assert_eq!(
            progress.eligible.unwrap().rank,
            3,
            "meets tiers 2 and 3, not 4"
        );
        // Exactly at the threshold counts as met; one short does not.
        let short = Metrics {
            won_revenue_minor: 9_999_999,
            ..metrics
        };
        assert_eq!(
            super::progress(&tiers, Some(1), &short)
                .eligible
                .unwrap()
                .rank,
            2
        );
    }

    #[test]
    fn the_top_tier_has_nothing_next() {
        let tiers = program();
        let progress = progress(&tiers, Some(4), &Metrics::default());
        assert!(progress.next.is_none());
        assert!(progress.next_checks.is_empty());
        assert!(progress.eligible.is_none());
    }

    #[test]
    fn a_partner_without_a_tier_progresses_towards_the_lowest() {
        let tiers = program();
        let progress = progress(&tiers, None, &Metrics::default());
        assert_eq!(progress.next.unwrap().rank, 1);
        assert_eq!(progress.eligible.unwrap().rank, 1);
    }
}
