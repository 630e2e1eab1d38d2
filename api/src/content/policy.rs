//! The one rule for who sees which content. Vendor staff see everything (expired items
//! included, flagged). A partner user sees an item when it is not internal, not expired,
//! its minimum tier rank is at most the partner's, and each audience dimension it
//! restricts (partner types, regions, verticals) includes the partner.

use chrono::{DateTime, Utc};
use entity::{content, content_audience, partner, partner_vertical, tier};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};

pub const PARTNER_TYPE: &str = "PARTNER_TYPE";
pub const REGION: &str = "REGION";
pub const VERTICAL: &str = "VERTICAL";

/// What the content policy needs to know about a caller.
#[derive(Debug, Clone)]
pub enum ContentViewer {
    Staff,
    Partner {
        tier_rank: i32,
        partner_type: String,
        region: Option<String>,
        verticals: Vec<String>,
    },
}

pub async fn viewer(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<ContentViewer> {
    if actor.is_vendor_staff() {
        return Ok(ContentViewer::Staff);
    }
    let partner_id = actor
        .partner_id
        .ok_or_else(|| AppError::internal("partner user without partner"))?;
    let partner = partner::Entity::find_by_id(partner_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("partner user's partner missing"))?;
    let tier = match partner.tier_id {
        Some(id) => tier::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let verticals = partner_vertical::Entity::find()
        .filter(partner_vertical::Column::PartnerId.eq(partner_id))
        .all(db)
        .await?;
    Ok(partner_viewer(&partner, tier.as_ref(), &verticals))
}

/// A partner user's view, from its organisation's row, tier and verticals (however loaded).
pub fn partner_viewer(
    partner: &partner::Model,
    tier: Option<&tier::Model>,
    verticals: &[partner_vertical::Model],
) -> ContentViewer {
    ContentViewer::Partner {
        tier_rank: tier.map_or(0, |t| t.rank),
        partner_type: sea_orm::ActiveEnum::to_value(&partner.partner_type),
        region: partner.region.clone(),
        verticals: verticals.iter().map(|v| v.vertical.clone()).collect(),
    }
}

/// Rows of `dimension` restrict the item; the viewer passes if there are none or one of
/// them names one of `values`.
fn dimension_allows(dimension: &str, values: &[String]) -> Condition {
    let restricted = Query::select()
        .expr(Expr::val(1))
        .from(content_audience::Entity)
        .and_where(
            Expr::col((
                content_audience::Entity,
                content_audience::Column::ContentId,
            ))
            .equals((content::Entity, content::Column::Id)),
        )
        .and_where(content_audience::Column::Dimension.eq(dimension))
        .to_owned();
    let matching = restricted
        .clone()
        .and_where(content_audience::Column::Value.is_in(values.iter().cloned()))
        .to_owned();
    Condition::any()
        .add(Expr::exists(restricted).not())
        .add(Expr::exists(matching))
}

/// The contents `viewer` may see at `now`.
pub fn visible_select(viewer: &ContentViewer, now: DateTime<Utc>) -> Select<content::Entity> {
    let select = content::Entity::find();
    let ContentViewer::Partner {
        tier_rank,
        partner_type,
        region,
        verticals,
    } = viewer
    else {
        return select;
    };
    select
        .filter(content::Column::InternalOnly.eq(false))
        .filter(
            Condition::any()
                .add(content::Column::ExpiresAt.is_null())
                .add(content::Column::ExpiresAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(content::Column::MinTierRank.is_null())
                .add(content::Column::MinTierRank.lte(*tier_rank)),
        )
        .filter(dimension_allows(
            PARTNER_TYPE,
            std::slice::from_ref(partner_type),
        ))
        .filter(dimension_allows(
            REGION,
            &region.iter().cloned().collect::<Vec<_>>(),
        ))
        .filter(dimension_allows(VERTICAL, verticals))
}

/// The content, if `viewer` may see it now.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    viewer: &ContentViewer,
    id: i64,
) -> AppResult<Option<content::Model>> {
    Ok(visible_select(viewer, Utc::now())
        .filter(content::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub fn is_staff(viewer: &ContentViewer) -> bool {
    matches!(viewer, ContentViewer::Staff)
}
