//! The GraphQL schema: each domain contributes its query and mutation roots.

use async_graphql::ResultExt;
use std::sync::Arc;

use async_graphql::{
    Context, ErrorExtensions, Interface, MergedObject, Object, Schema, SchemaBuilder, ID,
};

use crate::auth::{actor, AuthMutation, AuthQuery, AuthService};
use crate::config::Limits;
use crate::content::{self, Content, ContentMutation, ContentQuery, FileStore};
use crate::db::Db;
use crate::deals::{self, DealMutation, DealQuery, DealRegistration, Product};
use crate::error::AppError;
use crate::incentives::{AwardMutation, AwardQuery, IncentiveMutation, IncentiveQuery};
use crate::integrations::bus::EventBus;
use crate::integrations::imports::{self, ImportJob, ImportMutation, ImportQuery};
use crate::integrations::webhooks::{self, WebhookEndpoint, WebhookMutation, WebhookQuery};
use crate::integrations::{
    self as integrations, ApiKey, ApiKeyMutation, ApiKeyQuery, SubscriptionRoot,
};
use crate::partners::contacts::{self, Contact, ContactMutation};
use crate::partners::onboarding::{OnboardingMutation, OnboardingQuery};
use crate::partners::PartnerMutation;
use crate::partners::{self, Partner, PartnerQuery};
use crate::recruitment::{self, Prospect, RecruitmentMutation, RecruitmentQuery};
use crate::relay::decode_global_id;
use crate::tiers::{self, Tier, TierMutation, TierQuery};
use crate::training::{
    self, Certification, CertificationProgram, Course, TrainingMutation, TrainingQuery,
};
use crate::users::{self, User};
use crate::users::{UserMutation, UserQuery};

#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    AuthQuery,
    PartnerQuery,
    UserQuery,
    TierQuery,
    OnboardingQuery,
    RecruitmentQuery,
    TrainingQuery,
    ContentQuery,
    DealQuery,
    deals::ConflictQuery,
    IncentiveQuery,
    AwardQuery,
    ApiKeyQuery,
    WebhookQuery,
    ImportQuery,
    crate::metrics::MetricsQuery,
    crate::opportunities::OpportunityQuery,
    crate::leads::LeadQuery,
    crate::plans::PlanQuery,
    crate::audit::AuditQuery,
    crate::health::HealthQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    PartnerMutation,
    UserMutation,
    TierMutation,
    ContactMutation,
    crate::partners::org_map::OrgMapMutation,
    OnboardingMutation,
    RecruitmentMutation,
    TrainingMutation,
    ContentMutation,
    DealMutation,
    deals::ConflictMutation,
    IncentiveMutation,
    AwardMutation,
    ApiKeyMutation,
    WebhookMutation,
    ImportMutation,
    crate::opportunities::OpportunityMutation,
    crate::health::HealthMutation,
    crate::metrics::MetricsMutation,
    crate::leads::LeadMutation,
    crate::plans::PlanMutation,
    crate::plans::PlanContentMutation,
    crate::plans::PlanTalkMutation,
);

pub type AppSchema = Schema<Query, Mutation, SubscriptionRoot>;

/// An object with a global ID, fetchable with `node(id:)`.
// One value per `node` lookup, returned at once: boxing the large variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier."))]
pub enum Node {
    Partner(Partner),
    User(User),
    Tier(Tier),
    Contact(Contact),
    Prospect(Prospect),
    Course(Course),
    CertificationProgram(CertificationProgram),
    Certification(Certification),
    Content(Content),
    DealRegistration(DealRegistration),
    Product(Product),
    ApiKey(ApiKey),
    WebhookEndpoint(WebhookEndpoint),
    ImportJob(ImportJob),
    DirectOpportunity(crate::opportunities::DirectOpportunity),
    Lead(crate::leads::Lead),
    JointBusinessPlan(crate::plans::JointBusinessPlan),
    JointBusinessPlanComment(crate::plans::PlanComment),
    JointBusinessPlanReview(crate::plans::PlanReview),
    AuditEvent(crate::audit::AuditEvent),
}

const MAX_NODES: usize = 100;

async fn resolve_node(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let actor = actor(ctx)?;
    let db = ctx.data::<Db>()?;
    let Some((kind, local)) = decode_global_id(id) else {
        return Ok(None);
    };
    if let Some(grant) = &actor.api_key {
        // A key sees no object its scopes do not cover: null, as for any object out of sight.
        let covered = crate::integrations::scopes::need_of_node(&kind)
            .is_some_and(|scope| grant.scopes.allows(scope));
        if !covered {
            return Ok(None);
        }
    }
    let node = match kind.as_str() {
        partners::NODE_KIND => partners::service::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|p| Node::Partner(Partner(p))),
        users::NODE_KIND => users::service::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|u| Node::User(User::seen(u))),
        tiers::NODE_KIND => tiers::service::find(db, local)
            .await
            .extend()?
            .map(|t| Node::Tier(Tier(t))),
        contacts::NODE_KIND => contacts::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|c| Node::Contact(Contact(c))),
        recruitment::NODE_KIND => recruitment::find_for(db, &actor, local)
            .await
            .extend()?
            .map(|p| Node::Prospect(Prospect(p))),
        training::COURSE_KIND => training::find_course(db, local)
            .await
            .extend()?
            .map(|c| Node::Course(Course(c))),
        training::PROGRAM_KIND => training::find_program(db, local)
            .await
            .extend()?
            .map(|p| Node::CertificationProgram(CertificationProgram(p))),
        training::CERTIFICATION_KIND => {
            training::service::find_visible_certification(db, &actor, local)
                .await
                .extend()?
                .map(|c| Node::Certification(Certification(c)))
        }
        content::NODE_KIND => content::find_for(db, &actor, local)
            .await
            .extend()?
            .map(|c| Node::Content(Content(c))),
        deals::PRODUCT_KIND => deals::service::products_by_id(db, &[local])
            .await
            .extend()?
            .remove(&local)
            .map(|p| Node::Product(Product(p))),
        deals::NODE_KIND => deals::find_for_node(ctx, db, &actor, local)
            .await?
            .map(|d| Node::DealRegistration(DealRegistration(d))),
        integrations::api_keys::NODE_KIND => integrations::keys::find(db, &actor, local)
            .await
            .extend()?
            .map(|k| Node::ApiKey(ApiKey(k))),
        imports::NODE_KIND => imports::find(db, &actor, local)
            .await
            .extend()?
            .map(|j| Node::ImportJob(ImportJob::new(j))),
        crate::opportunities::NODE_KIND => {
            crate::opportunities::service::find_visible(db, &actor, local)
                .await
                .extend()?
                .map(|o| Node::DirectOpportunity(crate::opportunities::DirectOpportunity(o)))
        }
        crate::leads::NODE_KIND => crate::leads::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|l| Node::Lead(crate::leads::Lead(l))),
        crate::plans::NODE_KIND => crate::plans::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|p| Node::JointBusinessPlan(crate::plans::JointBusinessPlan(p))),
        crate::plans::comments::NODE_KIND => {
            crate::plans::comments::find_visible(db, &actor, local)
                .await
                .extend()?
                .map(|(c, _)| Node::JointBusinessPlanComment(crate::plans::PlanComment(c)))
        }
        crate::plans::reviews::NODE_KIND => crate::plans::reviews::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|(r, _)| Node::JointBusinessPlanReview(crate::plans::PlanReview(r))),
        crate::audit::NODE_KIND => crate::audit::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|e| Node::AuditEvent(crate::audit::AuditEvent(e))),
        webhooks::NODE_KIND => webhooks::endpoints::find(db, &actor, local)
            .await
            .ok()
            .map(|e| Node::WebhookEndpoint(WebhookEndpoint(e))),
        _ => None,
    };
    Ok(node)
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by global ID; null when it does not exist or the caller may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        resolve_node(ctx, &id).await
    }

    /// Several objects by global ID (at most 100), in the order asked.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::BadUserInput(format!("at most {MAX_NODES} ids")).extend());
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            nodes.push(resolve_node(ctx, id).await?);
        }
        Ok(nodes)
    }
}

/// Selection sets and fragment spreads nested inside each other.
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// The schema's shape and limits, without runtime data (enough to print the SDL).
pub fn schema_builder(limits: &Limits) -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
}

/// The schema with its runtime data. `validation`: `Strict` for every request, `Fast` for
/// requests that passed `Strict` before (`http::validated`).
#[allow(clippy::too_many_arguments)]
pub fn build_schema(
    db: Db,
    auth: Arc<AuthService>,
    files: FileStore,
    limits: &Limits,
    bus: Arc<EventBus>,
    webhooks: Arc<crate::config::WebhookConfig>,
    imports: Arc<tokio::sync::Notify>,
    validation: async_graphql::ValidationMode,
) -> AppSchema {
    schema_builder(limits)
        .validation_mode(validation)
        .data(db)
        .data(auth)
        .data(files)
        .data(bus)
        .data(webhooks)
        .data(integrations::imports::ImportWake(imports))
        .finish()
}

/// The SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    schema_builder(&Limits::default()).finish().sdl()
}
