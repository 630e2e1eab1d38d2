use super::*;

fn customer(name: &str, web: &str, country: &str) -> Customer {
    let blank = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    Customer::new(name, blank(web).as_deref(), blank(country).as_deref())
}

fn verdict(a: &Customer, b: &Customer) -> Verdict {
    compare(a, b, &Bands::default(), &|_| 1.0)
}

#[test]
fn contributions_add_up_to_the_score() {
    let a = customer("Globex Corporation", "globex.com", "US");
    let b = customer("Globex Corp.", "https://www.globex.com/", "US");
    let found = verdict(&a, &b);
    assert_eq!(found.decision, Decision::Match);
    let total: f64 = found.evidence.iter().map(|e| e.contribution).sum();
    assert!(
        (total.clamp(0.0, 1.0) - found.score).abs() < 0.002,
        "{found:?}"
    );
    assert_eq!(found.matched_on(), ["name", "domain", "country"]);
}

#[test]
fn a_shared_domain_matches_whatever_the_names() {
    let a = customer("Globex", "globex.com", "");
    let b = customer("GX Industries", "sales@globex.com", "");
    let found = verdict(&a, &b);
    assert_eq!(found.decision, Decision::Match, "{found:?}");
    assert!(found
        .evidence
        .iter()
        .any(|e| e.signal == Signal::SameDomain));
}

#[test]
fn a_different_country_or_corporate_domain_counts_against_a_name() {
    let us = customer("Summit Foods Inc", "", "US");
    let de = customer("Summit Foods GmbH", "", "DE");
    assert_eq!(verdict(&us, &de).decision, Decision::NoMatch);
    let a = customer("Vertex Analytics", "vertexanalytics.com", "");
    let b = customer("Vertex Analytics", "vertex-data.io", "");
    let found = verdict(&a, &b);
    assert!(
        found
            .evidence
            .iter()
            .any(|e| e.signal == Signal::DifferentDomains),
        "{found:?}"
    );
    assert_ne!(found.decision, Decision::Match);
}

#[test]
fn free_mail_and_hosting_platforms_are_no_evidence() {
    let a = customer("Smith Plumbing", "smithplumbing@gmail.com", "US");
    let b = customer("Jones Bakery", "jonesbakery@gmail.com", "US");
    assert_eq!(verdict(&a, &b).decision, Decision::NoMatch);
    let a = customer("Bella Boutique", "bella.myshopify.com", "");
    let b = customer("Luna Candles", "luna.myshopify.com", "");
    assert_eq!(verdict(&a, &b).decision, Decision::NoMatch);
}

#[test]
fn blocking_keys_meet_for_every_kind_of_variation() {
    let pairs = [
        ("Globex", "Glbex"),
        ("SunPeak", "Sun Peak"),
        ("International Business Machines", "IBM"),
        ("Modern Systems", "Modem Systems"),
        ("Peak Sun", "Sun Peak"),
    ];
    for (a, b) in pairs {
        let (ka, kb) = (
            blocking_keys(&customer(a, "", "")),
            blocking_keys(&customer(b, "", "")),
        );
        assert!(
            ka.iter().any(|k| kb.contains(k)),
            "{a} / {b}: {ka:?} {kb:?}"
        );
    }
    let a = blocking_keys(&customer("X", "münchen-bau.de", ""));
    let b = blocking_keys(&customer("Y", "xn--mnchen-bau-9db.de", ""));
    assert!(
        a.contains(&"d:xn--mnchen-bau-9db.de".to_owned())
            && b.contains(&"d:xn--mnchen-bau-9db.de".to_owned())
    );
}

#[test]
fn rarity_falls_with_how_common_a_word_is() {
    assert_eq!(rarity_from_postings(0), 1.0);
    assert!(rarity_from_postings(20) < 0.85);
    assert_eq!(rarity_from_postings(1_000_000), 0.35);
}

/// One labelled pair of `tests/data/customer_pairs.tsv`.
pub struct Pair {
    pub same: bool,
    pub kind: String,
    pub a: Customer,
    pub b: Customer,
}

/// The generated pairs, then those written by hand (real companies' names as partners
/// type them, and real pairs of different companies).
pub fn corpus() -> Vec<Pair> {
    let generated = include_str!("../../../../tests/data/customer_pairs.tsv");
    let handwritten = include_str!("../../../../tests/data/customer_pairs_handwritten.tsv");
    generated
        .lines()
        .skip(1)
        .chain(handwritten.lines().skip(1))
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Pair {
                same: f[0] == "1",
                kind: f[1].to_owned(),
                a: customer(f[2], f[3], f[4]),
                b: customer(f[5], f[6], f[7]),
            }
        })
        .collect()
}

/// The engine alone on the project's labelled corpus (the API's own test scores it through
/// `checkConflicts` and `registerDeal`): what it finds, the candidates included.
#[test]
fn the_engine_scores_the_labelled_corpus() {
    let pairs = corpus();
    assert!(pairs.len() >= 400);
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut wrong = Vec::new();
    for pair in &pairs {
        let found = verdict(&pair.a, &pair.b);
        let blocked = {
            let kb = blocking_keys(&pair.b);
            blocking_keys(&pair.a).iter().any(|k| kb.contains(k))
        };
        let flagged = blocked && found.decision == Decision::Match;
        match (flagged, pair.same) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
        if flagged != pair.same {
            wrong.push(format!(
                "{} {} {:?} / {:?}: {} {:?} blocked={blocked}",
                pair.kind, pair.same, pair.a.names, pair.b.names, found.score, found.evidence
            ));
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    eprintln!(
        "corpus: precision {precision:.3} recall {recall:.3}\n{}",
        wrong.join("\n")
    );
    assert!(
        precision >= 0.97 && recall >= 0.95,
        "precision {precision:.3} recall {recall:.3}\n{}",
        wrong.join("\n")
    );
}
