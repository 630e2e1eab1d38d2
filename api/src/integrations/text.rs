//! Checks of the short texts integrations take (names, descriptions, URLs).

use crate::relay::{UserError, UserErrorCode};

/// `value` trimmed, or the user error of `field` when it is blank, longer than `max`
/// characters or holds control characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, UserError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(UserError::new(
            field,
            UserErrorCode::Required,
            "is required",
        ));
    }
    optional(field, Some(trimmed), max).map(|v| v.unwrap_or_default())
}

/// `value` trimmed (blank is none), or the user error of `field`.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, UserError> {
    let Some(trimmed) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if trimmed.chars().count() > max {
        return Err(UserError::new(
            field,
            UserErrorCode::Invalid,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(UserError::new(
            field,
            UserErrorCode::Invalid,
            "must not contain control characters",
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_long_and_control_texts_are_refused() {
        assert_eq!(required("name", "  CRM sync ", 10).unwrap(), "CRM sync");
        assert!(required("name", "   ", 10).is_err());
        assert!(required("name", "x".repeat(11).as_str(), 10).is_err());
        assert!(required("name", "a\u{0}b", 10).is_err());
        assert_eq!(optional("d", Some("  "), 10).unwrap(), None);
    }
}
