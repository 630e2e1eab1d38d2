use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ContentEventKind, ContentKind};
use entity::{content, content_audience, content_event, content_label, content_version};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use super::policy::{
    visible_select, visible_shape, visible_values, ContentViewer, PARTNER_TYPE, REGION, VERTICAL,
};
use super::rules::normalize_labels;
use super::search::Search;
use crate::auth::Actor;
use crate::db::{settle, Db, Outcome};
use crate::error::AppResult;
use crate::events::{self, EventType, NewEvent};
use crate::partners::rules::normalize_verticals;
use crate::relay::{UserError, UserErrorCode};

pub const TAG: &str = "TAG";
pub const PRODUCT: &str = "PRODUCT";
/// Labels on content: what it is about (audience verticals live in `content_audience`).
pub const ABOUT_VERTICAL: &str = "VERTICAL";

/// The labels of one version, kept with it as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Labels {
    pub tags: Vec<String>,
    pub products: Vec<String>,
    pub verticals: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    pub internal_only: bool,
    pub min_tier_rank: Option<i32>,
    pub partner_types: Vec<String>,
    pub regions: Vec<String>,
    pub verticals: Vec<String>,
}

/// A new version's fields; `None` keeps the current value on update.
#[derive(Default)]
pub struct ContentFields {
    pub title: Option<String>,
    pub kind: Option<ContentKind>,
    pub body: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub products: Option<Vec<String>>,
    pub verticals: Option<Vec<String>>,
    pub audience: Option<Audience>,
    pub review_by: Option<Option<NaiveDate>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub file_id: Option<i64>,
    pub change_note: Option<String>,
}

#[derive(Default, Clone)]
pub struct ContentFilter {
    pub search: Option<String>,
    pub kind: Option<ContentKind>,
    pub tag: Option<String>,
    pub product: Option<String>,
    pub vertical: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

pub fn parse_labels(text: &str) -> Labels {
    serde_json::from_str(text).unwrap_or_default()
}

fn validate(fields: &ContentFields, creating: bool) -> Vec<UserError> {
    let mut errors = Vec::new();
    match &fields.title {
        Some(title) if title.trim().is_empty() => errors.push(UserError::new(
            "title",
            UserErrorCode::Required,
            "must not be blank",
        )),
        Some(title) if title.trim().chars().count() > 300 => errors.push(UserError::new(
            "title",
            UserErrorCode::Invalid,
            "must be at most 300 characters",
        )),
        None if creating => errors.push(UserError::new(
            "title",
            UserErrorCode::Required,
            "must not be blank",
        )),
        _ => {}
    }
    if let Some(audience) = &fields.audience {
        if audience.min_tier_rank.is_some_and(|r| r < 1) {
            errors.push(UserError::new(
                "audience.minTierRank",
                UserErrorCode::Invalid,
                "tier ranks start at 1",
            ));
        }
    }
    if let (Some(Some(expires)), true) = (fields.expires_at, creating) {
        if expires <= Utc::now() {
            errors.push(UserError::new(
                "expiresAt",
                UserErrorCode::Invalid,
                "must be in the future",
            ));
        }
    }
    errors
}

/// `(dimension, value)` pairs of several labelled lists.
fn pairs<'a>(lists: [(&'a str, &'a [String]); 3]) -> Vec<(&'a str, String)> {
    lists
        .into_iter()
        .flat_map(|(dimension, values)| values.iter().map(move |v| (dimension, v.clone())))
        .collect()
}

async fn replace_rows(
    txn: &impl ConnectionTrait,
    id: i64,
    labels: &Labels,
    audience: Option<&Audience>,
) -> AppResult<()> {
    content_label::Entity::delete_many()
        .filter(content_label::Column::ContentId.eq(id))
        .exec(txn)
        .await?;
    let label_rows = pairs([
        (TAG, &labels.tags),
        (PRODUCT, &labels.products),
        (ABOUT_VERTICAL, &labels.verticals),
    ]);
    if !label_rows.is_empty() {
        content_label::Entity::insert_many(label_rows.into_iter().map(|(dimension, value)| {
            content_label::ActiveModel {
                content_id: Set(id),
                dimension: Set(dimension.to_owned()),
                value: Set(value),
                ..Default::default()
            }
        }))
        .exec(txn)
        .await?;
    }
    let Some(audience) = audience else {
        return Ok(());
    };
    content_audience::Entity::delete_many()
        .filter(content_audience::Column::ContentId.eq(id))
        .exec(txn)
        .await?;
    let audience_rows = pairs([
        (PARTNER_TYPE, &audience.partner_types),
        (REGION, &audience.regions),
        (VERTICAL, &audience.verticals),
    ]);
    if !audience_rows.is_empty() {
        content_audience::Entity::insert_many(audience_rows.into_iter().map(
            |(dimension, value)| content_audience::ActiveModel {
                content_id: Set(id),
                dimension: Set(dimension.to_owned()),
                value: Set(value),
                ..Default::default()
            },
        ))
        .exec(txn)
        .await?;
    }
    Ok(())
}

fn normalized_audience(audience: Audience) -> Audience {
    Audience {
        partner_types: audience
            .partner_types
            .iter()
            .map(|t| t.trim().to_uppercase())
            .filter(|t| !t.is_empty())
            .collect(),
        regions: audience
            .regions
            .iter()
            .map(|r| r.trim().to_uppercase())
            .filter(|r| !r.is_empty())
            .collect(),
        verticals: normalize_verticals(&audience.verticals),
        ..audience
    }
}

async fn write_version(
    txn: &impl ConnectionTrait,
    item: &content::Model,
    labels: &Labels,
    note: Option<String>,
    author: i64,
) -> AppResult<()> {
    content_version::ActiveModel {
        content_id: Set(item.id),
        version: Set(item.current_version),
        kind: Set(item.kind),
        title: Set(item.title.clone()),
        body: Set(item.body.clone()),
        labels: Set(serde_json::to_string(labels).map_err(crate::error::AppError::internal)?),
        file_id: Set(item.file_id),
        change_note: Set(note),
        author_id: Set(Some(author)),
        created_at: Set(item.updated_at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

fn search_tags(labels: &Labels) -> String {
    labels
        .tags
        .iter()
        .chain(&labels.products)
        .chain(&labels.verticals)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    fields: ContentFields,
) -> AppResult<Outcome<content::Model>> {
    let errors = validate(&fields, true);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let now = Utc::now();
        let labels = Labels {
            tags: normalize_labels(fields.tags.as_deref().unwrap_or_default()),
            products: normalize_labels(fields.products.as_deref().unwrap_or_default()),
            verticals: normalize_verticals(fields.verticals.as_deref().unwrap_or_default()),
        };
        let audience = normalized_audience(fields.audience.unwrap_or_default());
        let item = content::ActiveModel {
            kind: Set(fields.kind.unwrap_or(ContentKind::Other)),
            title: Set(fields.title.unwrap_or_default().trim().to_owned()),
            body: Set(fields.body.flatten()),
            search_tags: Set(search_tags(&labels)),
            file_id: Set(fields.file_id),
            current_version: Set(1),
            internal_only: Set(audience.internal_only),
            min_tier_rank: Set(audience.min_tier_rank),
            review_by: Set(fields.review_by.flatten()),
            expires_at: Set(fields.expires_at.flatten()),
            created_by_id: Set(Some(actor.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        replace_rows(&txn, item.id, &labels, Some(&audience)).await?;
        write_version(
            &txn,
            &item,
            &labels,
            fields.change_note.or(Some("created".into())),
            actor.user_id,
        )
        .await?;
        events::emit(&txn, content_event(EventType::ContentPublished, &item)).await?;
        Ok(Ok(item))
    }
    .await;
    settle(txn, result).await
}

/// The event of a content item published or changed. Who receives it is decided by the
/// content's audience when it is delivered, as for any read of it.
fn content_event(ty: EventType, item: &content::Model) -> NewEvent {
    NewEvent {
        ty,
        subject_id: item.id,
        partner_id: None,
        data: serde_json::json!({
            "title": item.title,
            "version": item.current_version,
        }),
    }
}

/// Writes a new version (the old one stays readable); audience and dates change in place.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    fields: ContentFields,
) -> AppResult<Outcome<content::Model>> {
    let errors = validate(&fields, false);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        // Locking the row serialises concurrent editors, so version numbers never collide.
        let Some(current) = content::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such content",
            )));
        };
        let old = content_version::Entity::find()
            .filter(content_version::Column::ContentId.eq(id))
            .filter(content_version::Column::Version.eq(current.current_version))
            .one(&txn)
            .await?
            .map(|v| parse_labels(&v.labels))
            .unwrap_or_default();
        let labels = Labels {
            tags: fields
                .tags
                .as_deref()
                .map(normalize_labels)
                .unwrap_or(old.tags),
            products: fields
                .products
                .as_deref()
                .map(normalize_labels)
                .unwrap_or(old.products),
            verticals: fields
                .verticals
                .as_deref()
                .map(normalize_verticals)
                .unwrap_or(old.verticals),
        };
        let audience = fields.audience.map(normalized_audience);
        let mut model: content::ActiveModel = current.clone().into();
        if let Some(title) = fields.title {
            model.title = Set(title.trim().to_owned());
        }
        if let Some(kind) = fields.kind {
            model.kind = Set(kind);
        }
        if let Some(body) = fields.body {
            model.body = Set(body);
        }
        if let Some(file_id) = fields.file_id {
            model.file_id = Set(Some(file_id));
        }
        if let Some(audience) = &audience {
            model.internal_only = Set(audience.internal_only);
            model.min_tier_rank = Set(audience.min_tier_rank);
        }
        if let Some(review_by) = fields.review_by {
            model.review_by = Set(review_by);
        }
        if let Some(expires_at) = fields.expires_at {
            model.expires_at = Set(expires_at);
        }
        model.search_tags = Set(search_tags(&labels));
        model.current_version = Set(current.current_version + 1);
        model.updated_at = Set(Utc::now());
        let updated = model.update(&txn).await?;
        replace_rows(&txn, id, &labels, audience.as_ref()).await?;
        write_version(&txn, &updated, &labels, fields.change_note, actor.user_id).await?;
        events::emit(&txn, content_event(EventType::ContentUpdated, &updated)).await?;
        Ok(Ok(updated))
    }
    .await;
    settle(txn, result).await
}

/// Narrows `select` by the filter's kind, labels and date (search is applied by the caller).
pub fn filtered(
    mut select: Select<content::Entity>,
    filter: &ContentFilter,
) -> Select<content::Entity> {
    if let Some(kind) = filter.kind {
        select = select.filter(content::Column::Kind.eq(kind));
    }
    for (dimension, value) in labelled(filter) {
        let labelled = content_label::Entity::find()
            .select_only()
            .column(content_label::Column::ContentId)
            .filter(content_label::Column::Dimension.eq(dimension))
            .filter(content_label::Column::Value.eq(value));
        select = select
            .filter(content::Column::Id.in_subquery(sea_orm::QueryTrait::into_query(labelled)));
    }
    if let Some(since) = filter.updated_since {
        select = select.filter(content::Column::UpdatedAt.gt(since));
    }
    select
}

/// The labels `filter` asks for, each as stored (tags and products lower case, verticals
/// upper case).
fn labelled(filter: &ContentFilter) -> Vec<(&'static str, String)> {
    [
        (TAG, &filter.tag),
        (PRODUCT, &filter.product),
        (ABOUT_VERTICAL, &filter.vertical),
    ]
    .into_iter()
    .filter_map(|(dimension, value)| {
        let value = value.as_deref()?.trim();
        let stored = match dimension {
            ABOUT_VERTICAL => value.to_uppercase(),
            _ => value.to_lowercase(),
        };
        Some((dimension, stored))
    })
    .collect()
}

/// The values [`filtered`] binds, in its order.
fn filter_values(filter: &ContentFilter) -> Vec<Value> {
    let mut values: Vec<Value> = filter
        .kind
        .into_iter()
        .map(|kind| kind.into_value().into())
        .collect();
    for (dimension, value) in labelled(filter) {
        values.extend([dimension.into(), value.into()]);
    }
    values.extend(filter.updated_since.map(Value::from));
    values
}

/// Tells apart the texts [`filtered`] makes: which of its filters are set.
fn filter_shape(filter: &ContentFilter) -> usize {
    [
        filter.kind.is_some(),
        filter.tag.is_some(),
        filter.product.is_some(),
        filter.vertical.is_some(),
        filter.updated_since.is_some(),
    ]
    .iter()
    .enumerate()
    .map(|(bit, set)| usize::from(*set) << bit)
    .sum()
}

/// A list of contents: who looks, through which filter, at what time. Besides building
/// its select, it knows without building it which text the select has and what it binds,
/// so the list's statement is built once per shape (`relay::Shaped`).
pub struct ContentListing {
    backend: DbBackend,
    viewer: ContentViewer,
    filter: ContentFilter,
    search: Option<Search>,
    now: DateTime<Utc>,
}

impl ContentListing {
    pub fn new(
        backend: DbBackend,
        viewer: ContentViewer,
        filter: ContentFilter,
        now: DateTime<Utc>,
    ) -> Self {
        let search = filter
            .search
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .map(|text| Search::of(backend, text));
        ContentListing {
            backend,
            viewer,
            filter,
            search,
            now,
        }
    }

    /// The contents the viewer may see that pass the filter: newest change first, or best
    /// match first when searching.
    pub fn select(&self) -> Select<content::Entity> {
        let visible = filtered(
            visible_select(self.backend, &self.viewer, self.now),
            &self.filter,
        );
        match &self.search {
            Some(search) => search.best_matches(visible),
            None => visible
                .order_by_desc(content::Column::UpdatedAt)
                .order_by_desc(content::Column::Id),
        }
    }

    /// The values [`ContentListing::select`] binds, in its order.
    pub fn values(&self) -> Vec<Value> {
        let (joined, matched) = self.search.as_ref().map(Search::values).unwrap_or_default();
        let mut values = joined;
        values.extend(visible_values(&self.viewer, self.now));
        values.extend(filter_values(&self.filter));
        values.extend(matched);
        values
    }

    /// Tells apart the texts [`ContentListing::select`] makes (with `extra`, a bit for the
    /// caller's own variant: what it reads beside the rows, say).
    pub fn shape(&self, extra: bool) -> usize {
        let search = self.search.as_ref().map_or(0, Search::shape);
        visible_shape(&self.viewer)
            | filter_shape(&self.filter) << 1
            | search << 6
            | usize::from(extra) << 8
    }
}

pub async fn record_event(
    db: &impl ConnectionTrait,
    actor: &Actor,
    content_id: i64,
    kind: ContentEventKind,
) -> AppResult<content_event::Model> {
    Ok(content_event::ActiveModel {
        content_id: Set(content_id),
        user_id: Set(actor.user_id),
        partner_id: Set(actor.partner_id),
        kind: Set(kind),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Engagement {
    pub views: i64,
    pub downloads: i64,
    pub shares: i64,
    pub unique_users: i64,
    pub unique_partners: i64,
    pub unique_contents: i64,
}

/// Counts events in `select` (already narrowed to one asset or one partner) over a period.
pub async fn engagement(
    db: &impl ConnectionTrait,
    select: Select<content_event::Entity>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> AppResult<Engagement> {
    let mut select = select;
    if let Some(since) = since {
        select = select.filter(content_event::Column::CreatedAt.gte(since));
    }
    if let Some(until) = until {
        select = select.filter(content_event::Column::CreatedAt.lt(until));
    }
    let count = |kind: ContentEventKind| {
        select
            .clone()
            .filter(content_event::Column::Kind.eq(kind))
            .count(db)
    };
    let distinct = |column: content_event::Column| {
        select
            .clone()
            .select_only()
            .column_as(
                Expr::col((content_event::Entity, column)).count_distinct(),
                "n",
            )
            .into_tuple::<i64>()
            .one(db)
    };
    Ok(Engagement {
        views: count(ContentEventKind::View).await? as i64,
        downloads: count(ContentEventKind::Download).await? as i64,
        shares: count(ContentEventKind::Share).await? as i64,
        unique_users: distinct(content_event::Column::UserId).await?.unwrap_or(0),
        unique_partners: distinct(content_event::Column::PartnerId)
            .await?
            .unwrap_or(0),
        unique_contents: distinct(content_event::Column::ContentId)
            .await?
            .unwrap_or(0),
    })
}

/// Whether an update of `viewer` may see every version.
pub fn sees_history(viewer: &ContentViewer) -> bool {
    super::policy::is_staff(viewer)
}
