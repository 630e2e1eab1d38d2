//! Pure rules of the partner program: lifecycle transitions, domain normalisation and the
//! two-tier hierarchy. No I/O; unit-tested here.

use entity::enums::PartnerStatus;

/// Statuses reachable from `from`. Terminated is final; a dormant partner can be revived.
pub fn allowed_transitions(from: PartnerStatus) -> &'static [PartnerStatus] {
    use PartnerStatus::*;
    match from {
        Prospect => &[Onboarding, Terminated],
        Onboarding => &[Active, Terminated],
        Active => &[Dormant, Terminated],
        Dormant => &[Active, Terminated],
        Terminated => &[],
    }
}

pub fn can_transition(from: PartnerStatus, to: PartnerStatus) -> bool {
    allowed_transitions(from).contains(&to)
}

/// The registrable form of a website or domain: no scheme, credentials, port, path or `www.`,
/// lower case. `None` when it is not a plausible public domain name.
pub fn normalize_domain(input: &str) -> Option<String> {
    let mut text = input.trim().to_lowercase();
    if let Some((_, rest)) = text.split_once("://") {
        text = rest.to_owned();
    }
    let host_end = text.find(['/', '?', '#']).unwrap_or(text.len());
    let mut host = &text[..host_end];
    if let Some((_, after_at)) = host.rsplit_once('@') {
        host = after_at;
    }
    if let Some((name, port)) = host.rsplit_once(':') {
        if port.chars().all(|c| c.is_ascii_digit()) {
            host = name;
        }
    }
    let host = host.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let valid_label = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    (labels.len() >= 2 && host.len() <= 253 && labels.iter().all(valid_label) && tld_ok)
        .then(|| host.to_owned())
}

/// Whether making `parent` the parent of `partner` would put `partner` above itself.
/// `ancestors_of_parent` is `parent` and every partner above it.
pub fn creates_cycle(partner: i64, ancestors_of_parent: &[i64]) -> bool {
    ancestors_of_parent.contains(&partner)
}

/// Verticals as stored: trimmed, upper snake case, de-duplicated, in the given order.
pub fn normalize_verticals(input: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for vertical in input {
        let key = vertical
            .trim()
            .to_uppercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        if !key.is_empty() && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// An ISO 3166-1 alpha-2 code, upper case.
pub fn normalize_country(input: &str) -> Option<String> {
    let code = input.trim().to_uppercase();
    (code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase())).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartnerStatus::*;

    #[test]
    fn lifecycle_moves_forward_and_terminated_is_final() {
        assert!(can_transition(Prospect, Onboarding));
        assert!(can_transition(Onboarding, Active));
        assert!(can_transition(Active, Dormant));
        assert!(can_transition(Dormant, Active));
        assert!(can_transition(Active, Terminated));
        assert!(!can_transition(Active, Onboarding));
        assert!(!can_transition(Prospect, Active));
        assert!(!can_transition(Active, Active));
        assert!(allowed_transitions(Terminated).is_empty());
    }

    #[test]
    fn domains_normalise_scheme_www_path_port_and_case() {
        for input in [
            "globex.com",
            "https://www.globex.com/",
            "HTTP://Globex.COM:8080/path?q=1",
            "www.globex.com.",
            "user@globex.com",
        ] {
            assert_eq!(
                normalize_domain(input).as_deref(),
                Some("globex.com"),
                "{input}"
            );
        }
        assert_eq!(
            normalize_domain("eu.globex.co.uk").as_deref(),
            Some("eu.globex.co.uk")
        );
        for bad in [
            "",
            "globex",
            "http://",
            "glo bex.com",
            "-globex.com",
            "globex.c0m",
            "a..com",
        ] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_partner_cannot_become_its_own_ancestor() {
        // Chain: 1 <- 2 <- 3. Making 3 the parent of 1 closes a loop.
        assert!(creates_cycle(1, &[3, 2, 1]));
        assert!(creates_cycle(1, &[1]));
        assert!(!creates_cycle(4, &[3, 2, 1]));
    }

    #[test]
    fn verticals_and_countries_normalise() {
        let input = vec![
            "Healthcare".into(),
            " financial services ".into(),
            "HEALTHCARE".into(),
            " ".into(),
        ];
        assert_eq!(
            normalize_verticals(&input),
            ["HEALTHCARE", "FINANCIAL_SERVICES"]
        );
        assert_eq!(normalize_country(" us").as_deref(), Some("US"));
        assert_eq!(normalize_country("USA"), None);
    }
}
