//! The program metrics' arithmetic, pure: periods and their windows, medians and
//! percentiles of day counts, rates, money per currency and joining cohorts. The README's
//! "Channel metrics" section states each rule in words; these functions are those words.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::money::Money;

/// A half-open span of time `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// Whether a day (taken at its midnight, UTC) falls in the window.
    pub fn contains_day(&self, day: NaiveDate) -> bool {
        let start = midnight(day);
        start >= self.from && start < self.to
    }

    /// The window of the same length just before this one.
    pub fn previous(&self) -> Window {
        let length = self.to - self.from;
        Window {
            from: self.from - length,
            to: self.from,
        }
    }

    /// The calendar month before this window's first month (a monthly series' previous
    /// window for its first month).
    pub fn previous_month(&self) -> Window {
        let start = month_start(self.from);
        Window {
            from: month_start(start - Duration::days(1)),
            to: start,
        }
    }

    /// `YYYY-MM` of the window's start.
    pub fn month_label(&self) -> String {
        format!("{:04}-{:02}", self.from.year(), self.from.month())
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The first instant of `at`'s calendar month (UTC).
pub fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .expect("the first of a month exists")
}

/// `[from, to)` cut at calendar month boundaries: the first and last months may be partial.
pub fn months(period: Window) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut start = period.from;
    while start < period.to {
        let next = month_start(month_start(start) + Duration::days(32));
        let end = next.min(period.to);
        windows.push(Window {
            from: start,
            to: end,
        });
        start = end;
    }
    windows
}

/// A count of values by whole unit (days or hours), so a median over a year of deals is
/// computed from a few hundred rows rather than each deal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram(BTreeMap<i64, u64>);

impl Histogram {
    pub fn add(&mut self, value: i64, count: u64) {
        if count > 0 {
            *self.0.entry(value).or_default() += count;
        }
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (value, count) in &other.0 {
            self.add(*value, *count);
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().sum()
    }

    /// The `rank`-th smallest value (1-based).
    fn ranked(&self, rank: u64) -> Option<i64> {
        let mut seen = 0;
        for (value, count) in &self.0 {
            seen += count;
            if seen >= rank {
                return Some(*value);
            }
        }
        None
    }

    /// The median: the middle value, or the mean of the two middle values.
    pub fn median(&self) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let low = self.ranked(n.div_ceil(2))?;
        let high = self.ranked(n / 2 + 1)?;
        Some(if n % 2 == 1 {
            low as f64
        } else {
            (low + high) as f64 / 2.0
        })
    }

    /// The nearest-rank percentile: the smallest value with at least `p`% of the values at
    /// or below it.
    pub fn percentile(&self, p: u64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = (n * p).div_ceil(100).max(1);
        self.ranked(rank).map(|v| v as f64)
    }
}

/// `part / whole`, rounded to four decimals; none of nothing.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round4(part as f64 / whole as f64))
}

pub fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Amounts per currency, in minor units (exact).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amounts(BTreeMap<String, i128>);

impl Amounts {
    pub fn add(&mut self, currency: &str, minor: i64) {
        *self.0.entry(currency.to_owned()).or_default() += i128::from(minor);
    }

    pub fn merge(&mut self, other: &Amounts) {
        for (currency, minor) in &other.0 {
            *self.0.entry(currency.clone()).or_default() += minor;
        }
    }

    pub fn get(&self, currency: &str) -> i128 {
        self.0.get(currency).copied().unwrap_or(0)
    }

    pub fn currencies(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// One amount per currency, by currency code.
    pub fn to_money(&self) -> Vec<Money> {
        self.0
            .iter()
            .map(|(currency, minor)| money_of(*minor, currency))
            .collect()
    }

    /// Each currency's amount divided by `counts` of that currency (half-even to the
    /// currency's minor unit).
    pub fn averaged(&self, counts: &BTreeMap<String, u64>) -> Vec<Money> {
        self.0
            .iter()
            .filter_map(|(currency, minor)| {
                let n = *counts.get(currency)?;
                (n > 0).then(|| {
                    let total = money_of(*minor, currency).amount;
                    Money::exact(total / Decimal::from(n), currency)
                })
            })
            .collect()
    }
}

fn money_of(minor: i128, currency: &str) -> Money {
    let digits = crate::money::minor_digits(currency).unwrap_or(2);
    Money {
        amount: Decimal::from_i128_with_scale(minor, digits),
        currency: currency.to_owned(),
    }
}

/// Whole days from a partner's start to a moment (negative if before it).
pub fn days_since(start: NaiveDate, at: DateTime<Utc>) -> i64 {
    (at.date_naive() - start).num_days()
}

/// `YYYY-Qn` of a day.
pub fn quarter_label(day: NaiveDate) -> String {
    format!("{}-Q{}", day.year(), (day.month() - 1) / 3 + 1)
}

/// How long partners who joined in a window took to their first won deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cohort {
    pub label: String,
    pub joined: u64,
    pub with_deal: u64,
    pub days: Histogram,
}

/// Partners' joining day and first won deal, grouped into cohorts by joining quarter (in
/// order), with each partner's days to its first deal.
pub fn cohorts(partners: &[(NaiveDate, Option<DateTime<Utc>>)]) -> Vec<Cohort> {
    let mut by_quarter: BTreeMap<String, Cohort> = BTreeMap::new();
    for (joined, first_win) in partners {
        let label = quarter_label(*joined);
        let cohort = by_quarter.entry(label.clone()).or_insert_with(|| Cohort {
            label,
            ..Cohort::default()
        });
        cohort.joined += 1;
        if let Some(at) = first_win {
            cohort.with_deal += 1;
            cohort.days.add(days_since(*joined, *at).max(0), 1);
        }
    }
    by_quarter.into_values().collect()
}

/// Of the partners producing before, the share still producing now.
pub fn retained(before: &BTreeSet<i64>, now: &BTreeSet<i64>) -> u64 {
    before.intersection(now).count() as u64
}

/// How a won direct opportunity's amount is credited to the partners that influenced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfluenceCredit {
    /// Each influencing partner is credited the whole amount (the program counts it once).
    #[default]
    Whole,
    /// The amount is divided evenly among the influencing partners, in minor units; the
    /// units left over go one each to the partners with the lowest ids.
    Split,
}

/// Each of `partners`' share of `amount` (minor units) split evenly: the shares add up to
/// the amount exactly. A partner listed twice is counted once.
pub fn split_evenly(amount: i64, partners: &[i64]) -> Vec<(i64, i64)> {
    let mut ids: Vec<i64> = partners.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return vec![];
    }
    let n = ids.len() as i64;
    let (share, left) = (amount.div_euclid(n), amount.rem_euclid(n));
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| (id, share + i64::from((i as i64) < left)))
        .collect()
}

/// What a group of partners (`member`) is credited of an opportunity's `amount` that
/// `influencers` influenced: the whole amount, or the members' shares of an even split.
pub fn influence_credited(
    credit: InfluenceCredit,
    amount: i64,
    influencers: &[i64],
    member: impl Fn(i64) -> bool,
) -> i64 {
    match credit {
        InfluenceCredit::Whole => amount,
        InfluenceCredit::Split => split_evenly(amount, influencers)
            .into_iter()
            .filter(|(p, _)| member(*p))
            .map(|(_, share)| share)
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let mut h = Histogram::default();
        for v in [5, 1, 3] {
            h.add(v, 1);
        }
        assert_eq!(h.median(), Some(3.0));
        h.add(10, 1);
        assert_eq!(h.median(), Some(4.0));
        assert_eq!(Histogram::default().median(), None);
    }

    #[test]
    fn median_with_repeated_values() {
        let mut h = Histogram::default();
        h.add(2, 3);
        h.add(7, 1);
        assert_eq!(h.median(), Some(2.0));
    }

    #[test]
    fn nearest_rank_percentile() {
        let mut h = Histogram::default();
        for v in 1..=4 {
            h.add(v * 10, 1);
        }
        assert_eq!(h.percentile(75), Some(30.0));
        assert_eq!(h.percentile(100), Some(40.0));
        h.add(50, 1);
        assert_eq!(h.percentile(75), Some(40.0));
    }

    #[test]
    fn rates_round_and_refuse_nothing() {
        assert_eq!(rate(1, 3), Some(0.3333));
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(2, 2), Some(1.0));
    }

    #[test]
    fn months_cut_a_period_at_calendar_boundaries() {
        let period = Window {
            from: at(2026, 1, 15),
            to: at(2026, 3, 10),
        };
        let cut = months(period);
        assert_eq!(cut.len(), 3);
        assert_eq!(cut[0].to, at(2026, 2, 1));
        assert_eq!(cut[1].month_label(), "2026-02");
        assert_eq!(cut[2].to, at(2026, 3, 10));
        assert_eq!(
            cut[0].previous_month(),
            Window {
                from: at(2025, 12, 1),
                to: at(2026, 1, 1)
            }
        );
    }

    #[test]
    fn previous_window_has_the_same_length() {
        let w = Window {
            from: at(2026, 4, 1),
            to: at(2026, 7, 1),
        };
        let p = w.previous();
        assert_eq!(p.to, w.from);
        assert_eq!(p.to - p.from, w.to - w.from);
    }

    #[test]
    fn amounts_stay_exact_and_average_half_even() {
        let mut a = Amounts::default();
        a.add("USD", 100);
        a.add("USD", 101);
        a.add("JPY", 5);
        let money = a.to_money();
        assert_eq!(money[0].currency, "JPY");
        assert_eq!(money[1].amount.to_string(), "2.01");
        let counts = BTreeMap::from([("USD".to_owned(), 2u64)]);
        let averaged = a.averaged(&counts);
        assert_eq!(averaged.len(), 1);
        assert_eq!(averaged[0].amount.to_string(), "1.00");
    }

    #[test]
    fn cohorts_by_joining_quarter() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let partners = [
            (d(1, 10), Some(at(2026, 2, 9))),
            (d(2, 1), None),
            (d(4, 1), Some(at(2026, 4, 11))),
        ];
        let c = cohorts(&partners);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].label, "2026-Q1");
        assert_eq!((c[0].joined, c[0].with_deal), (2, 1));
        assert_eq!(c[0].days.median(), Some(30.0));
        assert_eq!(c[1].days.median(), Some(10.0));
    }

    #[test]
    fn retention_counts_the_overlap() {
        let before = BTreeSet::from([1, 2, 3]);
        let now = BTreeSet::from([2, 3, 4]);
        assert_eq!(retained(&before, &now), 2);
    }

    #[test]
    fn an_even_split_adds_up_to_the_amount_and_gives_the_rest_to_the_lowest_ids() {
        assert_eq!(
            split_evenly(1_000, &[7, 3, 5]),
            vec![(3, 334), (5, 333), (7, 333)]
        );
        assert_eq!(split_evenly(10, &[2, 2, 1]), vec![(1, 5), (2, 5)]);
        assert_eq!(split_evenly(0, &[1, 2]), vec![(1, 0), (2, 0)]);
        assert!(split_evenly(500, &[]).is_empty());
        let shares = split_evenly(99_999_999_999, &[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(shares.iter().map(|s| s.1).sum::<i64>(), 99_999_999_999);
    }
}
