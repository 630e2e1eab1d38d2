//! The one rule for who sees which content. Vendor staff see everything (expired items
//! included, flagged). A partner user sees an item when it is not internal, not expired,
//! its minimum tier rank is at most the partner's, and each audience dimension it
//! restricts (partner types, regions, verticals) includes the partner.

use chrono::{DateTime, Utc};
use entity::{content, content_audience, partner, partner_vertical, tier};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Select, Value,
};

use crate::auth::Actor;
use crate::db;
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
/// them names one of `values`. The values are bound as one JSON list, so the statement's
/// text is the same for every partner (see [`visible_values`]).
fn dimension_allows(backend: DbBackend, dimension: &str, values: &[String]) -> Condition {
    let restricted = Query::select()
        .expr(Expr::cust("1"))
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
        .and_where(db::in_texts(
            backend,
            Expr::col((content_audience::Entity, content_audience::Column::Value)).into(),
            values,
        ))
        .to_owned();
    Condition::any()
        .add(Expr::exists(restricted).not())
        .add(Expr::exists(matching))
}

/// The audience dimensions a partner's view checks, each with the partner's values.
fn dimensions(
    partner_type: &str,
    region: &Option<String>,
    verticals: &[String],
) -> [(&'static str, Vec<String>); 3] {
    [
        (PARTNER_TYPE, vec![partner_type.to_owned()]),
        (REGION, region.iter().cloned().collect()),
        (VERTICAL, verticals.to_vec()),
    ]
}

/// The contents `viewer` may see at `now`.
pub fn visible_select(
    backend: DbBackend,
    viewer: &ContentViewer,
    now: DateTime<Utc>,
) -> Select<content::Entity> {
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
    let select = select
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
        );
    dimensions(partner_type, region, verticals)
        .iter()
        .fold(select, |select, (dimension, values)| {
            select.filter(dimension_allows(backend, dimension, values))
        })
}

/// The values [`visible_select`] binds, in its order; with [`visible_shape`], what a list
/// of contents needs to reuse the statement's text (`db::Shapes`) without building it.
pub fn visible_values(viewer: &ContentViewer, now: DateTime<Utc>) -> Vec<Value> {
    let ContentViewer::Partner {
        tier_rank,
        partner_type,
        region,
        verticals,
    } = viewer
    else {
        return Vec::new();
    };
    let mut values = vec![false.into(), now.into(), (*tier_rank).into()];
    for (dimension, listed) in dimensions(partner_type, region, verticals) {
        values.extend([dimension.into(), dimension.into(), db::json_list(&listed)]);
    }
    values
}

/// Which of [`visible_select`]'s texts a viewer gets: one for staff, one for partners.
pub fn visible_shape(viewer: &ContentViewer) -> usize {
    match viewer {
        ContentViewer::Staff => 0,
        ContentViewer::Partner { .. } => 1,
    }
}

/// The content, if `viewer` may see it now.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    viewer: &ContentViewer,
    id: i64,
) -> AppResult<Option<content::Model>> {
    Ok(
        visible_select(db.get_database_backend(), viewer, Utc::now())
            .filter(content::Column::Id.eq(id))
            .one(db)
            .await?,
    )
}

pub fn is_staff(viewer: &ContentViewer) -> bool {
    matches!(viewer, ContentViewer::Staff)
}
