//! Money: an exact decimal amount and an ISO 4217 currency. Stored as integer minor units
//! (cents for USD), so sums in SQL stay exact on SQLite and PostgreSQL alike.
//! Rounding rule, stated once: half-even to the currency's minor unit.

use async_graphql::{InputObject, SimpleObject};
use rust_decimal::{Decimal, RoundingStrategy};

/// Currencies the program accepts, with their number of minor-unit digits.
const CURRENCIES: [(&str, u32); 16] = [
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("CHF", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("INR", 2),
    ("SGD", 2),
    ("BRL", 2),
    ("MXN", 2),
    ("JPY", 0),
    ("KWD", 3),
];

pub const DEFAULT_CURRENCY: &str = "USD";

/// Minor-unit digits of a supported currency.
pub fn minor_digits(currency: &str) -> Option<u32> {
    CURRENCIES
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, digits)| *digits)
}

/// An exact amount of money.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Money {
    /// Exact decimal amount, serialised as a string (e.g. `"1234.50"`).
    pub amount: Decimal,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

#[derive(InputObject, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MoneyInput {
    pub amount: Decimal,
    pub currency: String,
}

impl Money {
    pub fn from_minor(minor: i64, currency: &str) -> Money {
        let digits = minor_digits(currency).unwrap_or(2);
        Money {
            amount: Decimal::new(minor, digits),
            currency: currency.to_owned(),
        }
    }
}

/// Rounds half-even to the currency's minor unit.
pub fn round(amount: Decimal, currency: &str) -> Decimal {
    let digits = minor_digits(currency).unwrap_or(2);
    amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointNearestEven)
}

impl Money {
    /// A computed amount, rounded (half-even) and shown with the currency's minor digits.
    pub fn exact(amount: Decimal, currency: &str) -> Money {
        let mut amount = round(amount, currency);
        amount.rescale(minor_digits(currency).unwrap_or(2));
        Money {
            amount,
            currency: currency.to_owned(),
        }
    }
}

/// Why `input` is not an acceptable amount, or its value in minor units.
pub fn to_minor(input: &MoneyInput) -> Result<i64, String> {
    let Some(digits) = minor_digits(&input.currency) else {
        return Err(format!("unsupported currency {:?}", input.currency));
    };
    if input.amount.scale() > digits && input.amount.normalize().scale() > digits {
        return Err(format!(
            "{} allows at most {digits} decimal places",
            input.currency
        ));
    }
    let scaled = input.amount * Decimal::from(10i64.pow(digits));
    i64::try_from(scaled.trunc()).map_err(|_| "amount is too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn input(amount: &str, currency: &str) -> MoneyInput {
        MoneyInput {
            amount: Decimal::from_str(amount).unwrap(),
            currency: currency.into(),
        }
    }

    #[test]
    fn converts_exactly_to_minor_units_and_back() {
        assert_eq!(to_minor(&input("1234.50", "USD")), Ok(123450));
        assert_eq!(to_minor(&input("1234.500", "USD")), Ok(123450));
        assert_eq!(to_minor(&input("1000", "JPY")), Ok(1000));
        assert_eq!(
            Money::from_minor(123450, "USD").amount.to_string(),
            "1234.50"
        );
        assert_eq!(Money::from_minor(1500, "KWD").amount.to_string(), "1.500");
    }

    #[test]
    fn refuses_unknown_currencies_and_excess_precision() {
        assert!(to_minor(&input("1", "XXX")).is_err());
        assert!(to_minor(&input("1.005", "USD")).is_err());
        assert!(to_minor(&input("1.5", "JPY")).is_err());
    }

    #[test]
    fn computed_amounts_show_the_currency_scale() {
        assert_eq!(
            Money::exact(Decimal::ZERO, "USD").amount.to_string(),
            "0.00"
        );
        assert_eq!(
            Money::exact(Decimal::from_str("4400.0000").unwrap(), "USD")
                .amount
                .to_string(),
            "4400.00"
        );
        assert_eq!(
            Money::exact(Decimal::from_str("10.5").unwrap(), "JPY")
                .amount
                .to_string(),
            "10"
        );
    }

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(
            round(Decimal::from_str("2.345").unwrap(), "USD").to_string(),
            "2.34"
        );
        assert_eq!(
            round(Decimal::from_str("2.355").unwrap(), "USD").to_string(),
            "2.36"
        );
        assert_eq!(
            round(Decimal::from_str("2.5").unwrap(), "JPY").to_string(),
            "2"
        );
    }
}
