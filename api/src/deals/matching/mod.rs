//! Entity resolution for end customers, as pure functions: whether two registrations (or a
//! registration and an account) name the same company, how sure that is, and why.
//!
//! - `names`: a company name as tokens, with its aliases ("t/a", brackets), legal forms
//!   (`legal_forms`, per country) and filler removed, Unicode folded to one ASCII spelling.
//! - `web`: a website or e-mail address as evidence (registrable domain, free mail, profile).
//! - `similarity`: token-set similarity weighted by rarity, forgiving typing errors.
//! - `blocking_keys`: the indexed keys that find candidates without comparing against all.
//!
//! `compare` adds the evidence up: the names' similarity, then the domain (same registrable
//! domain for; two unrelated corporate domains against) and the country (two different
//! countries against). Each signal's contribution is listed; they add up to the score,
//! which the bands turn into `MATCH`, `POSSIBLE` or `NO_MATCH`.

pub mod legal_forms;
pub mod names;
pub mod similarity;
pub mod web;

use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};

use lru::LruCache;
use rphonetic::{DoubleMetaphone, Encoder};

use similarity::{name_similarity, Kind};
use web::{Identity, Web};

/// An end customer as the matcher compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The name's normalised forms: the name, then its aliases.
    pub names: Vec<Vec<String>>,
    pub web: Option<Web>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

impl Customer {
    /// `web` is a website, domain or e-mail address already checked by `web::parse`; one
    /// that does not parse counts as absent.
    pub fn new(name: &str, web: Option<&str>, country: Option<&str>) -> Customer {
        let country = country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| c.len() == 2)
            .map(|c| iso_country(&c).to_owned());
        Customer {
            names: names::name_forms(name, country.as_deref()),
            web: web.and_then(|w| web::parse(w).ok().flatten()),
            country,
        }
    }

    /// `Customer::new`, kept: the same registrations are compared again and again (each
    /// review page, each check), and normalising is most of a comparison's cost.
    pub fn shared(name: &str, web: Option<&str>, country: Option<&str>) -> Arc<Customer> {
        let key = (
            name.to_owned(),
            web.map(str::to_owned),
            country.map(str::to_owned),
        );
        if let Some(found) = NORMALISED
            .lock()
            .ok()
            .and_then(|mut kept| kept.get(&key).cloned())
        {
            return found;
        }
        let customer = Arc::new(Customer::new(name, web, country));
        if let Ok(mut kept) = NORMALISED.lock() {
            kept.put(key, customer.clone());
        }
        customer
    }

    /// The exclusivity key: the registrable domain (or profile) when known, else the
    /// normalised name.
    pub fn key(&self) -> String {
        match self.web.as_ref().and_then(Web::identity_key) {
            Some(identity) => format!("domain:{identity}"),
            None => format!("name:{}", self.names[0].join(" ")),
        }
    }

    /// The normalised name as one text (what a customer search matches).
    pub fn name_key(&self) -> String {
        self.names[0].join(" ")
    }

    /// The normalised name's first word (at most 100 characters).
    pub fn first_token(&self) -> String {
        self.names[0]
            .first()
            .map(|token| token.chars().take(100).collect())
            .unwrap_or_default()
    }

    /// The web address's host in ASCII (punycode), as stored.
    pub fn host(&self) -> Option<String> {
        self.web.as_ref().map(|web| web.host.clone())
    }

    /// The registrable domain or profile page the web address names.
    pub fn identity(&self) -> Option<String> {
        self.web.as_ref().and_then(Web::identity_key)
    }
}

/// The ISO 3166 code of the codes people use for the same country: "UK" (reserved in ISO
/// 3166 for the United Kingdom, whose code is GB) and "EL" (the EU's code for Greece).
fn iso_country(code: &str) -> &str {
    match code {
        "UK" => "GB",
        "EL" => "GR",
        _ => code,
    }
}

type Written = (String, Option<String>, Option<String>);

/// Customers normalised lately, by name, web address and country as written (about 20,000:
/// a few megabytes).
static NORMALISED: LazyLock<Mutex<LruCache<Written, Arc<Customer>>>> = LazyLock::new(|| {
    Mutex::new(LruCache::new(
        NonZeroUsize::new(20_000).expect("a positive capacity"),
    ))
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Match,
    Possible,
    NoMatch,
}

/// Score thresholds: at least `match_at` is a conflict; at least `possible_at` goes to the
/// reviewer as a possible duplicate without blocking anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub match_at: f64,
    pub possible_at: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            match_at: 0.85,
            possible_at: 0.65,
        }
    }
}

impl Bands {
    pub fn decide(&self, score: f64) -> Decision {
        if score >= self.match_at {
            Decision::Match
        } else if score >= self.possible_at {
            Decision::Possible
        } else {
            Decision::NoMatch
        }
    }

    /// Why bands are refused: each in 0-1, `possible_at` not above `match_at`.
    pub fn problem(&self) -> Option<&'static str> {
        let within = |x: f64| (0.0..=1.0).contains(&x);
        if !within(self.match_at) || !within(self.possible_at) {
            Some("thresholds are between 0 and 1")
        } else if self.possible_at > self.match_at {
            Some("possibleAt must not exceed matchAt")
        } else {
            None
        }
    }
}

/// The kinds of evidence, as the API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Name,
    SameDomain,
    SameBrand,
    RelatedDomains,
    DifferentDomains,
    SharedDomain,
    SameCountry,
    DifferentCountry,
}

/// One piece of evidence and what it added to (or took from) the score.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub signal: Signal,
    pub contribution: f64,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub score: f64,
    pub decision: Decision,
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// Which signals spoke for the match (`name`, `domain`), for `matchedOn`.
    pub fn matched_on(&self) -> Vec<&'static str> {
        let mut on = Vec::new();
        for evidence in &self.evidence {
            let label = match evidence.signal {
                Signal::Name if evidence.contribution >= 0.5 => "name",
                Signal::SameDomain | Signal::SameBrand => "domain",
                Signal::SameCountry => "country",
                _ => continue,
            };
            if !on.contains(&label) {
                on.push(label);
            }
        }
        on
    }
}

/// What a shared registrable domain is worth, and the score it guarantees whatever the names.
const SAME_DOMAIN: f64 = 0.35;
const SAME_DOMAIN_FLOOR: f64 = 0.92;
const SAME_BRAND: f64 = 0.1;
const DIFFERENT_DOMAINS: f64 = -0.35;
const SAME_COUNTRY: f64 = 0.02;
const DIFFERENT_COUNTRY: f64 = -0.4;

/// Whether `a` and `b` are the same customer. `rarity` weighs a name token by how common it
/// is among registered customers (1 for rare; see `rarity_from_postings`).
pub fn compare(a: &Customer, b: &Customer, bands: &Bands, rarity: &dyn Fn(&str) -> f64) -> Verdict {
    let mut evidence = vec![name_evidence(a, b, rarity)];
    let name = evidence[0].contribution;
    evidence.extend(domain_evidence(a.web.as_ref(), b.web.as_ref(), name));
    evidence.extend(country_evidence(a.country.as_deref(), b.country.as_deref()));
    let total: f64 = evidence.iter().map(|e| e.contribution).sum();
    let score = round(total.clamp(0.0, 1.0));
    Verdict {
        score,
        decision: bands.decide(score),
        evidence,
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The best agreement between any form of `a`'s name and any form of `b`'s.
fn name_evidence(a: &Customer, b: &Customer, rarity: &dyn Fn(&str) -> f64) -> Evidence {
    let mut best: Option<(f64, Option<Kind>, usize, usize)> = None;
    for (i, x) in a.names.iter().enumerate() {
        for (j, y) in b.names.iter().enumerate() {
            let found = name_similarity(x, y, rarity);
            if best.is_none_or(|(score, ..)| found.score > score) {
                best = Some((found.score, found.worst, i, j));
            }
        }
    }
    let (score, worst, i, j) = best.unwrap_or((0.0, None, 0, 0));
    let mut detail = format!(
        "\"{}\" and \"{}\"",
        a.names[i].join(" "),
        b.names[j].join(" ")
    );
    if i > 0 || j > 0 {
        detail.push_str(" (a trading name or alias)");
    }
    if let Some(kind) = worst.filter(|kind| *kind != Kind::Same) {
        detail.push_str(&format!(": {}", kind.describe()));
    }
    Evidence {
        signal: Signal::Name,
        contribution: round(score),
        detail,
    }
}

fn domain_evidence(a: Option<&Web>, b: Option<&Web>, name: f64) -> Option<Evidence> {
    let (a, b) = (a?, b?);
    let shared = |web: &Web| matches!(web.identity, Identity::Shared);
    if shared(a) || shared(b) {
        let host = if shared(a) { a } else { b };
        return Some(Evidence {
            signal: Signal::SharedDomain,
            contribution: 0.0,
            detail: format!(
                "{} is shared by unrelated customers (free mail or a platform): no evidence",
                host.display()
            ),
        });
    }
    let (ka, kb) = (a.identity_key()?, b.identity_key()?);
    let (signal, contribution, detail) = if ka == kb {
        (
            Signal::SameDomain,
            SAME_DOMAIN.max(SAME_DOMAIN_FLOOR - name),
            format!("both at {ka}"),
        )
    } else {
        match (&a.identity, &b.identity) {
            (Identity::Domain { label: la, .. }, Identity::Domain { label: lb, .. })
                if la == lb =>
            {
                (
                    Signal::SameBrand,
                    SAME_BRAND,
                    format!("{ka} and {kb}: one name under two suffixes"),
                )
            }
            _ if related(&ka, &kb) => (
                Signal::RelatedDomains,
                0.0,
                format!("{ka} and {kb} are alike: no evidence either way"),
            ),
            _ => (
                Signal::DifferentDomains,
                DIFFERENT_DOMAINS,
                format!("{ka} and {kb} are different companies' domains"),
            ),
        }
    };
    Some(Evidence {
        signal,
        contribution,
        detail,
    })
}

/// Domains of one company by their look: one label inside the other (`globex.com` and
/// `globexcorp.com`, `sunrise-bakery.co.uk` and `sunrisebakery.com`). Labels one letter
/// apart are not: that is how two companies' names differ too.
fn related(a: &str, b: &str) -> bool {
    let label = |key: &str| -> String {
        key.rsplit('/')
            .next()
            .unwrap_or(key)
            .split('.')
            .next()
            .unwrap_or(key)
            .replace('-', "")
    };
    let (x, y) = (label(a), label(b));
    let (short, long) = if x.len() <= y.len() {
        (&x, &y)
    } else {
        (&y, &x)
    };
    short.len() >= 4 && long.contains(short.as_str())
}

fn country_evidence(a: Option<&str>, b: Option<&str>) -> Option<Evidence> {
    let (a, b) = (a?, b?);
    Some(if a == b {
        Evidence {
            signal: Signal::SameCountry,
            contribution: SAME_COUNTRY,
            detail: format!("both in {a}"),
        }
    } else {
        Evidence {
            signal: Signal::DifferentCountry,
            contribution: DIFFERENT_COUNTRY,
            detail: format!("{a} and {b}"),
        }
    })
}

/// At most this many tokens of a name form make keys (a name is at most 200 characters,
/// but a hostile one should not make thousands of keys).
const KEYED_TOKENS: usize = 8;

/// The indexed keys candidates are found by. Two customers that `compare` could match
/// share one at least:
/// - `e:` each token and, from five letters, each of the two longest tokens with one letter
///   deleted (a typing error leaves two spellings that share a deletion: "globex"/"glbex").
///   The deletions were most of a name's keys, and so of a check's lookups; a typo in a
///   shorter word is still found by the longer words, the sounds and the joined name;
/// - `p:` each token's Double Metaphone code, after scanning confusions are folded;
/// - `j:` the tokens joined ("sunpeak"), `a:` initials of a name of several words and a
///   single short word (acronyms);
/// - `d:` the registrable domain or profile, `l:` its label (one brand under two suffixes).
pub fn blocking_keys(customer: &Customer) -> Vec<String> {
    let metaphone = DoubleMetaphone::default();
    let mut keys = Vec::new();
    for form in customer.names.iter().take(3) {
        let tokens = &form[..form.len().min(KEYED_TOKENS)];
        let longest = longest_two(tokens);
        for (i, token) in tokens.iter().enumerate() {
            keys.push(format!("e:{token}"));
            if token.len() >= 5 && longest.contains(&i) {
                keys.extend(deletions(token).map(|d| format!("e:{d}")));
            }
            let spelt = names::spelling(token);
            if spelt != *token {
                keys.push(format!("e:{spelt}"));
            }
            if token.len() >= 3 && token.chars().any(|c| c.is_ascii_alphabetic()) {
                let code = metaphone.encode(&names::shape(token));
                if !code.is_empty() {
                    keys.push(format!("p:{code}"));
                }
            }
        }
        if !tokens.is_empty() {
            keys.push(format!("j:{}", tokens.concat()));
        }
        if tokens.len() >= 2 {
            let letters = initials(tokens);
            keys.push(format!("a:{}", similarity::counted(&letters)));
            keys.push(format!("a:{letters}"));
        }
        let written = tokens.concat();
        if tokens.len() <= 3 && (2..=6).contains(&written.len()) {
            keys.push(format!("a:{written}"));
        }
    }
    if let Some(web) = &customer.web {
        if let Some(identity) = web.identity_key() {
            keys.push(format!("d:{identity}"));
        }
        if let Identity::Domain { label, .. } = &web.identity {
            if label.len() >= 3 {
                keys.push(format!("l:{}", label.replace('-', "")));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys.retain(|key| key.len() <= 200);
    keys
}

/// The positions of the two longest tokens (the first of equals).
fn longest_two(tokens: &[String]) -> [usize; 2] {
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(tokens[i].len()), i));
    [
        order.first().copied().unwrap_or(usize::MAX),
        order.get(1).copied().unwrap_or(usize::MAX),
    ]
}

fn deletions(token: &str) -> impl Iterator<Item = String> + '_ {
    (0..token.len()).map(move |i| format!("{}{}", &token[..i], &token[i + 1..]))
}

fn initials(tokens: &[String]) -> String {
    tokens.iter().filter_map(|t| t.chars().next()).collect()
}

/// A token's rarity from how many registered customers share its `e:` key (`postings`):
/// 1 up to a few, falling with the logarithm of the count to 0.35 for very common words.
pub fn rarity_from_postings(postings: u64) -> f64 {
    (1.15 - 0.12 * ((1 + postings) as f64).ln()).clamp(0.35, 1.0)
}

#[cfg(test)]
mod tests;
