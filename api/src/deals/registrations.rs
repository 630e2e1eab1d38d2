//! Finding registrations: `dealRegistrations(filter:)` and `Partner.dealRegistrations`, the
//! filters a channel team works with, each answered from an index, within what the caller
//! may see.

use std::collections::BTreeSet;

use async_graphql::{Context, ErrorExtensions, InputObject, ResultExt, ID};
use chrono::{DateTime, Utc};
use entity::enums::{DealStatus as StoredStatus, Role};
use entity::{deal_registration, deal_registration_product};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};

use super::candidates;
use super::matching::{web, Customer};
use super::policy;
use super::service::held_total;
use super::types::{held_by, prefetch, DealRegistration, DealStatus};
use super::{status_is, PRODUCT_KIND};
use crate::auth::{actor, Actor};
use crate::db::Db;
use crate::error::AppError;
use crate::partners::policy::PartnerScope;
use crate::relay::{
    local_id, paginate_newest_first, paginate_newest_first_counted, PageArgs, RelayConnection,
};

/// Narrows a list of registrations; every field given must hold.
#[derive(InputObject, Default, Clone)]
pub struct DealRegistrationFilter {
    pub status: Option<DealStatus>,
    /// Any of these statuses.
    pub statuses: Option<Vec<DealStatus>>,
    /// The partner that registered them.
    pub partner_id: Option<ID>,
    /// A company name or a domain, compared as the conflict matcher normalises them:
    /// "GLOBEX Corp." finds "Globex Corporation"; one word finds names starting with it;
    /// a domain finds its registrable domain ("eu.globex.com" finds "globex.com").
    pub customer: Option<String>,
    /// Naming this product.
    pub product_id: Option<ID>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Closed (won or lost) at or after.
    pub closed_from: Option<DateTime<Utc>>,
    /// Closed before.
    pub closed_before: Option<DateTime<Utc>>,
    /// Touching a named direct account of this direct rep (the owner rep).
    pub owner_id: Option<ID>,
    /// Active (submitted, under review or approved) and conflicting with another party under
    /// the current bands (`true`): `MATCH` or `POSSIBLE` for vendor staff, `MATCH` for
    /// partners (who see no possible conflicts); or not (`false`: every other registration,
    /// drafts and closed ones included).
    pub has_conflicts: Option<bool>,
}

impl DealRegistrationFilter {
    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.statuses.is_none()
            && self.partner_id.is_none()
            && self.customer.is_none()
            && self.product_id.is_none()
            && self.submitted_from.is_none()
            && self.submitted_before.is_none()
            && self.closed_from.is_none()
            && self.closed_before.is_none()
            && self.owner_id.is_none()
            && self.has_conflicts.is_none()
    }

    /// `select` narrowed by every field given. An id that names nothing matches nothing.
    /// `conflicting_from`: the score a conflict starts at, when `has_conflicts` is given.
    fn apply(
        &self,
        mut select: Select<deal_registration::Entity>,
        conflicting_from: f64,
    ) -> Result<Select<deal_registration::Entity>, AppError> {
        use deal_registration::Column as C;
        if let Some(status) = self.status {
            select = select.filter(status_is(StoredStatus::from(status)));
        }
        if let Some(statuses) = &self.statuses {
            let stored: Vec<StoredStatus> = statuses.iter().map(|s| (*s).into()).collect();
            select = select.filter(C::Status.is_in(stored));
        }
        if let Some(partner) = &self.partner_id {
            let id = local_id(partner, crate::partners::NODE_KIND).unwrap_or(-1);
            select = select.filter(C::PartnerId.eq(id));
        }
        if let Some(text) = &self.customer {
            select = select.filter(customer_is(text)?);
        }
        if let Some(product) = &self.product_id {
            let id = local_id(product, PRODUCT_KIND).unwrap_or(-1);
            let naming = deal_registration_product::Entity::find()
                .select_only()
                .column(deal_registration_product::Column::RegistrationId)
                .filter(deal_registration_product::Column::ProductId.eq(id))
                .into_query();
            select = select.filter(C::Id.in_subquery(naming));
        }
        for (bound, column, from) in [
            (self.submitted_from, C::SubmittedAt, true),
            (self.submitted_before, C::SubmittedAt, false),
            (self.closed_from, C::ClosedAt, true),
            (self.closed_before, C::ClosedAt, false),
        ] {
            if let Some(at) = bound {
                select = select.filter(if from { column.gte(at) } else { column.lt(at) });
            }
        }
        if let Some(owner) = &self.owner_id {
            let rep = local_id(owner, crate::users::NODE_KIND).unwrap_or(-1);
            select = select.filter(policy::touches_accounts_of(rep));
        }
        // The score is kept for active registrations only (`conflict_scores`).
        let conflicting = C::ConflictScore.gte(conflicting_from);
        match self.has_conflicts {
            Some(true) => select = select.filter(conflicting),
            Some(false) => {
                select = select.filter(
                    Condition::any()
                        .add(C::ConflictScore.is_null())
                        .add(C::ConflictScore.lt(conflicting_from)),
                )
            }
            None => {}
        }
        Ok(select)
    }
}

/// Registrations whose customer `text` names: by registrable domain when it is a domain,
/// else by normalised name (or, for one word, by the name's first word).
fn customer_is(text: &str) -> Result<Condition, AppError> {
    use deal_registration::Column as C;
    if text.chars().count() > 200 {
        return Err(AppError::BadUserInput(
            "filter.customer must be at most 200 characters".into(),
        ));
    }
    let looks_like_domain = text.contains('.') && !text.trim().contains(' ');
    if looks_like_domain {
        if let Ok(Some(site)) = web::parse(text) {
            if let Some(identity) = site.identity_key() {
                return Ok(Condition::all().add(C::CustomerRoot.eq(identity)));
            }
        }
    }
    let customer = Customer::new(text, None, None);
    let name = customer.name_key();
    if name.is_empty() {
        return Ok(Condition::all().add(Expr::cust("1 = 0")));
    }
    Ok(if customer.names[0].len() == 1 {
        Condition::any()
            .add(C::CustomerNameKey.eq(name))
            .add(C::CustomerNameToken.eq(customer.first_token()))
    } else {
        Condition::all().add(C::CustomerNameKey.eq(name))
    })
}

/// The partners whose kept registration counts are the caller's unfiltered list (narrowed to
/// `partner` when given), if they are.
async fn kept_count_of(
    db: &Db,
    actor: &Actor,
    partner: Option<i64>,
) -> Result<Option<Vec<i64>>, AppError> {
    let scope = policy::visible_partners(db, actor).await?;
    let counted: Option<BTreeSet<i64>> = match (scope, partner) {
        (Some(PartnerScope::Only(partners)), None) => Some(partners.clone()),
        (Some(scope), Some(one)) => scope.allows(one).then(|| BTreeSet::from([one])),
        (None, Some(one)) if actor.role == Role::ChannelManager => Some(BTreeSet::from([one])),
        _ => None,
    };
    Ok(counted.map(|partners| partners.into_iter().collect()))
}

/// A page of the registrations the caller may see, narrowed by `filter` (and to `partner`
/// when given), newest first.
pub async fn list(
    ctx: &Context<'_>,
    page: PageArgs,
    filter: Option<DealRegistrationFilter>,
    partner: Option<i64>,
) -> async_graphql::Result<RelayConnection<DealRegistration>> {
    let actor = actor(ctx)?;
    let db = ctx.data::<Db>()?;
    let filter = filter.unwrap_or_default();
    let mut select = policy::visible_select(db, &actor).await.extend()?;
    // Partners see `MATCH` conflicts only (`possibleConflicts` is empty for them), so for
    // them a conflict starts at the match band.
    let conflicting_from = match filter.has_conflicts {
        Some(_) => {
            let bands = candidates::bands(db).await.extend()?;
            match policy::sees_internal(&actor) {
                true => bands.possible_at,
                false => bands.match_at,
            }
        }
        None => 0.0,
    };
    select = filter
        .apply(select, conflicting_from)
        .map_err(|e| e.extend())?;
    if let Some(partner) = partner {
        select = select.filter(deal_registration::Column::PartnerId.eq(partner));
    }
    // Unfiltered, each partner's count is kept by the database (migration 11): the page's
    // statement reads it when the request asks for `totalCount`.
    let kept = match filter.is_empty() {
        true => kept_count_of(db, &actor, partner).await.extend()?,
        false => None,
    };
    let id = deal_registration::Column::Id;
    let connection = match kept {
        Some(partners) => {
            let total = ctx
                .look_ahead()
                .field("totalCount")
                .exists()
                .then(|| crate::db::scalar(held_total(&partners)));
            let fallback = held_by(db, &partners.into_iter().collect());
            paginate_newest_first_counted(db, select, id, &page, DealRegistration, total, fallback)
                .await
        }
        None => paginate_newest_first(db, select, id, &page, DealRegistration).await,
    }
    .extend()?;
    prefetch(ctx, &connection).await?;
    Ok(connection)
}
