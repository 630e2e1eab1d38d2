//! Conflicts in the API: `DealConflict` (what each caller may see of one), `checkConflicts`
//! (the dry run, one probe per input, all found together), and the matcher's score bands
//! (`conflictBands`, `setConflictBands`). Finding them is `candidates`; deciding them,
//! `matching`.

use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID,
};
use entity::{account, deal_registration};

use super::candidates::{self, Conflict, ConflictKind, Probe};
use super::matching::{self, Customer};
use super::policy::sees_internal;
use super::types::{Account, DealRegistration, Product, MANAGERS};
use super::{service, PRODUCT_KIND};
use crate::auth::{actor, Actor, RoleGuard};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::load_one;
use crate::relay::{local_id, UserError, UserErrorCode};

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ConflictKindValue {
    PartnerRegistration,
    DirectAccount,
    ExistingCustomer,
}

/// Why a registration collides with another party. Partners learn only that a conflict of
/// this kind exists and which rule applies: never with whom, how many, how sure, or over
/// which products (`score`, `decision`'s confidence and `evidence` are for vendor staff;
/// `registration` and `account` are null for partners, and a partner sees one entry per
/// kind).
pub struct DealConflict {
    conflict: Conflict,
    reveal: bool,
}

/// How sure the matcher is that two records are one customer (bands: `conflictBands`).
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum MatchDecision {
    /// A conflict: it sends a submission to review and blocks approval.
    Match,
    /// Perhaps the same customer: shown to reviewers, blocks nothing.
    Possible,
}

/// A signal the matcher weighed.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum MatchSignal {
    /// How alike the normalised names (or trading names) are: the base of the score.
    Name,
    /// The same registrable domain or profile page.
    SameDomain,
    /// One domain name under two public suffixes (`globex.com`, `globex.de`).
    SameBrand,
    /// Domains alike enough to be one company's: no evidence either way.
    RelatedDomains,
    /// Two unrelated corporate domains: evidence against.
    DifferentDomains,
    /// Free mail or a shared platform: no evidence.
    SharedDomain,
    SameCountry,
    /// Evidence against: the same name in two countries is two companies.
    DifferentCountry,
}

/// One piece of evidence and what it added to the score (the contributions add up to it).
#[derive(SimpleObject)]
pub struct MatchEvidence {
    pub signal: MatchSignal,
    pub contribution: f64,
    pub detail: String,
}

fn signal(signal: matching::Signal) -> MatchSignal {
    use matching::Signal as S;
    match signal {
        S::Name => MatchSignal::Name,
        S::SameDomain => MatchSignal::SameDomain,
        S::SameBrand => MatchSignal::SameBrand,
        S::RelatedDomains => MatchSignal::RelatedDomains,
        S::DifferentDomains => MatchSignal::DifferentDomains,
        S::SharedDomain => MatchSignal::SharedDomain,
        S::SameCountry => MatchSignal::SameCountry,
        S::DifferentCountry => MatchSignal::DifferentCountry,
    }
}

#[Object]
impl DealConflict {
    async fn kind(&self) -> ConflictKindValue {
        match self.conflict.kind {
            ConflictKind::PartnerRegistration => ConflictKindValue::PartnerRegistration,
            ConflictKind::DirectAccount => ConflictKindValue::DirectAccount,
            ConflictKind::ExistingCustomer => ConflictKindValue::ExistingCustomer,
        }
    }
    /// `MATCH` (a conflict) or `POSSIBLE` (for the reviewer only).
    async fn decision(&self) -> MatchDecision {
        if self.conflict.blocks() {
            MatchDecision::Match
        } else {
            MatchDecision::Possible
        }
    }
    /// How sure the matcher is that it is the same customer, 0-1 (the sum of `evidence`'s
    /// contributions, within 0-1). Null for partners.
    async fn score(&self) -> Option<f64> {
        self.reveal.then_some(self.conflict.verdict.score)
    }
    /// What matched: `name`, `domain`, `country`, and `products` for another partner's
    /// registration.
    async fn matched_on(&self) -> Vec<String> {
        let mut on: Vec<String> = self
            .conflict
            .verdict
            .matched_on()
            .iter()
            .map(ToString::to_string)
            .collect();
        if self.conflict.kind == ConflictKind::PartnerRegistration {
            on.push("products".into());
        }
        on
    }
    /// Each signal the matcher weighed and its contribution. Empty for partners.
    async fn evidence(&self) -> Vec<MatchEvidence> {
        if !self.reveal {
            return vec![];
        }
        self.conflict
            .verdict
            .evidence
            .iter()
            .map(|e| MatchEvidence {
                signal: signal(e.signal),
                contribution: e.contribution,
                detail: e.detail.clone(),
            })
            .collect()
    }
    /// The rule that applies: `FIRST_COME_FIRST_SERVED`, `NAMED_DIRECT_ACCOUNT_RESERVED`, `EXISTING_CUSTOMER`.
    async fn rule(&self) -> &str {
        self.conflict.rule
    }
    /// The products both registrations name. Empty for partners.
    async fn products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Product>> {
        if !self.reveal || self.conflict.products.is_empty() {
            return Ok(vec![]);
        }
        let db = ctx.data::<Db>()?;
        let found = service::products_by_id(db, &self.conflict.products)
            .await
            .extend()?;
        Ok(self
            .conflict
            .products
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Product))
            .collect())
    }
    async fn registration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DealRegistration>> {
        let (true, Some(id)) = (self.reveal, self.conflict.registration_id) else {
            return Ok(None);
        };
        Ok(load_one::<deal_registration::Entity>(ctx, id)
            .await?
            .map(DealRegistration))
    }
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        let (true, Some(id)) = (self.reveal, self.conflict.account_id) else {
            return Ok(None);
        };
        Ok(load_one::<account::Entity>(ctx, id).await?.map(Account))
    }
}

/// A dry run's input as a probe, or what is wrong with it (as `registerDeal` would say).
/// `active`: the active products among those every input names.
fn check_probe(
    actor: &Actor,
    item: &CheckConflictsInput,
    active: &[i64],
) -> (Option<Probe>, Vec<UserError>) {
    let mut errors = Vec::new();
    let (web, country) = super::register::customer_fields(
        &item.customer_name,
        item.customer_domain.as_deref(),
        item.customer_country.as_deref(),
        &mut errors,
    );
    if item.customer_name.chars().count() > 200 {
        errors.push(UserError::new(
            "customerName",
            UserErrorCode::Invalid,
            "must be at most 200 characters",
        ));
    }
    let mut products = Vec::new();
    for (i, id) in item.product_ids.iter().enumerate() {
        match local_id(id, PRODUCT_KIND).filter(|id| active.contains(id)) {
            Some(id) => products.push(id),
            None => errors.push(UserError::new(
                &format!("productIds.{i}"),
                UserErrorCode::NotFound,
                "no such product",
            )),
        }
    }
    if !errors.is_empty() {
        return (None, errors);
    }
    let domain = web.map(|web| web.host);
    let probe = Probe {
        id: None,
        partner_id: actor.partner_id.unwrap_or(-1),
        customer: Customer::shared(&item.customer_name, domain.as_deref(), country.as_deref()),
        products,
        submitted_at: None,
    };
    (Some(probe), errors)
}

/// The conflicts `actor` may see of `found`: for vendor staff every one with `decision`
/// (`MATCH`, or with `possible` the `POSSIBLE` ones), for a partner one `MATCH` per kind.
pub fn shown(found: Vec<Conflict>, actor: &Actor, possible: bool) -> Vec<DealConflict> {
    let reveal = sees_internal(actor);
    let mut kinds: Vec<ConflictKind> = Vec::new();
    found
        .into_iter()
        .filter(|conflict| conflict.blocks() != possible)
        .filter(|conflict| {
            reveal
                || (!possible && !kinds.contains(&conflict.kind) && {
                    kinds.push(conflict.kind);
                    true
                })
        })
        .map(|conflict| DealConflict { conflict, reveal })
        .collect()
}

#[derive(InputObject)]
pub struct CheckConflictsInput {
    pub customer_name: String,
    /// A website, domain or e-mail address; Unicode or punycode.
    pub customer_domain: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub customer_country: Option<String>,
    pub product_ids: Vec<ID>,
}

/// The answer for one prospective registration.
#[derive(SimpleObject)]
pub struct ConflictCheck {
    pub customer_name: String,
    /// Whether registering it would conflict (a `MATCH`).
    pub has_conflict: bool,
    /// The conflicts (`MATCH`). A partner sees one per kind, without scores or evidence.
    pub conflicts: Vec<DealConflict>,
    /// Perhaps the same customer (`POSSIBLE`), for vendor staff; empty for partners.
    pub possible_conflicts: Vec<DealConflict>,
    /// What is wrong with this input (nothing was checked).
    pub user_errors: Vec<UserError>,
}

/// The matcher's score bands: at least `matchAt` is a conflict (`MATCH`); at least
/// `possibleAt` is shown to reviewers as `POSSIBLE`.
#[derive(SimpleObject, InputObject, Clone, Copy)]
#[graphql(input_name = "SetConflictBandsInput")]
pub struct ConflictBands {
    pub match_at: f64,
    pub possible_at: f64,
}

#[derive(SimpleObject)]
pub struct ConflictBandsPayload {
    pub conflict_bands: Option<ConflictBands>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ConflictQuery;

#[Object]
impl ConflictQuery {
    /// The conflict matcher's score bands (channel managers).
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn conflict_bands(&self, ctx: &Context<'_>) -> async_graphql::Result<ConflictBands> {
        let db = ctx.data::<Db>()?;
        let bands = candidates::bands(db).await.extend()?;
        Ok(ConflictBands {
            match_at: bands.match_at,
            possible_at: bands.possible_at,
        })
    }
}

#[derive(Default)]
pub struct ConflictMutation;

#[Object]
impl ConflictMutation {
    /// Sets the conflict matcher's score bands; the next check on every replica uses them.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn set_conflict_bands(
        &self,
        ctx: &Context<'_>,
        input: ConflictBands,
    ) -> async_graphql::Result<ConflictBandsPayload> {
        let db = ctx.data::<Db>()?;
        let bands = matching::Bands {
            match_at: input.match_at,
            possible_at: input.possible_at,
        };
        if let Some(problem) = bands.problem() {
            return Ok(ConflictBandsPayload {
                conflict_bands: None,
                user_errors: UserError::one("possibleAt", UserErrorCode::Invalid, problem),
            });
        }
        candidates::set_bands(db, bands).await.extend()?;
        Ok(ConflictBandsPayload {
            conflict_bands: Some(input),
            user_errors: vec![],
        })
    }

    /// Dry run of the conflict engine for one or more prospective registrations: the same
    /// evidence a registration would carry, registering nothing.
    async fn check_conflicts(
        &self,
        ctx: &Context<'_>,
        input: Vec<CheckConflictsInput>,
    ) -> async_graphql::Result<Vec<ConflictCheck>> {
        let actor = actor(ctx)?;
        if input.len() > 50 {
            return Err(AppError::BadUserInput("at most 50 checks per call".into()).extend());
        }
        let db = ctx.data::<Db>()?;
        // A product that does not exist (or no longer sold) is refused as `registerDeal`
        // refuses it, not taken as "no shared product, no conflict".
        let named: Vec<i64> = input
            .iter()
            .flat_map(|item| &item.product_ids)
            .filter_map(|id| local_id(id, PRODUCT_KIND))
            .collect();
        let active = match named.is_empty() {
            true => Vec::new(),
            false => super::register::active_products(db, &crate::loaders::distinct(named))
                .await
                .extend()?,
        };
        let mut probes = Vec::new();
        let mut checks: Vec<(String, Vec<UserError>)> = Vec::with_capacity(input.len());
        for item in input {
            let (probe, errors) = check_probe(&actor, &item, &active);
            probes.extend(probe);
            checks.push((item.customer_name, errors));
        }
        let mut found = candidates::conflicts_of_many(db, &probes)
            .await
            .extend()?
            .into_iter();
        Ok(checks
            .into_iter()
            .map(|(customer_name, user_errors)| {
                let conflicts = if user_errors.is_empty() {
                    found.next().unwrap_or_default()
                } else {
                    vec![]
                };
                let has_conflict = conflicts.iter().any(Conflict::blocks);
                ConflictCheck {
                    customer_name,
                    has_conflict,
                    possible_conflicts: shown(conflicts.clone(), &actor, true),
                    conflicts: shown(conflicts, &actor, false),
                    user_errors,
                }
            })
            .collect())
    }
}
