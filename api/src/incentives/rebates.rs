//! Rebate maths as pure functions over exact decimals.
//!
//! - retroactive: `earned = rate(tier reached by total) × min(total, cap)`;
//! - banded: `earned = Σ rate_i × clamp(min(total, cap) − min_i, 0, max_i − min_i)`.
//!
//! Results are rounded half-even to the currency's minor unit (`money::round`).

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Retroactive,
    Banded,
}

/// `[min, max) → rate`; `max: None` is open-ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub min: Decimal,
    pub max: Option<Decimal>,
    pub rate: Decimal,
}

/// Why a set of bands is unusable, if it is.
pub fn bands_problem(bands: &[Band]) -> Option<String> {
    if bands.is_empty() {
        return Some("give at least one tier".into());
    }
    for (i, band) in bands.iter().enumerate() {
        if band.min < Decimal::ZERO {
            return Some(format!("tier {i}: min must not be negative"));
        }
        if band.max.is_some_and(|max| max <= band.min) {
            return Some(format!("tier {i}: max must be above min"));
        }
        if band.rate < Decimal::ZERO || band.rate > Decimal::ONE {
            return Some(format!(
                "tier {i}: rate is a fraction between 0 and 1 (0.02 = 2%)"
            ));
        }
        if i > 0 && bands[i - 1].max != Some(band.min) {
            return Some(format!("tier {i}: must start where tier {} ends", i - 1));
        }
        if band.max.is_none() && i + 1 < bands.len() {
            return Some(format!("tier {i}: only the last tier may be open-ended"));
        }
    }
    (bands[0].min != Decimal::ZERO).then(|| "the first tier must start at 0".into())
}

/// The band `total` falls in, if any.
pub fn band_reached(bands: &[Band], total: Decimal) -> Option<&Band> {
    bands.iter().rev().find(|b| total >= b.min)
}

/// The next band's threshold above `total`.
pub fn next_threshold(bands: &[Band], total: Decimal) -> Option<Decimal> {
    bands.iter().map(|b| b.min).find(|min| *min > total)
}

pub fn earned(method: Method, bands: &[Band], total: Decimal, cap: Option<Decimal>) -> Decimal {
    let counted = cap.map_or(total, |cap| total.min(cap)).max(Decimal::ZERO);
    match method {
        Method::Retroactive => {
            band_reached(bands, total).map_or(Decimal::ZERO, |b| b.rate * counted)
        }
        Method::Banded => bands
            .iter()
            .map(|b| {
                let upper = b.max.map_or(counted, |max| counted.min(max));
                b.rate * (upper - b.min).max(Decimal::ZERO)
            })
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn program() -> Vec<Band> {
        vec![
            Band {
                min: d("0"),
                max: Some(d("100000")),
                rate: d("0.02"),
            },
            Band {
                min: d("100000"),
                max: None,
                rate: d("0.04"),
            },
        ]
    }

    #[test]
    fn retroactive_pays_the_reached_rate_on_everything() {
        assert_eq!(
            earned(Method::Retroactive, &program(), d("110000.00"), None),
            d("4400.0000")
        );
        assert_eq!(
            earned(Method::Retroactive, &program(), d("250000.00"), None),
            d("10000")
        );
        assert_eq!(
            earned(Method::Retroactive, &program(), d("99999.99"), None),
            d("1999.9998")
        );
    }

    #[test]
    fn banded_pays_each_band_its_own_rate() {
        assert_eq!(
            earned(Method::Banded, &program(), d("110000.00"), None),
            d("2400")
        );
        assert_eq!(
            earned(Method::Banded, &program(), d("50000"), None),
            d("1000")
        );
    }

    #[test]
    fn a_cap_limits_the_volume_counted() {
        assert_eq!(
            earned(
                Method::Retroactive,
                &program(),
                d("250000"),
                Some(d("150000"))
            ),
            d("6000")
        );
        assert_eq!(
            earned(Method::Banded, &program(), d("250000"), Some(d("150000"))),
            d("4000")
        );
    }

    #[test]
    fn thresholds_and_validation() {
        assert_eq!(next_threshold(&program(), d("60000")), Some(d("100000")));
        assert_eq!(next_threshold(&program(), d("160000")), None);
        assert!(bands_problem(&program()).is_none());
        let gap = vec![
            Band {
                min: d("0"),
                max: Some(d("10")),
                rate: d("0.1"),
            },
            Band {
                min: d("20"),
                max: None,
                rate: d("0.2"),
            },
        ];
        assert!(bands_problem(&gap).is_some());
        let percent = vec![Band {
            min: d("0"),
            max: None,
            rate: d("2"),
        }];
        assert!(bands_problem(&percent).is_some(), "2 would be 200%");
        assert!(bands_problem(&[]).is_some());
    }
}
