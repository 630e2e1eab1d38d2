//! Partner health, pure: five leading indicators, each normalised to 0-1 against a
//! baseline, weighted into a score out of 100 whose contributions add up to it exactly
//! (each rounded to the cent of a point, the score their sum), and a band.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What the score is made of, as read for one partner at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    /// Registrations submitted in the last 90 days, and in the 90 before.
    pub registrations_recent: u64,
    pub registrations_before: u64,
    /// Content views and downloads by its users in the last 90 days, and the 90 before.
    pub engagement_recent: u64,
    pub engagement_before: u64,
    /// Course completions by its users in the last 180 days.
    pub completions: u64,
    /// Certifications its users hold now, and of those, the ones expiring within 60 days.
    pub certifications: u64,
    pub certifications_expiring: u64,
    /// Days since its last won deal (none in the last two years: `None`).
    pub days_since_last_win: Option<i64>,
    /// Its won deals in the last 365 days.
    pub wins_last_year: u64,
    /// Logins of its users in the last 30 days, and the 30 before.
    pub logins_recent: u64,
    pub logins_before: u64,
}

/// Weights (0-100 each, not all zero) and band thresholds, set by channel managers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthModel {
    pub registration_trend: u32,
    pub engagement_trend: u32,
    pub training: u32,
    pub deal_recency: u32,
    pub portal_activity: u32,
    /// A score at or above this is `HEALTHY`.
    pub healthy_at: u32,
    /// At or above this (and below `healthy_at`) is `WATCH`; below it, `AT_RISK`.
    pub watch_at: u32,
    /// Training's target: certifications held (not expiring) plus recent completions.
    pub training_target: u32,
    /// A partner's usual gap between won deals when it won fewer than two in a year.
    pub default_deal_gap_days: u32,
}

impl Default for HealthModel {
    fn default() -> Self {
        HealthModel {
            registration_trend: 30,
            engagement_trend: 20,
            training: 15,
            deal_recency: 25,
            portal_activity: 10,
            healthy_at: 70,
            watch_at: 40,
            training_target: 2,
            default_deal_gap_days: 180,
        }
    }
}

impl HealthModel {
    /// What is wrong with the model: (field, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        for (field, weight) in self.weights() {
            if weight > 100 {
                problems.push((field, "must be between 0 and 100".to_owned()));
            }
        }
        if self.weights().iter().all(|(_, w)| *w == 0) {
            problems.push(("weights", "at least one weight must be above 0".to_owned()));
        }
        if self.healthy_at > 100 || self.watch_at >= self.healthy_at {
            problems.push((
                "watchAt",
                "0 ≤ watchAt < healthyAt ≤ 100 must hold".to_owned(),
            ));
        }
        if self.training_target == 0 || self.training_target > 100 {
            problems.push(("trainingTarget", "must be between 1 and 100".to_owned()));
        }
        if !(7..=730).contains(&self.default_deal_gap_days) {
            problems.push(("defaultDealGapDays", "must be between 7 and 730".to_owned()));
        }
        problems
    }

    fn weights(&self) -> [(&'static str, u32); 5] {
        [
            ("weights.registrationTrend", self.registration_trend),
            ("weights.engagementTrend", self.engagement_trend),
            ("weights.training", self.training),
            ("weights.dealRecency", self.deal_recency),
            ("weights.portalActivity", self.portal_activity),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Band {
    Healthy,
    Watch,
    AtRisk,
}

/// One indicator's part of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// `registrationTrend`, `engagementTrend`, `training`, `dealRecency`, `portalActivity`.
    pub name: String,
    pub value: f64,
    /// What the value is measured against (the earlier window, the target, the usual gap).
    pub baseline: f64,
    /// 0-1: how well the value holds up against the baseline.
    pub normalized: f64,
    pub weight: u32,
    /// normalized × weight × 100 / Σ weights, to two decimals.
    pub contribution: Decimal,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Σ contributions, 0-100.
    pub score: Decimal,
    pub band: Band,
    pub factors: Vec<Factor>,
}

/// A trend: the recent window against the one before (nothing in either is no activity).
pub fn trend(recent: u64, before: u64) -> f64 {
    match (recent, before) {
        (0, _) => 0.0,
        (_, 0) => 1.0,
        _ => (recent as f64 / before as f64).min(1.0),
    }
}

/// Days since the last win against the usual gap: 1 within it, falling to 0 at three gaps.
pub fn recency(days_since: Option<i64>, usual_gap: f64) -> f64 {
    match days_since {
        None => 0.0,
        Some(days) if (days as f64) <= usual_gap => 1.0,
        Some(days) => (1.0 - (days as f64 - usual_gap) / (2.0 * usual_gap)).max(0.0),
    }
}

/// The partner's usual gap between won deals: a year over its wins in the last year, or the
/// model's default when it won fewer than two.
pub fn usual_gap(wins_last_year: u64, default_days: u32) -> f64 {
    if wins_last_year >= 2 {
        (365.0 / wins_last_year as f64 * 10.0).round() / 10.0
    } else {
        f64::from(default_days)
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

pub fn score(signals: &Signals, model: &HealthModel) -> Health {
    scored(signals, model, true)
}

/// The score, band and factors without their explanations: what ranking thousands of
/// partners needs (the same numbers as `score`, without writing five sentences each).
pub fn rank(signals: &Signals, model: &HealthModel) -> Health {
    scored(signals, model, false)
}

fn scored(signals: &Signals, model: &HealthModel, explain: bool) -> Health {
    let text = |write: &dyn Fn() -> String| if explain { write() } else { String::new() };
    let s = signals;
    let gap = usual_gap(s.wins_last_year, model.default_deal_gap_days);
    let held = s.certifications.saturating_sub(s.certifications_expiring) + s.completions;
    let raw: [(&str, f64, f64, f64, u32, String); 5] = [
        (
            "registrationTrend",
            s.registrations_recent as f64,
            s.registrations_before as f64,
            trend(s.registrations_recent, s.registrations_before),
            model.registration_trend,
            text(&|| {
                format!(
                    "{} registrations in the last 90 days against {} in the 90 before ({})",
                    s.registrations_recent,
                    s.registrations_before,
                    percent(trend(s.registrations_recent, s.registrations_before))
                )
            }),
        ),
        (
            "engagementTrend",
            s.engagement_recent as f64,
            s.engagement_before as f64,
            trend(s.engagement_recent, s.engagement_before),
            model.engagement_trend,
            text(&|| {
                format!(
                "{} content views and downloads in the last 90 days against {} in the 90 before ({})",
                s.engagement_recent,
                s.engagement_before,
                percent(trend(s.engagement_recent, s.engagement_before))
            )
            }),
        ),
        (
            "training",
            held as f64,
            f64::from(model.training_target),
            (held as f64 / f64::from(model.training_target.max(1))).min(1.0),
            model.training,
            text(&|| {
                format!(
                "{} certifications held ({} expiring within 60 days) and {} course completions in 180 days, against a target of {}",
                s.certifications, s.certifications_expiring, s.completions, model.training_target
            )
            }),
        ),
        (
            "dealRecency",
            s.days_since_last_win.map_or(-1.0, |d| d as f64),
            gap,
            recency(s.days_since_last_win, gap),
            model.deal_recency,
            match s.days_since_last_win {
                Some(days) => text(&|| {
                    format!("{days} days since the last won deal; its usual gap is {gap} days")
                }),
                None => text(&|| "no won deal in the last two years".to_owned()),
            },
        ),
        (
            "portalActivity",
            s.logins_recent as f64,
            s.logins_before as f64,
            trend(s.logins_recent, s.logins_before),
            model.portal_activity,
            text(&|| {
                format!(
                    "{} logins in the last 30 days against {} in the 30 before",
                    s.logins_recent, s.logins_before
                )
            }),
        ),
    ];
    let total_weight: u32 = raw.iter().map(|r| r.4).sum::<u32>().max(1);
    let factors: Vec<Factor> = raw
        .into_iter()
        .map(|(name, value, baseline, normalized, weight, explanation)| {
            let points = normalized * f64::from(weight) * 100.0 / f64::from(total_weight);
            Factor {
                name: name.to_owned(),
                value,
                baseline,
                normalized: (normalized * 10_000.0).round() / 10_000.0,
                weight,
                contribution: two_places(Decimal::from_f64(points).unwrap_or_default()),
                explanation,
            }
        })
        .collect();
    let score = two_places(factors.iter().map(|f| f.contribution).sum());
    Health {
        band: band_of(score, model),
        score,
        factors,
    }
}

/// Rounded and shown to two decimals (`45.00`, not `45`).
fn two_places(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp(2);
    rounded.rescale(2);
    rounded
}

pub fn band_of(score: Decimal, model: &HealthModel) -> Band {
    if score >= Decimal::from(model.healthy_at) {
        Band::Healthy
    } else if score >= Decimal::from(model.watch_at) {
        Band::Watch
    } else {
        Band::AtRisk
    }
}

/// The factor whose contribution fell most from `earlier` to `now` (its name and the
/// change), or, without an earlier health, the one that costs most points now.
pub fn moved_most(now: &Health, earlier: Option<&Health>) -> (String, Option<Decimal>) {
    match earlier {
        Some(earlier) => {
            let change = |f: &Factor| {
                let before = earlier
                    .factors
                    .iter()
                    .find(|e| e.name == f.name)
                    .map_or(Decimal::ZERO, |e| e.contribution);
                f.contribution - before
            };
            let worst = now
                .factors
                .iter()
                .min_by_key(|f| change(f))
                .expect("five factors");
            (worst.name.clone(), Some(change(worst)))
        }
        None => {
            let total: u32 = now.factors.iter().map(|f| f.weight).sum::<u32>().max(1);
            let shortfall = |f: &Factor| {
                Decimal::from(f.weight) * Decimal::from(100) / Decimal::from(total) - f.contribution
            };
            let worst = now
                .factors
                .iter()
                .max_by_key(|f| shortfall(f))
                .expect("five factors");
            (worst.name.clone(), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thriving() -> Signals {
        Signals {
            registrations_recent: 12,
            registrations_before: 10,
            engagement_recent: 40,
            engagement_before: 30,
            completions: 1,
            certifications: 2,
            certifications_expiring: 0,
            days_since_last_win: Some(10),
            wins_last_year: 12,
            logins_recent: 20,
            logins_before: 18,
        }
    }

    #[test]
    fn a_thriving_partner_scores_100_and_is_healthy() {
        let health = score(&thriving(), &HealthModel::default());
        assert_eq!(health.score.to_string(), "100.00");
        assert_eq!(health.band, Band::Healthy);
    }

    #[test]
    fn contributions_add_up_to_the_score_whatever_the_weights() {
        let signals = Signals {
            registrations_recent: 3,
            registrations_before: 7,
            engagement_recent: 1,
            engagement_before: 3,
            days_since_last_win: Some(200),
            wins_last_year: 3,
            ..Signals::default()
        };
        for weights in [(30, 20, 15, 25, 10), (1, 1, 1, 1, 1), (7, 0, 13, 0, 3)] {
            let model = HealthModel {
                registration_trend: weights.0,
                engagement_trend: weights.1,
                training: weights.2,
                deal_recency: weights.3,
                portal_activity: weights.4,
                ..HealthModel::default()
            };
            let health = score(&signals, &model);
            let sum: Decimal = health.factors.iter().map(|f| f.contribution).sum();
            assert_eq!(sum, health.score);
        }
    }

    #[test]
    fn a_partner_going_dark_is_at_risk() {
        let dark = Signals {
            registrations_recent: 1,
            registrations_before: 9,
            engagement_recent: 2,
            engagement_before: 30,
            days_since_last_win: Some(150),
            wins_last_year: 6,
            logins_recent: 0,
            logins_before: 6,
            ..Signals::default()
        };
        let health = score(&dark, &HealthModel::default());
        assert_eq!(health.band, Band::AtRisk, "{health:?}");
    }

    #[test]
    fn trends_and_recency_are_bounded() {
        assert_eq!(trend(0, 0), 0.0);
        assert_eq!(trend(5, 0), 1.0);
        assert_eq!(trend(5, 10), 0.5);
        assert_eq!(trend(20, 10), 1.0);
        assert_eq!(recency(Some(30), 60.0), 1.0);
        assert_eq!(recency(Some(120), 60.0), 0.5);
        assert_eq!(recency(Some(1_000), 60.0), 0.0);
        assert_eq!(recency(None, 60.0), 0.0);
        assert_eq!(usual_gap(4, 180), 91.3);
        assert_eq!(usual_gap(1, 180), 180.0);
    }

    #[test]
    fn bands_follow_the_thresholds() {
        let model = HealthModel::default();
        assert_eq!(band_of(Decimal::from(70), &model), Band::Healthy);
        assert_eq!(band_of(Decimal::from(40), &model), Band::Watch);
        assert_eq!(band_of(Decimal::new(3999, 2), &model), Band::AtRisk);
    }

    #[test]
    fn a_model_without_weight_or_with_crossed_thresholds_is_refused() {
        let zero = HealthModel {
            registration_trend: 0,
            engagement_trend: 0,
            training: 0,
            deal_recency: 0,
            portal_activity: 0,
            ..HealthModel::default()
        };
        assert!(!zero.problems().is_empty());
        let crossed = HealthModel {
            watch_at: 80,
            ..HealthModel::default()
        };
        assert_eq!(crossed.problems()[0].0, "watchAt");
        assert!(HealthModel::default().problems().is_empty());
    }

    #[test]
    fn the_factor_that_moved_most_is_the_one_that_fell_most() {
        let model = HealthModel::default();
        let before = score(&thriving(), &model);
        let now = score(
            &Signals {
                registrations_recent: 2,
                ..thriving()
            },
            &model,
        );
        let (name, change) = moved_most(&now, Some(&before));
        assert_eq!(name, "registrationTrend");
        assert!(change.unwrap() < Decimal::ZERO);
        let (name, change) = moved_most(&now, None);
        assert_eq!(name, "registrationTrend");
        assert!(change.is_none());
    }
}
