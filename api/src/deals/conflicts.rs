//! The conflict engine as pure functions: customer normalisation, name similarity and the
//! match rules. The service finds candidates through indexed keys (domain root, first name
//! token) and asks this module which of them conflict, and why.

use crate::partners::rules::normalize_domain;

/// Company-name suffixes that say nothing about who the company is.
const LEGAL_SUFFIXES: [&str; 30] = [
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "pty",
    "pte",
    "kk",
    "oy",
    "ab",
    "as",
    "group",
    "holdings",
];

/// Second-level labels under which registrable names sit one level deeper (`globex.co.uk`).
const SECOND_LEVEL: [&str; 8] = ["co", "com", "net", "org", "ac", "gov", "edu", "ltd"];

/// Lower case, `&` as `and`, punctuation dropped, legal suffixes removed.
pub fn normalize_company_name(name: &str) -> String {
    let lowered = name.to_lowercase().replace('&', " and ");
    let cleaned: String = lowered
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// The first word of a normalised name: the index key candidates are looked up by.
pub fn name_token(key: &str) -> String {
    key.split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}

/// The registrable part of a normalised domain (`eu.sales.globex.com` → `globex.com`,
/// `shop.globex.co.uk` → `globex.co.uk`).
pub fn domain_root(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let keep = match labels.as_slice() {
        [.., second, tld] if tld.len() == 2 && SECOND_LEVEL.contains(second) => 3,
        _ => 2,
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

/// Same domain, or one a subdomain of the other.
pub fn domains_match(a: &str, b: &str) -> bool {
    a == b
        || a.ends_with(&format!(".{b}"))
        || b.ends_with(&format!(".{a}"))
        || domain_root(a) == domain_root(b)
}

fn bigrams(text: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Sørensen–Dice similarity of two normalised names over character bigrams, 0.0-1.0.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (x, y) = (bigrams(a), bigrams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let mut remaining = y.clone();
    let mut shared = 0usize;
    for pair in &x {
        if let Some(i) = remaining.iter().position(|p| p == pair) {
            remaining.swap_remove(i);
            shared += 1;
        }
    }
    (2 * shared) as f64 / (x.len() + y.len()) as f64
}

/// An end customer as the engine compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub name_key: String,
    pub domain: Option<String>,
}

impl Customer {
    pub fn new(name: &str, domain: Option<&str>) -> Self {
        Customer {
            name_key: normalize_company_name(name),
            domain: domain.and_then(normalize_domain),
        }
    }

    /// The exclusivity key: the registrable domain when known, else the normalised name.
    pub fn key(&self) -> String {
        match &self.domain {
            Some(domain) => format!("domain:{}", domain_root(domain)),
            None => format!("name:{}", self.name_key),
        }
    }
}

/// Why two customers are the same, with a score from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub score: f64,
    pub matched_on: Vec<&'static str>,
}

/// Whether `a` and `b` are the same end customer: a domain match (score 1), or names at
/// least `threshold` similar. Both are reported when both hold.
pub fn same_customer(a: &Customer, b: &Customer, threshold: f64) -> Option<Match> {
    let domain = matches!((&a.domain, &b.domain), (Some(x), Some(y)) if domains_match(x, y));
    let similarity = name_similarity(&a.name_key, &b.name_key);
    let name = similarity >= threshold;
    let mut matched_on = Vec::new();
    if domain {
        matched_on.push("domain");
    }
    if name {
        matched_on.push("name");
    }
    if matched_on.is_empty() {
        return None;
    }
    let score = if domain { 1.0 } else { similarity };
    Some(Match {
        score: (score * 1000.0).round() / 1000.0,
        matched_on,
    })
}

/// Products two registrations share.
pub fn shared_products(a: &[i64], b: &[i64]) -> Vec<i64> {
    let mut shared: Vec<i64> = a.iter().copied().filter(|p| b.contains(p)).collect();
    shared.sort_unstable();
    shared.dedup();
    shared
}

pub const DEFAULT_NAME_THRESHOLD: f64 = 0.85;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_lose_legal_suffixes_punctuation_and_case() {
        assert_eq!(normalize_company_name("Globex Corporation"), "globex");
        assert_eq!(normalize_company_name("Globex Corp."), "globex");
        assert_eq!(normalize_company_name("GLOBEX, Inc"), "globex");
        assert_eq!(normalize_company_name("Smith & Sons Ltd"), "smith and sons");
        assert_eq!(normalize_company_name("Smith and Sons"), "smith and sons");
        assert_eq!(normalize_company_name("Müller GmbH"), "müller");
        // A name that is only a suffix is kept rather than emptied.
        assert_eq!(normalize_company_name("Company"), "company");
    }

    #[test]
    fn domains_match_across_scheme_www_subdomains_and_country_second_levels() {
        let a = Customer::new("Globex Corporation", Some("globex.com"));
        let b = Customer::new("Globex Corp.", Some("https://www.globex.com/"));
        assert_eq!(a.key(), b.key());
        assert!(domains_match("eu.globex.com", "globex.com"));
        assert_eq!(domain_root("shop.globex.co.uk"), "globex.co.uk");
        assert!(!domains_match("globex.co.uk", "initech.co.uk"));
        assert!(!domains_match("globex.com", "globex.net"));
    }

    #[test]
    fn similarity_scores_names_and_respects_the_threshold() {
        assert_eq!(name_similarity("globex", "globex"), 1.0);
        let close = name_similarity("globex systems", "globex system");
        assert!(close > 0.9 && close < 1.0, "{close}");
        assert!(name_similarity("globex", "initech") < 0.3);
        let a = Customer::new("Globex Systems Inc", None);
        let b = Customer::new("Globex System", None);
        let found = same_customer(&a, &b, DEFAULT_NAME_THRESHOLD).unwrap();
        assert_eq!(found.matched_on, ["name"]);
        assert!(
            same_customer(&a, &b, 0.99).is_none(),
            "a stricter threshold refuses it"
        );
    }

    #[test]
    fn a_domain_match_scores_one_and_reports_every_reason() {
        let a = Customer::new("Globex", Some("globex.com"));
        let b = Customer::new("Globex Corp", Some("www.globex.com"));
        let found = same_customer(&a, &b, DEFAULT_NAME_THRESHOLD).unwrap();
        assert_eq!(found.score, 1.0);
        assert_eq!(found.matched_on, ["domain", "name"]);
        let other = Customer::new("Initech", Some("initech.com"));
        assert!(same_customer(&a, &other, DEFAULT_NAME_THRESHOLD).is_none());
    }

    #[test]
    fn product_overlap() {
        assert_eq!(shared_products(&[1, 2, 3], &[3, 2, 9]), [2, 3]);
        assert!(shared_products(&[1], &[2]).is_empty());
    }
}
