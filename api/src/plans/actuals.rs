//! A plan's attainment, pure: actual revenue per quarter and currency against its targets.

use std::collections::BTreeMap;

use crate::metrics::formulas::rate;

/// One quarter's figures in one currency (minor units).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuarterFigures {
    pub quarter: String,
    pub currency: String,
    pub target: Option<i64>,
    pub actual: i64,
    /// actual / target, four decimals (none without a target).
    pub attainment: Option<f64>,
}

/// Every quarter and currency with a target or an actual, in order.
pub fn by_quarter(
    targets: &[(String, String, i64)],
    actuals: &[(String, String, i64)],
) -> Vec<QuarterFigures> {
    let mut rows: BTreeMap<(String, String), (Option<i64>, i64)> = BTreeMap::new();
    for (quarter, currency, amount) in targets {
        rows.entry((quarter.clone(), currency.clone()))
            .or_default()
            .0 = Some(*amount);
    }
    for (quarter, currency, amount) in actuals {
        rows.entry((quarter.clone(), currency.clone()))
            .or_default()
            .1 += amount;
    }
    rows.into_iter()
        .map(|((quarter, currency), (target, actual))| QuarterFigures {
            quarter,
            currency,
            target,
            actual,
            attainment: target.and_then(|t| rate(actual.max(0) as u64, t.max(0) as u64)),
        })
        .collect()
}

/// Whether `label` is a quarter (`2027-Q1`).
pub fn is_quarter(label: &str) -> bool {
    let Some((year, q)) = label.split_once("-Q") else {
        return false;
    };
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && matches!(q, "1" | "2" | "3" | "4")
}

/// The quarter after `label` (`2027-Q4` → `2028-Q1`).
pub fn next_quarter(label: &str) -> Option<String> {
    if !is_quarter(label) {
        return None;
    }
    let (year, q) = label.split_once("-Q")?;
    let (year, q): (i32, u32) = (year.parse().ok()?, q.parse().ok()?);
    Some(if q == 4 {
        format!("{}-Q1", year + 1)
    } else {
        format!("{year}-Q{}", q + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attainment_is_actual_over_target_per_quarter_and_currency() {
        let targets = vec![("2027-Q1".to_owned(), "USD".to_owned(), 100_000)];
        let actuals = vec![
            ("2027-Q1".to_owned(), "USD".to_owned(), 30_000),
            ("2027-Q1".to_owned(), "USD".to_owned(), 20_000),
            ("2027-Q2".to_owned(), "EUR".to_owned(), 5_000),
        ];
        let rows = by_quarter(&targets, &actuals);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].actual, 50_000);
        assert_eq!(rows[0].attainment, Some(0.5));
        assert_eq!(rows[1].target, None);
        assert_eq!(rows[1].attainment, None);
        assert!(is_quarter("2027-Q4"));
        assert!(!is_quarter("2027-Q5") && !is_quarter("27-Q1") && !is_quarter("2027Q1"));
        assert_eq!(next_quarter("2027-Q4").as_deref(), Some("2028-Q1"));
        assert_eq!(next_quarter("2027-Q2").as_deref(), Some("2027-Q3"));
        assert_eq!(next_quarter("2027-Q9"), None);
    }
}
