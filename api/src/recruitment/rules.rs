//! The fit score as a pure function. Each criterion is rated 0-10 and weighted; the total
//! is out of 100 and is exactly the sum of the criteria's contributions, so the score can
//! always be explained line by line.

use rust_decimal::{Decimal, RoundingStrategy};

pub const MAX_RATING: i32 = 10;
pub const MAX_WEIGHT: i32 = 100;

#[derive(Debug, Clone, Copy)]
pub struct Rated {
    pub weight: i32,
    /// `None` when the prospect has not been rated on this criterion (counts as 0).
    pub value: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// 0-100, two decimals.
    pub total: Decimal,
    /// Per criterion, in input order, two decimals each.
    pub contributions: Vec<Decimal>,
}

fn two_places(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// `contribution_i = rating_i × weight_i × 10 / Σ weights`; `total = Σ contribution_i`.
pub fn fit_score(criteria: &[Rated]) -> Score {
    let weights: i64 = criteria.iter().map(|c| i64::from(c.weight.max(0))).sum();
    if weights == 0 {
        return Score {
            total: Decimal::ZERO,
            contributions: vec![Decimal::ZERO; criteria.len()],
        };
    }
    let contributions: Vec<Decimal> = criteria
        .iter()
        .map(|c| {
            let points = i64::from(c.value.unwrap_or(0).clamp(0, MAX_RATING))
                * i64::from(c.weight.max(0))
                * 100;
            two_places(Decimal::from(points) / Decimal::from(weights * i64::from(MAX_RATING)))
        })
        .collect();
    Score {
        total: contributions.iter().sum(),
        contributions,
    }
}

/// The score as stored for SQL ranking: hundredths of a point.
pub fn hundredths(total: Decimal) -> i32 {
    (total * Decimal::from(100)).trunc().try_into().unwrap_or(0)
}

/// A criterion key: lower snake case, 1-64 characters.
pub fn is_valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn a_perfect_prospect_scores_100() {
        let score = fit_score(&[
            Rated {
                weight: 30,
                value: Some(10),
            },
            Rated {
                weight: 70,
                value: Some(10),
            },
        ]);
        assert_eq!(score.total, d("100"));
        assert_eq!(score.contributions, vec![d("30"), d("70")]);
    }

    #[test]
    fn contributions_follow_weights_and_add_up_to_the_total() {
        // weights 20 + 30 + 50 = 100; ratings 5, 8, unrated.
        let score = fit_score(&[
            Rated {
                weight: 20,
                value: Some(5),
            },
            Rated {
                weight: 30,
                value: Some(8),
            },
            Rated {
                weight: 50,
                value: None,
            },
        ]);
        assert_eq!(score.contributions, vec![d("10"), d("24"), d("0")]);
        assert_eq!(score.total, d("34"));
    }

    #[test]
    fn weights_need_not_sum_to_100() {
        // 3 criteria of weight 1: each perfect rating is worth a third.
        let score = fit_score(&[
            Rated {
                weight: 1,
                value: Some(10),
            },
            Rated {
                weight: 1,
                value: Some(10),
            },
            Rated {
                weight: 1,
                value: Some(0),
            },
        ]);
        assert_eq!(score.contributions, vec![d("33.33"), d("33.33"), d("0")]);
        assert_eq!(score.total, d("66.66"));
        assert_eq!(hundredths(score.total), 6666);
    }

    #[test]
    fn zero_weight_means_no_score_and_ratings_are_clamped() {
        assert_eq!(
            fit_score(&[Rated {
                weight: 0,
                value: Some(10)
            }])
            .total,
            Decimal::ZERO
        );
        assert_eq!(
            fit_score(&[Rated {
                weight: 5,
                value: Some(99)
            }])
            .total,
            d("100")
        );
    }

    #[test]
    fn criterion_keys_are_snake_case() {
        assert!(is_valid_key("vertical_fit"));
        assert!(!is_valid_key("Vertical Fit"));
        assert!(!is_valid_key("1st"));
        assert!(!is_valid_key(""));
    }
}
