//! Where a lead goes, pure: the routing rules in priority order, then a weighted fallback,
//! never a partner that declined the lead or let it lapse. Every decision says why.

use std::collections::BTreeSet;

use entity::enums::PartnerType;

/// What routing reads of a lead.
#[derive(Debug, Clone, Default)]
pub struct LeadFacts {
    pub region: Option<String>,
    pub vertical: Option<String>,
    pub product_ids: Vec<i64>,
}

/// A rule, its lists already parsed (empty: matches anything).
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub priority: i32,
    pub regions: Vec<String>,
    pub verticals: Vec<String>,
    pub product_ids: Vec<i64>,
    pub partner_ids: Vec<i64>,
    pub partner_types: Vec<PartnerType>,
    /// The rank of the rule's minimum tier (a partner's tier must rank at least this).
    pub min_tier_rank: Option<i32>,
    pub certification_program_ids: Vec<i64>,
    /// Most open (assigned or accepted) leads a partner may hold to receive another.
    pub capacity: Option<i32>,
}

/// An active partner that could receive leads.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    pub id: i64,
    pub partner_type: Option<PartnerType>,
    pub region: Option<String>,
    pub tier_rank: Option<i32>,
    /// The fallback's weight (its tier's; 0 never receives from the fallback).
    pub weight: u32,
    /// Certification programs its users hold a current certification of.
    pub programs: BTreeSet<i64>,
    /// Leads it holds open (assigned or accepted).
    pub open_leads: u32,
}

/// Where a lead goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub partner_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub reason: String,
}

fn matches_lead(rule: &Rule, lead: &LeadFacts) -> bool {
    let listed = |list: &[String], value: &Option<String>| {
        list.is_empty()
            || value
                .as_ref()
                .is_some_and(|v| list.iter().any(|l| l.eq_ignore_ascii_case(v)))
    };
    listed(&rule.regions, &lead.region)
        && listed(&rule.verticals, &lead.vertical)
        && (rule.product_ids.is_empty()
            || rule
                .product_ids
                .iter()
                .any(|p| lead.product_ids.contains(p)))
}

fn eligible_for(rule: &Rule, c: &Candidate) -> bool {
    (rule.partner_ids.is_empty() || rule.partner_ids.contains(&c.id))
        && (rule.partner_types.is_empty()
            || c.partner_type
                .is_some_and(|t| rule.partner_types.contains(&t)))
        && rule
            .min_tier_rank
            .is_none_or(|min| c.tier_rank.is_some_and(|rank| rank >= min))
        && rule
            .certification_program_ids
            .iter()
            .all(|p| c.programs.contains(p))
        && rule
            .capacity
            .is_none_or(|cap| i64::from(c.open_leads) < i64::from(cap))
}

/// The least loaded of `partners` (fewest open leads, then the lowest id).
fn least_loaded<'a>(partners: impl Iterator<Item = &'a Candidate>) -> Option<&'a Candidate> {
    partners.min_by_key(|c| (c.open_leads, c.id))
}

/// The fallback's choice: the lowest open leads per unit of weight, `(open + 1) / weight`,
/// compared exactly; ties to the lowest id. Over many leads each partner receives in
/// proportion to its weight.
fn weighted<'a>(partners: impl Iterator<Item = &'a Candidate>) -> Option<&'a Candidate> {
    partners.filter(|c| c.weight > 0).min_by(|a, b| {
        let load = |c: &Candidate, other: &Candidate| {
            u64::from(c.open_leads + 1) * u64::from(other.weight)
        };
        load(a, b).cmp(&load(b, a)).then(a.id.cmp(&b.id))
    })
}

/// Routes `lead` among `candidates` (active partners), skipping `excluded` ones: the first
/// rule (by priority, then id) that matches the lead and has an eligible partner sends it to
/// its least loaded one; without one, the weighted fallback among the partners of the
/// lead's region (any region when the lead has none).
pub fn route(
    lead: &LeadFacts,
    rules: &[Rule],
    candidates: &[Candidate],
    excluded: &BTreeSet<i64>,
) -> Decision {
    let open: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !excluded.contains(&c.id))
        .collect();
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| (r.priority, r.id));
    for rule in ordered.iter().filter(|r| matches_lead(r, lead)) {
        let eligible = open.iter().copied().filter(|c| eligible_for(rule, c));
        if let Some(chosen) = least_loaded(eligible) {
            return Decision {
                partner_id: Some(chosen.id),
                rule_id: Some(rule.id),
                reason: format!(
                    "rule \"{}\" (priority {}): its least loaded eligible partner ({} open leads)",
                    rule.name, rule.priority, chosen.open_leads
                ),
            };
        }
    }
    let in_region = open.iter().copied().filter(|c| {
        lead.region.as_ref().is_none_or(|r| {
            c.region
                .as_ref()
                .is_some_and(|cr| cr.eq_ignore_ascii_case(r))
        })
    });
    match weighted(in_region) {
        Some(chosen) => Decision {
            partner_id: Some(chosen.id),
            rule_id: None,
            reason: format!(
                "no rule matched with an eligible partner: weighted fallback (weight {}, {} open leads){}",
                chosen.weight,
                chosen.open_leads,
                lead.region
                    .as_ref()
                    .map(|r| format!(" among partners in {r}"))
                    .unwrap_or_default()
            ),
        },
        None => Decision {
            partner_id: None,
            rule_id: None,
            reason: "no eligible partner: no rule matched with one, and no partner with weight above 0 in the lead's region that has not declined or let it lapse".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(id: i64, region: &str, weight: u32, open: u32) -> Candidate {
        Candidate {
            id,
            partner_type: Some(PartnerType::Reseller),
            region: Some(region.into()),
            tier_rank: Some(1),
            weight,
            programs: BTreeSet::new(),
            open_leads: open,
        }
    }

    fn lead(region: &str, vertical: &str) -> LeadFacts {
        LeadFacts {
            region: Some(region.into()),
            vertical: Some(vertical.into()),
            product_ids: vec![7],
        }
    }

    #[test]
    fn the_first_matching_rule_with_an_eligible_partner_wins() {
        let rules = vec![
            Rule {
                id: 1,
                name: "healthcare".into(),
                priority: 10,
                verticals: vec!["Healthcare".into()],
                partner_ids: vec![2],
                ..Rule::default()
            },
            Rule {
                id: 2,
                name: "emea".into(),
                priority: 5,
                regions: vec!["EMEA".into()],
                partner_ids: vec![3, 4],
                ..Rule::default()
            },
        ];
        let partners = vec![
            partner(2, "EMEA", 1, 0),
            partner(3, "EMEA", 1, 4),
            partner(4, "EMEA", 1, 1),
        ];
        let none = BTreeSet::new();
        let d = route(&lead("emea", "Healthcare"), &rules, &partners, &none);
        assert_eq!((d.partner_id, d.rule_id), (Some(4), Some(2)), "{d:?}");
        // Both excluded: the next rule.
        let d = route(
            &lead("EMEA", "Healthcare"),
            &rules,
            &partners,
            &BTreeSet::from([3, 4]),
        );
        assert_eq!((d.partner_id, d.rule_id), (Some(2), Some(1)));
        // A lead no rule matches goes to the fallback.
        let d = route(&lead("EMEA", "Retail"), &rules[..1], &partners, &none);
        assert_eq!(d.rule_id, None);
        assert!(d.reason.contains("weighted fallback"), "{}", d.reason);
    }

    #[test]
    fn partner_criteria_and_capacity_narrow_a_rule() {
        let mut certified = partner(5, "APAC", 1, 0);
        certified.programs.insert(9);
        certified.tier_rank = Some(3);
        let mut plain = partner(6, "APAC", 1, 0);
        plain.tier_rank = Some(3);
        let rule = Rule {
            id: 1,
            name: "certified gold".into(),
            min_tier_rank: Some(2),
            certification_program_ids: vec![9],
            capacity: Some(2),
            ..Rule::default()
        };
        let none = BTreeSet::new();
        let d = route(
            &lead("APAC", "x"),
            std::slice::from_ref(&rule),
            &[plain.clone(), certified.clone()],
            &none,
        );
        assert_eq!(d.partner_id, Some(5));
        certified.open_leads = 2;
        let d = route(&lead("APAC", "x"), &[rule], &[plain, certified], &none);
        assert_eq!(d.rule_id, None, "at capacity: the fallback");
    }

    #[test]
    fn the_fallback_is_weighted_and_never_picks_weight_zero_or_another_region() {
        let mut partners = vec![
            partner(1, "NA", 3, 0),
            partner(2, "NA", 1, 0),
            partner(3, "NA", 0, 0),
            partner(4, "EMEA", 5, 0),
        ];
        let mut received = [0u32; 5];
        for _ in 0..40 {
            let d = route(&lead("NA", "x"), &[], &partners, &BTreeSet::new());
            let id = d.partner_id.unwrap();
            received[id as usize] += 1;
            partners.iter_mut().find(|c| c.id == id).unwrap().open_leads += 1;
        }
        assert_eq!(received, [0, 30, 10, 0, 0]);
        let d = route(&lead("LATAM", "x"), &[], &partners, &BTreeSet::new());
        assert_eq!(d.partner_id, None);
        assert!(d.reason.starts_with("no eligible partner"));
    }
}
