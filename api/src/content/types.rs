use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, MaybeUndefined, Object, ResultExt, SimpleObject,
    Upload, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::ContentEventKind as StoredEventKind;
use entity::{content, content_event, content_file, content_label, content_version};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};

use super::files::FileStore;
use super::policy::{self, ContentViewer};
use super::rules::{is_expired, is_stale};
use super::service::{self, parse_labels, Audience, ContentFields, ContentFilter, ContentListing};
use crate::auth::{actor, Actor, AuthService, Role, RoleGuard};
use crate::db::{Db, Fast, Shapes};
use crate::error::AppError;
use crate::loaders::{
    distinct, feed_groups, load_group, load_many, load_one, prefetch_groups, AudienceByContent,
    LabelsByContent, VerticalsByPartner,
};
use crate::relay::{
    global_id, local_id, maybe, paginate, paginate_ordered, paginate_ordered_shaped, with_beside,
    Beside, PageArgs, RelayConnection, Shaped, UserError, UserErrorCode,
};
use crate::users::User;

pub const NODE_KIND: &str = "Content";
const STAFF: &[Role] = &[Role::ChannelManager, Role::DirectRep];
const MANAGERS: &[Role] = &[Role::ChannelManager];

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ContentKind")]
pub enum ContentKind {
    BattleCard,
    PriceSheet,
    Positioning,
    CaseStudy,
    Training,
    CoMarketingTemplate,
    BrandAsset,
    Other,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ContentEventKind")]
pub enum ContentEventKind {
    View,
    Download,
    Share,
}

/// Who may see an item. Empty lists mean "no restriction".
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "ContentAudienceInput")]
pub struct ContentAudience {
    /// Only channel managers and direct reps.
    #[graphql(default)]
    pub internal_only: bool,
    /// Partners in a tier of at least this rank.
    pub min_tier_rank: Option<i32>,
    #[graphql(default)]
    pub partner_types: Vec<String>,
    #[graphql(default)]
    pub regions: Vec<String>,
    #[graphql(default)]
    pub verticals: Vec<String>,
}

impl From<ContentAudience> for Audience {
    fn from(a: ContentAudience) -> Self {
        Audience {
            internal_only: a.internal_only,
            min_tier_rank: a.min_tier_rank,
            partner_types: a.partner_types,
            regions: a.regions,
            verticals: a.verticals,
        }
    }
}

/// Views, downloads and shares over a period.
#[derive(SimpleObject)]
pub struct ContentEngagement {
    pub views: i64,
    pub downloads: i64,
    pub shares: i64,
    pub unique_users: i64,
    pub unique_partners: i64,
    /// Distinct assets engaged with (for a partner's engagement).
    pub unique_contents: i64,
}

impl From<service::Engagement> for ContentEngagement {
    fn from(e: service::Engagement) -> Self {
        ContentEngagement {
            views: e.views,
            downloads: e.downloads,
            shares: e.shares,
            unique_users: e.unique_users,
            unique_partners: e.unique_partners,
            unique_contents: e.unique_contents,
        }
    }
}

/// A stored file, downloadable through a short-lived signed link.
pub struct ContentFile {
    model: content_file::Model,
    content_id: i64,
}

#[Object]
impl ContentFile {
    async fn filename(&self) -> &str {
        &self.model.filename
    }
    async fn content_type(&self) -> &str {
        &self.model.content_type
    }
    async fn size_bytes(&self) -> i64 {
        self.model.size_bytes
    }
    /// Hex SHA-256 of the bytes.
    async fn sha256(&self) -> &str {
        &self.model.sha256
    }
    /// A link for the caller, valid for 10 minutes; the policy is checked again on use.
    async fn download_url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let actor = actor(ctx)?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let token = auth
            .download_token(actor.user_id, self.content_id, self.model.id)
            .extend()?;
        Ok(format!("/files/{token}"))
    }
}

async fn file_node(
    ctx: &Context<'_>,
    file_id: Option<i64>,
    content_id: i64,
) -> async_graphql::Result<Option<ContentFile>> {
    let Some(file_id) = file_id else {
        return Ok(None);
    };
    let found = load_one::<content_file::Entity>(ctx, file_id).await?;
    Ok(found.map(|model| ContentFile { model, content_id }))
}

/// One immutable version of an asset.
pub struct ContentVersion(content_version::Model);

#[Object]
impl ContentVersion {
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn kind(&self) -> ContentKind {
        self.0.kind.into()
    }
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn tags(&self) -> Vec<String> {
        parse_labels(&self.0.labels).tags
    }
    async fn change_note(&self) -> Option<&str> {
        self.0.change_note.as_deref()
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.author_id).await
    }
    async fn file(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ContentFile>> {
        file_node(ctx, self.0.file_id, self.0.content_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An enablement asset: battle card, price sheet, case study... Partners always get the
/// current version of what they are entitled to.
pub struct Content(pub content::Model);

impl Content {
    /// The current version's labels, kept as rows beside the item for filtering.
    async fn labels(&self, ctx: &Context<'_>) -> async_graphql::Result<service::Labels> {
        let rows = load_group::<LabelsByContent>(ctx, self.0.id).await?;
        let of = |dimension: &str| {
            rows.iter()
                .filter(|r| r.dimension == dimension)
                .map(|r| r.value.clone())
                .collect()
        };
        Ok(service::Labels {
            tags: of(service::TAG),
            products: of(service::PRODUCT),
            verticals: of(service::ABOUT_VERTICAL),
        })
    }
}

#[Object]
impl Content {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn kind(&self) -> ContentKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Markdown.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self.labels(ctx).await?.tags)
    }
    async fn products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self.labels(ctx).await?.products)
    }
    async fn verticals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self.labels(ctx).await?.verticals)
    }
    async fn file(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ContentFile>> {
        file_node(ctx, self.0.file_id, self.0.id).await
    }
    async fn audience(&self, ctx: &Context<'_>) -> async_graphql::Result<ContentAudience> {
        let rows = load_group::<AudienceByContent>(ctx, self.0.id).await?;
        let of = |dimension: &str| {
            rows.iter()
                .filter(|r| r.dimension == dimension)
                .map(|r| r.value.clone())
                .collect()
        };
        Ok(ContentAudience {
            internal_only: self.0.internal_only,
            min_tier_rank: self.0.min_tier_rank,
            partner_types: of(policy::PARTNER_TYPE),
            regions: of(policy::REGION),
            verticals: of(policy::VERTICAL),
        })
    }
    /// The current version number.
    async fn version(&self) -> i32 {
        self.0.current_version
    }
    /// Every version, oldest first, for vendor staff; partners get only the current one.
    async fn versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<ContentVersion>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let mut select = content_version::Entity::find()
            .filter(content_version::Column::ContentId.eq(self.0.id));
        if !actor.is_vendor_staff() {
            select = select.filter(content_version::Column::Version.eq(self.0.current_version));
        }
        paginate(
            db,
            select,
            content_version::Column::Id,
            &PageArgs::new(first, after, last, before),
            |v| v.id,
            ContentVersion,
        )
        .await
        .extend()
    }
    async fn review_by(&self) -> Option<NaiveDate> {
        self.0.review_by
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// Past `expiresAt`: hidden from partners, kept for vendor staff.
    async fn is_expired(&self) -> bool {
        is_expired(self.0.expires_at, Utc::now())
    }
    /// Past `reviewBy`: due for a channel manager's review.
    async fn is_stale(&self) -> bool {
        is_stale(self.0.review_by, Utc::now().date_naive())
    }
    /// Views, downloads and shares, optionally within `[since, until)` (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn engagement(
        &self,
        ctx: &Context<'_>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ContentEngagement> {
        let db = ctx.data::<Db>()?;
        let select =
            content_event::Entity::find().filter(content_event::Column::ContentId.eq(self.0.id));
        Ok(service::engagement(db, select, since, until)
            .await
            .extend()?
            .into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Default)]
pub struct ContentFilterInput {
    /// Full-text search over title, tags and body; results come best match first.
    pub search: Option<String>,
    pub kind: Option<ContentKind>,
    pub tag: Option<String>,
    pub product: Option<String>,
    pub vertical: Option<String>,
    /// Only items changed after this time (mobile sync).
    pub updated_since: Option<DateTime<Utc>>,
}

/// Whether the page's items show their labels (tags, products, verticals).
fn shows_labels(ctx: &Context<'_>) -> bool {
    let node = ctx.look_ahead().field("edges").field("node");
    ["tags", "products", "verticals"]
        .iter()
        .any(|f| node.field(f).exists())
}

/// The contents' lists are built once per shape (see `ContentListing`).
static CONTENT_LISTS: Shapes = Shapes::new();

/// A page of `listing`; with its items' labels when they show them, read with the items
/// (a JSON list beside each row) and handed to the request's label loader.
async fn page_of_contents(
    ctx: &Context<'_>,
    db: &Db,
    listing: ContentListing,
    args: &PageArgs,
) -> async_graphql::Result<RelayConnection<Content>> {
    let labels = shows_labels(ctx);
    let shaped = Shaped {
        shapes: &CONTENT_LISTS,
        shape: listing.shape(labels),
        values: listing.values(),
    };
    let listing = Arc::new(listing);
    let list = move || listing.select();
    if !labels {
        let read = |select| select;
        return paginate_ordered_shaped(db, list, shaped, args, read, |Fast(row)| Content(row))
            .await
            .extend();
    }
    let listed = Mutex::new(Vec::new());
    let backend = db.get_database_backend();
    let read = |select| with_beside(select, labels_listed(backend));
    let page = paginate_ordered_shaped(
        db,
        list,
        shaped,
        args,
        read,
        |read: Beside<Fast<content::Model>>| {
            let mut listed = listed.lock().unwrap_or_else(PoisonError::into_inner);
            listed.push((read.row.0.id, read.beside));
            Content(read.row.0)
        },
    )
    .await
    .extend()?;
    let listed = listed.into_inner().unwrap_or_else(PoisonError::into_inner);
    let groups = listed
        .into_iter()
        .map(|(id, text)| Ok((id, labels_of(id, text.as_deref())?)))
        .collect::<Result<_, AppError>>()
        .extend()?;
    feed_groups::<LabelsByContent>(ctx, groups).await?;
    Ok(page)
}

/// An item's labels as a JSON list of `[id, dimension, value]` (PostgreSQL's `json_agg` of
/// no rows is NULL, SQLite's `json_group_array` `[]`).
fn labels_listed(backend: DbBackend) -> SimpleExpr {
    Expr::cust(match backend {
        DbBackend::Postgres => {
            "(SELECT CAST(json_agg(json_build_array(l.id, l.dimension, l.value)) AS TEXT) \
             FROM content_labels AS l WHERE l.content_id = contents.id)"
        }
        _ => {
            "(SELECT json_group_array(json_array(l.id, l.dimension, l.value)) \
             FROM content_labels AS l WHERE l.content_id = contents.id)"
        }
    })
}

fn labels_of(content_id: i64, listed: Option<&str>) -> Result<Vec<content_label::Model>, AppError> {
    let rows: Vec<(i64, String, String)> = match listed {
        None => Vec::new(),
        Some(text) => serde_json::from_str(text).map_err(|err| {
            AppError::internal(format!("content {content_id}'s labels {text:?}: {err}"))
        })?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, dimension, value)| content_label::Model {
            id,
            content_id,
            dimension,
            value,
        })
        .collect())
}

/// Loads, one batch per kind, what the selected nested fields of a page of content read
/// beyond its labels (audience, files): see `crate::loaders`.
async fn prefetch(ctx: &Context<'_>, page: &RelayConnection<Content>) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let ids = distinct(page.edges.iter().map(|e| e.node.0.id));
    let audience = async {
        if node.field("audience").exists() {
            prefetch_groups::<AudienceByContent>(ctx, &ids).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let files = async {
        if node.field("file").exists() {
            let files = distinct(page.edges.iter().filter_map(|e| e.node.0.file_id));
            load_many::<content_file::Entity>(ctx, &files).await?;
        }
        Ok(())
    };
    futures_util::try_join!(audience, files)?;
    Ok(())
}

/// The caller's content view, read through the request's loaders: a page that also shows
/// the caller's organisation (`me { partner { tier } }`) reads it once.
async fn content_viewer(ctx: &Context<'_>) -> async_graphql::Result<(Arc<Actor>, ContentViewer)> {
    let actor = actor(ctx)?;
    if actor.is_vendor_staff() {
        return Ok((actor, ContentViewer::Staff));
    }
    let partner_id = actor
        .partner_id
        .ok_or_else(|| AppError::internal("partner user without partner").extend())?;
    let partner = load_one::<entity::partner::Entity>(ctx, partner_id)
        .await?
        .ok_or_else(|| AppError::internal("partner user's partner missing").extend())?;
    let tier = match partner.tier_id {
        Some(id) => load_one::<entity::tier::Entity>(ctx, id).await?,
        None => None,
    };
    let verticals = load_group::<VerticalsByPartner>(ctx, partner_id).await?;
    let viewer = policy::partner_viewer(&partner, tier.as_ref(), &verticals);
    Ok((actor, viewer))
}

#[derive(Default)]
pub struct ContentQuery;

#[Object]
impl ContentQuery {
    /// The content the caller is entitled to: newest change first, or best match first
    /// when searching.
    async fn contents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ContentFilterInput>,
    ) -> async_graphql::Result<RelayConnection<Content>> {
        let (_, viewer) = content_viewer(ctx).await?;
        let db = ctx.data::<Db>()?;
        let input = filter.unwrap_or_default();
        let filter = ContentFilter {
            search: input.search.clone(),
            kind: input.kind.map(Into::into),
            tag: input.tag,
            product: input.product,
            vertical: input.vertical,
            updated_since: input.updated_since,
        };
        let listing = ContentListing::new(db.get_database_backend(), viewer, filter, Utc::now());
        let args = PageArgs::new(first, after, last, before);
        let page = page_of_contents(ctx, db, listing, &args).await?;
        prefetch(ctx, &page).await?;
        Ok(page)
    }

    /// Items past their review date, oldest first (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn content_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Content>> {
        let db = ctx.data::<Db>()?;
        let select = content::Entity::find()
            .filter(content::Column::ReviewBy.lt(Utc::now().date_naive()))
            .order_by_asc(content::Column::ReviewBy)
            .order_by_asc(content::Column::Id);
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            Content,
        )
        .await
        .extend()
    }

    /// Content engagement of one partner's users over a period (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn partner_content_engagement(
        &self,
        ctx: &Context<'_>,
        partner_id: ID,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<ContentEngagement> {
        let db = ctx.data::<Db>()?;
        let id = local_id(&partner_id, crate::partners::NODE_KIND).unwrap_or(-1);
        let select = content_event::Entity::find().filter(content_event::Column::PartnerId.eq(id));
        Ok(service::engagement(db, select, since, until)
            .await
            .extend()?
            .into())
    }
}

#[derive(InputObject)]
pub struct CreateContentInput {
    pub title: String,
    pub kind: ContentKind,
    /// Markdown.
    pub body: Option<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
    #[graphql(default)]
    pub products: Vec<String>,
    #[graphql(default)]
    pub verticals: Vec<String>,
    pub audience: Option<ContentAudience>,
    pub review_by: Option<NaiveDate>,
    pub expires_at: Option<DateTime<Utc>>,
    /// A file sent with the GraphQL multipart request spec.
    pub file: Option<Upload>,
}

#[derive(InputObject)]
pub struct UpdateContentInput {
    pub id: ID,
    /// Why this version exists; shown in `versions`.
    pub change_note: Option<String>,
    pub title: Option<String>,
    pub kind: Option<ContentKind>,
    pub body: MaybeUndefined<String>,
    pub tags: Option<Vec<String>>,
    pub products: Option<Vec<String>>,
    pub verticals: Option<Vec<String>>,
    pub audience: Option<ContentAudience>,
    pub review_by: MaybeUndefined<NaiveDate>,
    pub expires_at: MaybeUndefined<DateTime<Utc>>,
    pub file: Option<Upload>,
}

#[derive(InputObject)]
pub struct RecordContentEventInput {
    pub content_id: ID,
    pub kind: ContentEventKind,
}

#[derive(SimpleObject, Default)]
pub struct ContentPayload {
    pub content: Option<Content>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct RecordContentEventPayload {
    pub recorded: bool,
    pub content: Option<Content>,
    pub user_errors: Vec<UserError>,
}

fn errors(user_errors: Vec<UserError>) -> ContentPayload {
    ContentPayload {
        content: None,
        user_errors,
    }
}

/// Stores an uploaded file; its id, or the user error explaining the refusal.
async fn store_upload(
    ctx: &Context<'_>,
    upload: Option<&Upload>,
    actor: &Actor,
) -> async_graphql::Result<Result<Option<i64>, Vec<UserError>>> {
    let Some(upload) = upload else {
        return Ok(Ok(None));
    };
    let value = upload
        .value(ctx)
        .map_err(|e| AppError::BadUserInput(format!("file: {e}")).extend())?;
    let filename = value.filename.clone();
    let db = ctx.data::<Db>()?;
    let store = ctx.data::<FileStore>()?;
    Ok(
        match store
            .store(db, &filename, value.into_read(), actor.user_id)
            .await
            .extend()?
        {
            Ok(file) => Ok(Some(file.id)),
            Err(message) => Err(UserError::one("file", UserErrorCode::Invalid, message)),
        },
    )
}

#[derive(Default)]
pub struct ContentMutation;

#[Object]
impl ContentMutation {
    /// Adds an asset (channel managers); it starts at version 1.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_content(
        &self,
        ctx: &Context<'_>,
        input: CreateContentInput,
    ) -> async_graphql::Result<ContentPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let file_id = match store_upload(ctx, input.file.as_ref(), &actor).await? {
            Ok(id) => id,
            Err(user_errors) => return Ok(errors(user_errors)),
        };
        let fields = ContentFields {
            title: Some(input.title),
            kind: Some(input.kind.into()),
            body: Some(input.body),
            tags: Some(input.tags),
            products: Some(input.products),
            verticals: Some(input.verticals),
            audience: input.audience.map(Into::into),
            review_by: Some(input.review_by),
            expires_at: Some(input.expires_at),
            file_id,
            change_note: None,
        };
        Ok(match service::create(db, &actor, fields).await.extend()? {
            Ok(model) => ContentPayload {
                content: Some(Content(model)),
                user_errors: vec![],
            },
            Err(user_errors) => errors(user_errors),
        })
    }

    /// Publishes a new version (the previous ones stay readable to vendor staff).
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn update_content(
        &self,
        ctx: &Context<'_>,
        input: UpdateContentInput,
    ) -> async_graphql::Result<ContentPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(errors(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such content",
            )));
        };
        let file_id = match store_upload(ctx, input.file.as_ref(), &actor).await? {
            Ok(id) => id,
            Err(user_errors) => return Ok(errors(user_errors)),
        };
        let fields = ContentFields {
            title: input.title,
            kind: input.kind.map(Into::into),
            body: maybe(input.body),
            tags: input.tags,
            products: input.products,
            verticals: input.verticals,
            audience: input.audience.map(Into::into),
            review_by: maybe(input.review_by),
            expires_at: maybe(input.expires_at),
            file_id,
            change_note: input.change_note,
        };
        Ok(
            match service::update(db, &actor, id, fields).await.extend()? {
                Ok(model) => ContentPayload {
                    content: Some(Content(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => errors(user_errors),
            },
        )
    }

    /// Records that the caller viewed, downloaded or shared an item it can see.
    async fn record_content_event(
        &self,
        ctx: &Context<'_>,
        input: RecordContentEventInput,
    ) -> async_graphql::Result<RecordContentEventPayload> {
        let (actor, viewer) = content_viewer(ctx).await?;
        let db = ctx.data::<Db>()?;
        let found = match local_id(&input.content_id, NODE_KIND) {
            Some(id) => policy::find_visible(db, &viewer, id).await.extend()?,
            None => None,
        };
        let Some(found) = found else {
            return Ok(RecordContentEventPayload {
                recorded: false,
                content: None,
                user_errors: UserError::one(
                    "contentId",
                    UserErrorCode::NotFound,
                    "no such content",
                ),
            });
        };
        let kind: StoredEventKind = input.kind.into();
        service::record_event(db, &actor, found.id, kind)
            .await
            .extend()?;
        Ok(RecordContentEventPayload {
            recorded: true,
            content: Some(Content(found)),
            user_errors: vec![],
        })
    }
}

/// For `node(id:)`: the item if the caller is entitled to it.
pub async fn find_for(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> crate::error::AppResult<Option<content::Model>> {
    let viewer = policy::viewer(db, actor).await?;
    policy::find_visible(db, &viewer, id).await
}
