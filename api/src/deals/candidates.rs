//! Conflicts: which parties a registration collides with. The database only finds
//! candidates, through the matcher's blocking keys (`registration_keys`, `account_keys`);
//! `deals::matching` decides which of them are the same customer and says why.
//!
//! - Candidates for any number of probes (one registration, a dry run of 50, a page of the
//!   review queue) are two or three statements: the keys' postings, then the rows of the
//!   best candidates with their products or domains.
//! - Every key is counted (its rarity), but only keys held by few customers list their
//!   holders (`postings`), so a common word ("solutions") cannot make a lookup read the
//!   whole program; each probe then compares at most `PER_PROBE` candidates of other
//!   partners, those sharing the most (and the strongest) keys first.
//! - The keys of a registration exist while it is active (written and removed with its
//!   status, in the same transaction); an account's while it exists (`keys`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::enums::{AccountOwnership, DealStatus};
use entity::{account, deal_registration};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr, UnionType};
use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, FromQueryResult};

use super::matching::{self, blocking_keys, compare, Bands, Customer, Decision, Verdict};
use super::postings::Postings;
pub use super::postings::{bands, set_bands};
use super::service::ACTIVE;
use crate::db;
use crate::error::{AppError, AppResult};

/// Candidates compared per probe, best first, other partners' only. 50 made a review page
/// read and compare up to 2,500 registrations, most of them sharing one sound; the corpus
/// finds the same with 20 once the probe's own partner's registrations no longer take
/// places.
const PER_PROBE: usize = 20;

#[derive(Debug, Clone)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub verdict: Verdict,
    pub rule: &'static str,
    pub registration_id: Option<i64>,
    pub account_id: Option<i64>,
    pub products: Vec<i64>,
}

impl Conflict {
    /// A `MATCH`: it blocks approval and sends a submission to review. A `POSSIBLE` one is
    /// shown to reviewers only.
    pub fn blocks(&self) -> bool {
        self.verdict.decision == Decision::Match
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConflictKind {
    PartnerRegistration,
    DirectAccount,
    ExistingCustomer,
}

/// The registration being checked: its customer, products, partner and place in line.
pub struct Probe {
    pub id: Option<i64>,
    pub partner_id: i64,
    pub customer: Arc<Customer>,
    pub products: Vec<i64>,
    /// When it was submitted; `None` (a draft or a dry run) ranks after every submission.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// A stored registration's customer as the matcher reads it.
pub fn customer_of(registration: &deal_registration::Model) -> Arc<Customer> {
    Customer::shared(
        &registration.customer_name,
        registration.customer_domain.as_deref(),
        registration.customer_country.as_deref(),
    )
}

impl Probe {
    pub async fn of(
        db: &impl ConnectionTrait,
        registration: &deal_registration::Model,
    ) -> AppResult<Probe> {
        let mut probes = Probe::of_many(db, std::slice::from_ref(registration)).await?;
        Ok(probes.remove(0))
    }

    /// A stored registration as a probe, its products still to be filled in.
    pub(super) fn without_products(registration: &deal_registration::Model) -> Probe {
        Probe {
            id: Some(registration.id),
            partner_id: registration.partner_id,
            customer: customer_of(registration),
            products: Vec::new(),
            submitted_at: registration.submitted_at,
        }
    }

    /// Probes for several stored registrations, their products read in one query.
    pub async fn of_many(
        db: &impl ConnectionTrait,
        registrations: &[deal_registration::Model],
    ) -> AppResult<Vec<Probe>> {
        let ids: Vec<i64> = registrations.iter().map(|r| r.id).collect();
        let mut products = super::service::products_of_many(db, &ids).await?;
        Ok(registrations
            .iter()
            .map(|registration| Probe {
                products: products.remove(&registration.id).unwrap_or_default(),
                ..Probe::without_products(registration)
            })
            .collect())
    }
}

/// Has `other` priority over `probe`? Approved registrations always do; otherwise the
/// earlier submission wins.
fn has_priority(
    status: DealStatus,
    submitted_at: Option<DateTime<Utc>>,
    id: i64,
    probe: &Probe,
) -> bool {
    if status == DealStatus::Approved {
        return true;
    }
    match (submitted_at, probe.submitted_at) {
        (Some(theirs), Some(ours)) => (theirs, id) < (ours, probe.id.unwrap_or(i64::MAX)),
        (Some(_), None) => true,
        _ => false,
    }
}

/// Conflicts of `probe` (both `MATCH` and `POSSIBLE`): other partners' active registrations
/// with priority, and named direct accounts or existing customers.
pub async fn conflicts(db: &impl ConnectionTrait, probe: &Probe) -> AppResult<Vec<Conflict>> {
    let mut found = conflicts_of_many(db, std::slice::from_ref(probe)).await?;
    Ok(found.remove(0))
}

/// Conflicts of several probes at once, in the probes' order, in the same statements
/// whatever their number. A probe's answer never depends on which others it was checked
/// with: each compares only the candidates its own keys found.
pub async fn conflicts_of_many(
    db: &impl ConnectionTrait,
    probes: &[Probe],
) -> AppResult<Vec<Vec<Conflict>>> {
    let assessed = assess_many(db, probes).await?;
    Ok(assessed.into_iter().map(|a| a.conflicts).collect())
}

/// A probe's conflicts and the best score among every party it was compared with (0 when
/// none): what `hasConflicts` keeps, so that it holds whatever the bands become.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    pub conflicts: Vec<Conflict>,
    pub score: f64,
}

impl Assessment {
    /// The conflicts among `compared` (every eligible party, whatever its score).
    fn of(compared: Vec<Conflict>) -> Assessment {
        let score = compared.iter().map(|c| c.verdict.score).fold(0.0, f64::max);
        let conflicts = compared
            .into_iter()
            .filter(|c| c.verdict.decision != Decision::NoMatch)
            .collect();
        Assessment { conflicts, score }
    }
}

/// `conflicts` with the probe's best score.
pub async fn assess(db: &impl ConnectionTrait, probe: &Probe) -> AppResult<Assessment> {
    let mut assessed = assess_many(db, std::slice::from_ref(probe)).await?;
    Ok(assessed.remove(0))
}

/// `conflicts_of_many` with each probe's best score.
async fn assess_many(db: &impl ConnectionTrait, probes: &[Probe]) -> AppResult<Vec<Assessment>> {
    if probes.is_empty() {
        return Ok(vec![]);
    }
    let candidates = Candidates::of(db, probes, &[], &[]).await?;
    Ok(candidates
        .judge(probes)
        .into_iter()
        .map(Assessment::of)
        .collect())
}

/// The conflicts of registrations listed in the API. An active registration whose kept
/// score (`conflict_scores`) is below the bands has none and is not compared again: most of
/// a list's rows, whose candidates were most of its cost. The bands come with the keys'
/// postings, so the statements are the same whatever the rows.
pub async fn conflicts_of_listed(
    db: &impl ConnectionTrait,
    stored: &[deal_registration::Model],
) -> AppResult<Vec<Vec<Conflict>>> {
    let kept: Vec<Option<f64>> = stored
        .iter()
        .map(|r| {
            ACTIVE
                .contains(&r.status)
                .then_some(r.conflict_score)
                .flatten()
        })
        .collect();
    let assessed = assess_stored(db, stored, &kept).await?;
    Ok(assessed.into_iter().map(|a| a.conflicts).collect())
}

/// The conflicts of stored registrations with each one's best score: their own products are
/// read with the candidates'.
pub async fn assess_registrations(
    db: &impl ConnectionTrait,
    stored: &[deal_registration::Model],
) -> AppResult<Vec<Assessment>> {
    assess_stored(db, stored, &[]).await
}

/// Assesses `stored`, skipping those whose `kept` score is below the bands.
async fn assess_stored(
    db: &impl ConnectionTrait,
    stored: &[deal_registration::Model],
    kept: &[Option<f64>],
) -> AppResult<Vec<Assessment>> {
    if stored.is_empty() {
        return Ok(vec![]);
    }
    let mut probes: Vec<Probe> = stored.iter().map(Probe::without_products).collect();
    let ids: Vec<i64> = stored.iter().map(|r| r.id).collect();
    let candidates = Candidates::of(db, &probes, &ids, kept).await?;
    for probe in &mut probes {
        let own = probe.id.and_then(|id| candidates.products.get(&id));
        probe.products = own.cloned().unwrap_or_default();
    }
    Ok(candidates
        .judge(&probes)
        .into_iter()
        .map(Assessment::of)
        .collect())
}

/// The registrations `probe`'s keys find (its own excluded), by id: those whose conflicts
/// may change when it does. One statement.
pub async fn registrations_near(db: &impl ConnectionTrait, probe: &Probe) -> AppResult<Vec<i64>> {
    registrations_near_all(db, std::slice::from_ref(probe)).await
}

/// The registrations an account's keys find (at most `PER_PROBE` per customer it stands
/// for, one for each of its domains). One statement.
pub async fn registrations_near_account(
    db: &impl ConnectionTrait,
    customers: &[Arc<Customer>],
) -> AppResult<Vec<i64>> {
    let probes: Vec<Probe> = customers
        .iter()
        .map(|customer| Probe {
            id: None,
            partner_id: 0,
            customer: customer.clone(),
            products: vec![],
            submitted_at: None,
        })
        .collect();
    registrations_near_all(db, &probes).await
}

/// The registrations any of `probes`' keys find, each probe picking its own: one statement.
async fn registrations_near_all(
    db: &impl ConnectionTrait,
    probes: &[Probe],
) -> AppResult<Vec<i64>> {
    let (keyed, keys) = keys_of(probes);
    let postings = Postings::read(db, &keys).await?;
    let holders = postings.holders();
    let mut found: Vec<i64> = probes
        .iter()
        .zip(&keyed)
        .flat_map(|(probe, keys)| pick(probe, keys, &holders))
        .filter_map(|owner| match owner {
            Owner::Registration(id) => Some(id),
            Owner::Account(_) => None,
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// Each probe's blocking keys, and all of them once.
fn keys_of(probes: &[Probe]) -> (Vec<Vec<String>>, Vec<String>) {
    let keyed: Vec<Vec<String>> = probes.iter().map(|p| blocking_keys(&p.customer)).collect();
    let mut keys: Vec<String> = keyed.iter().flatten().cloned().collect();
    keys.sort();
    keys.dedup();
    (keyed, keys)
}

/// Who holds a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Owner {
    Registration(i64),
    Account(i64),
}

/// What the probes may conflict with, each probe's own pick of them, and how common each
/// key is (the matcher's rarity).
struct Candidates {
    registrations: HashMap<i64, Candidate>,
    /// By registration: the candidates' and those of the `also` ids given to `of`.
    products: HashMap<i64, Vec<i64>>,
    accounts: HashMap<i64, AccountCandidate>,
    /// Per probe, the owners its keys found, best first.
    picked: Vec<Vec<Owner>>,
    postings: HashMap<String, u64>,
    bands: Bands,
}

/// What the conflict engine reads of another registration.
struct Candidate {
    partner_id: i64,
    status: DealStatus,
    customer: Arc<Customer>,
    submitted_at: Option<DateTime<Utc>>,
}

/// What the conflict engine reads of an account: its name and country, once per domain.
struct AccountCandidate {
    ownership: AccountOwnership,
    is_customer: bool,
    /// The account as a customer, once per domain it has (once without, when none).
    customers: Vec<Arc<Customer>>,
}

/// How much a shared key of each kind says: a domain more than a sound.
fn key_strength(key: &str) -> u32 {
    match key.split_once(':').map(|(kind, _)| kind) {
        Some("d") => 8,
        Some("j") | Some("a") => 4,
        Some("e") | Some("l") => 2,
        _ => 1,
    }
}

impl Candidates {
    /// `kept`: per probe, a score below which it is known to have no conflict (none: compare).
    async fn of(
        db: &impl ConnectionTrait,
        probes: &[Probe],
        also: &[i64],
        kept: &[Option<f64>],
    ) -> AppResult<Self> {
        let (keyed, keys) = keys_of(probes);
        let found = Postings::read(db, &keys).await?;
        let picked: Vec<Vec<Owner>> = {
            let holders = found.holders();
            let quiet = |i: usize| {
                kept.get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|score| score < found.bands.possible_at)
            };
            probes
                .iter()
                .zip(&keyed)
                .enumerate()
                .map(|(i, (probe, keys))| match quiet(i) {
                    true => Vec::new(),
                    false => pick(probe, keys, &holders),
                })
                .collect()
        };
        // The postings' rows (thousands for a page of fifty) are let go before the wait for
        // a connection to read the candidates: 32 review queues at once held them there
        // (with the signals read one at a time, peak RSS 111-114 → 89-91 MB, see `signals`).
        let (postings, bands) = found.into_counts_and_bands();
        drop((keyed, keys));
        let mut registration_ids: Vec<i64> = also.to_vec();
        let mut account_ids: Vec<i64> = Vec::new();
        for owner in picked.iter().flatten() {
            match owner {
                Owner::Registration(id) => registration_ids.push(*id),
                Owner::Account(id) => account_ids.push(*id),
            }
        }
        registration_ids.sort_unstable();
        registration_ids.dedup();
        account_ids.sort_unstable();
        account_ids.dedup();
        let (registrations, products, accounts) =
            read_candidates(db, &registration_ids, &account_ids).await?;
        Ok(Candidates {
            registrations,
            products,
            accounts,
            picked,
            postings,
            bands,
        })
    }

    /// Each probe's candidates that it may conflict with (other partners' registrations with
    /// priority and a shared product, reserved accounts), whatever their score.
    fn judge(&self, probes: &[Probe]) -> Vec<Vec<Conflict>> {
        let bands = &self.bands;
        probes
            .iter()
            .zip(&self.picked)
            .map(|(probe, picked)| {
                let own = probe.id.is_some();
                let rarity = |token: &str| {
                    let postings = self.postings.get(&format!("e:{token}")).copied();
                    let others = postings.unwrap_or(0).saturating_sub(u64::from(own));
                    matching::rarity_from_postings(others)
                };
                let mut found: Vec<Conflict> = picked
                    .iter()
                    .filter_map(|owner| match owner {
                        Owner::Registration(id) => {
                            self.registration_conflict(probe, *id, bands, &rarity)
                        }
                        Owner::Account(id) => self.account_conflict(probe, *id, bands, &rarity),
                    })
                    .collect();
                found.sort_by(|a, b| {
                    (a.kind, -a.verdict.score, a.registration_id, a.account_id)
                        .partial_cmp(&(b.kind, -b.verdict.score, b.registration_id, b.account_id))
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                found
            })
            .collect()
    }

    fn registration_conflict(
        &self,
        probe: &Probe,
        id: i64,
        bands: &Bands,
        rarity: &dyn Fn(&str) -> f64,
    ) -> Option<Conflict> {
        let other = self.registrations.get(&id)?;
        if other.partner_id == probe.partner_id
            || Some(id) == probe.id
            || !ACTIVE.contains(&other.status)
            || !has_priority(other.status, other.submitted_at, id, probe)
        {
            return None;
        }
        let theirs = self.products.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let products = shared_products(&probe.products, theirs);
        if products.is_empty() {
            return None;
        }
        let verdict = compare(&probe.customer, &other.customer, bands, rarity);
        Some(Conflict {
            kind: ConflictKind::PartnerRegistration,
            verdict,
            rule: "FIRST_COME_FIRST_SERVED",
            registration_id: Some(id),
            account_id: None,
            products,
        })
    }

    fn account_conflict(
        &self,
        probe: &Probe,
        id: i64,
        bands: &Bands,
        rarity: &dyn Fn(&str) -> f64,
    ) -> Option<Conflict> {
        let account = self.accounts.get(&id)?;
        let (kind, rule) = match (account.ownership, account.is_customer) {
            (AccountOwnership::Direct, _) => {
                (ConflictKind::DirectAccount, "NAMED_DIRECT_ACCOUNT_RESERVED")
            }
            (_, true) => (ConflictKind::ExistingCustomer, "EXISTING_CUSTOMER"),
            _ => return None,
        };
        let verdict = account
            .customers
            .iter()
            .map(|customer| compare(&probe.customer, customer, bands, rarity))
            .max_by(|a, b| a.score.total_cmp(&b.score))?;
        Some(Conflict {
            kind,
            verdict,
            rule,
            registration_id: None,
            account_id: Some(id),
            products: vec![],
        })
    }
}

/// Who holds a key: a registration (with its partner) or an account.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder {
    pub(super) owner: Owner,
    pub(super) partner: Option<i64>,
}

/// The owners `probe`'s keys found, those sharing the most (and strongest) keys first, at
/// most `PER_PROBE`; never the probe's own registration, nor another of its partner's,
/// which can never conflict with it (they would take the places of other partners').
fn pick(probe: &Probe, keys: &[String], holders: &HashMap<&str, Vec<Holder>>) -> Vec<Owner> {
    let mut strength: BTreeMap<Owner, u32> = BTreeMap::new();
    for key in keys {
        for holder in holders.get(key.as_str()).into_iter().flatten() {
            let own = probe
                .id
                .is_some_and(|id| holder.owner == Owner::Registration(id))
                || holder.partner == Some(probe.partner_id);
            if own {
                continue;
            }
            *strength.entry(holder.owner).or_default() += key_strength(key);
        }
    }
    let mut ranked: Vec<(Owner, u32)> = strength.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(PER_PROBE);
    ranked.into_iter().map(|(owner, _)| owner).collect()
}

/// Products two registrations share.
pub fn shared_products(a: &[i64], b: &[i64]) -> Vec<i64> {
    let mut shared: Vec<i64> = a.iter().copied().filter(|p| b.contains(p)).collect();
    shared.sort_unstable();
    shared.dedup();
    shared
}

/// One candidate: a registration (`account` 0) or an account (1), the other kind's columns
/// NULL. `listed` holds a registration's product ids (`1,5,9`) or an account's domains
/// (`acme.com,acme.de`).
#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    account: i32,
    id: i64,
    partner_id: Option<i64>,
    status: Option<String>,
    name: String,
    domain: Option<String>,
    country: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    ownership: Option<String>,
    is_customer: Option<bool>,
    listed: Option<String>,
}

type Found = (
    HashMap<i64, Candidate>,
    HashMap<i64, Vec<i64>>,
    HashMap<i64, AccountCandidate>,
);

/// The registrations and accounts `ids` as candidates, with each registration's products
/// and each account's domains: one statement.
async fn read_candidates(
    db: &impl ConnectionTrait,
    registrations: &[i64],
    accounts: &[i64],
) -> AppResult<Found> {
    let mut found: Found = Default::default();
    let backend = db.get_database_backend();
    let mut parts = Vec::new();
    if !registrations.is_empty() {
        parts.push(registration_rows(backend, registrations));
    }
    if !accounts.is_empty() {
        parts.push(account_rows(backend, accounts));
    }
    let Some(mut query) = parts.first().cloned() else {
        return Ok(found);
    };
    for part in parts.into_iter().skip(1) {
        query.union(UnionType::All, part);
    }
    for row in CandidateRow::find_by_statement(backend.build(&query))
        .all(db)
        .await?
    {
        read_row(row, &mut found)?;
    }
    Ok(found)
}

fn read_row(row: CandidateRow, found: &mut Found) -> AppResult<()> {
    let id = row.id;
    let malformed = |what: &str| AppError::internal(format!("candidate {id}: {what}"));
    let listed = row.listed.unwrap_or_default();
    let items = listed.split(',').filter(|item| !item.is_empty());
    if row.account == 1 {
        let domains: Vec<&str> = items.collect();
        let ownership = AccountOwnership::try_from_value(
            &row.ownership.ok_or_else(|| malformed("no ownership"))?,
        )?;
        let customers = account_customers(&row.name, row.country.as_deref(), &domains);
        found.2.insert(
            id,
            AccountCandidate {
                ownership,
                is_customer: row.is_customer.unwrap_or(false),
                customers,
            },
        );
        return Ok(());
    }
    let mut products: Vec<i64> = items
        .map(|item| item.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| malformed("products"))?;
    products.sort_unstable();
    products.dedup();
    found.1.insert(id, products);
    found.0.insert(
        id,
        Candidate {
            partner_id: row.partner_id.ok_or_else(|| malformed("no partner"))?,
            status: DealStatus::try_from_value(&row.status.ok_or_else(|| malformed("no status"))?)?,
            customer: Customer::shared(&row.name, row.domain.as_deref(), row.country.as_deref()),
            submitted_at: row.submitted_at,
        },
    );
    Ok(())
}

/// `(SELECT` the texts `arguments` aggregates, joined, `FROM from)`, in the aggregate each
/// database has.
fn listed(backend: DbBackend, arguments: &str, from: &str) -> SimpleExpr {
    let aggregate = match backend {
        DbBackend::Postgres => "string_agg",
        _ => "group_concat",
    };
    Expr::cust(format!("(SELECT {aggregate}({arguments}) FROM {from})"))
}

const NULL: &str = "NULL";

fn registration_rows(backend: DbBackend, ids: &[i64]) -> SelectStatement {
    use deal_registration::Column as C;
    let column = |c: C| Expr::col((deal_registration::Entity, c));
    Query::select()
        .expr_as(Expr::cust("0"), Alias::new("account"))
        .expr_as(column(C::Id), Alias::new("id"))
        .expr_as(column(C::PartnerId), Alias::new("partner_id"))
        .expr_as(column(C::Status), Alias::new("status"))
        .expr_as(column(C::CustomerName), Alias::new("name"))
        .expr_as(column(C::CustomerDomain), Alias::new("domain"))
        .expr_as(column(C::CustomerCountry), Alias::new("country"))
        .expr_as(column(C::SubmittedAt), Alias::new("submitted_at"))
        .expr_as(Expr::cust(NULL), Alias::new("ownership"))
        .expr_as(Expr::cust(NULL), Alias::new("is_customer"))
        .expr_as(
            listed(
                backend,
                "CAST(p.product_id AS TEXT), ','",
                "deal_registration_products AS p WHERE p.registration_id = deal_registrations.id",
            ),
            Alias::new("listed"),
        )
        .from(deal_registration::Entity)
        .and_where(db::in_ids(backend, column(C::Id).into(), ids))
        .to_owned()
}

fn account_rows(backend: DbBackend, ids: &[i64]) -> SelectStatement {
    use account::Column as C;
    let column = |c: C| Expr::col((account::Entity, c));
    Query::select()
        .expr_as(Expr::cust("1"), Alias::new("account"))
        .expr_as(column(C::Id), Alias::new("id"))
        .expr_as(Expr::cust(NULL), Alias::new("partner_id"))
        .expr_as(Expr::cust(NULL), Alias::new("status"))
        .expr_as(column(C::Name), Alias::new("name"))
        .expr_as(Expr::cust(NULL), Alias::new("domain"))
        .expr_as(column(C::Country), Alias::new("country"))
        .expr_as(Expr::cust(NULL), Alias::new("submitted_at"))
        .expr_as(column(C::Ownership), Alias::new("ownership"))
        .expr_as(column(C::IsCustomer), Alias::new("is_customer"))
        .expr_as(
            listed(
                backend,
                "d.domain, ',' ORDER BY d.id",
                "account_domains AS d WHERE d.account_id = accounts.id",
            ),
            Alias::new("listed"),
        )
        .from(account::Entity)
        .and_where(db::in_ids(backend, column(C::Id).into(), ids))
        .to_owned()
}

/// An account as customers to compare with: once per domain, once without when it has none.
pub(super) fn account_customers(
    name: &str,
    country: Option<&str>,
    domains: &[&str],
) -> Vec<Arc<Customer>> {
    if domains.is_empty() {
        return vec![Customer::shared(name, None, country)];
    }
    domains
        .iter()
        .map(|domain| Customer::shared(name, Some(domain), country))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_overlap() {
        assert_eq!(shared_products(&[1, 2, 3], &[3, 2, 9]), [2, 3]);
        assert!(shared_products(&[1], &[2]).is_empty());
    }

    #[test]
    fn the_strongest_shared_keys_rank_first_and_the_probes_partner_is_never_a_candidate() {
        let probe = Probe {
            id: Some(1),
            partner_id: 1,
            customer: Customer::shared("Globex", Some("globex.com"), None),
            products: vec![],
            submitted_at: None,
        };
        let keys = vec!["d:globex.com".to_owned(), "e:globex".to_owned()];
        let registration = |id, partner| Holder {
            owner: Owner::Registration(id),
            partner: Some(partner),
        };
        let account = Holder {
            owner: Owner::Account(9),
            partner: None,
        };
        let mut holders: HashMap<&str, Vec<Holder>> = HashMap::new();
        holders.insert(
            "d:globex.com",
            vec![registration(3, 2), registration(1, 1), registration(4, 1)],
        );
        holders.insert("e:globex", vec![account, registration(3, 2)]);
        assert_eq!(
            pick(&probe, &keys, &holders),
            [Owner::Registration(3), Owner::Account(9)],
            "registration 4 is the probe's partner's"
        );
    }
}
