//! Enumerations stored as short strings, so both SQLite and PostgreSQL keep them readably.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Role {
    #[sea_orm(string_value = "PARTNER")]
    Partner,
    #[sea_orm(string_value = "CHANNEL_MANAGER")]
    ChannelManager,
    #[sea_orm(string_value = "DIRECT_REP")]
    DirectRep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PartnerType {
    #[sea_orm(string_value = "RESELLER")]
    Reseller,
    #[sea_orm(string_value = "VAR")]
    Var,
    #[sea_orm(string_value = "DISTRIBUTOR")]
    Distributor,
    #[sea_orm(string_value = "REFERRAL")]
    Referral,
    #[sea_orm(string_value = "SYSTEM_INTEGRATOR")]
    SystemIntegrator,
    #[sea_orm(string_value = "MSP")]
    Msp,
    #[sea_orm(string_value = "OEM")]
    Oem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PartnerStatus {
    #[sea_orm(string_value = "PROSPECT")]
    Prospect,
    #[sea_orm(string_value = "ONBOARDING")]
    Onboarding,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "DORMANT")]
    Dormant,
    #[sea_orm(string_value = "TERMINATED")]
    Terminated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum DealRole {
    #[sea_orm(string_value = "DECISION_MAKER")]
    DecisionMaker,
    #[sea_orm(string_value = "CHAMPION")]
    Champion,
    #[sea_orm(string_value = "INFLUENCER")]
    Influencer,
    #[sea_orm(string_value = "TECHNICAL")]
    Technical,
    #[sea_orm(string_value = "FINANCE")]
    Finance,
    #[sea_orm(string_value = "SALES")]
    Sales,
    #[sea_orm(string_value = "MARKETING")]
    Marketing,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Influence {
    #[sea_orm(string_value = "LOW")]
    Low,
    #[sea_orm(string_value = "MEDIUM")]
    Medium,
    #[sea_orm(string_value = "HIGH")]
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProspectStatus {
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "CONVERTED")]
    Converted,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ContentKind {
    #[sea_orm(string_value = "BATTLE_CARD")]
    BattleCard,
    #[sea_orm(string_value = "PRICE_SHEET")]
    PriceSheet,
    #[sea_orm(string_value = "POSITIONING")]
    Positioning,
    #[sea_orm(string_value = "CASE_STUDY")]
    CaseStudy,
    #[sea_orm(string_value = "TRAINING")]
    Training,
    #[sea_orm(string_value = "CO_MARKETING_TEMPLATE")]
    CoMarketingTemplate,
    #[sea_orm(string_value = "BRAND_ASSET")]
    BrandAsset,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ContentEventKind {
    #[sea_orm(string_value = "VIEW")]
    View,
    #[sea_orm(string_value = "DOWNLOAD")]
    Download,
    #[sea_orm(string_value = "SHARE")]
    Share,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DealStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "UNDER_REVIEW")]
    UnderReview,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "RETURNED")]
    Returned,
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "WON")]
    Won,
    #[sea_orm(string_value = "LOST")]
    Lost,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DealType {
    #[sea_orm(string_value = "NEW")]
    New,
    #[sea_orm(string_value = "RENEWAL")]
    Renewal,
    #[sea_orm(string_value = "EXPANSION")]
    Expansion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AccountOwnership {
    #[sea_orm(string_value = "DIRECT")]
    Direct,
    #[sea_orm(string_value = "CHANNEL")]
    Channel,
    #[sea_orm(string_value = "OPEN")]
    Open,
}

/// A direct opportunity's stage: four open stages, then won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OpportunityStage {
    #[sea_orm(string_value = "PROSPECTING")]
    Prospecting,
    #[sea_orm(string_value = "QUALIFICATION")]
    Qualification,
    #[sea_orm(string_value = "PROPOSAL")]
    Proposal,
    #[sea_orm(string_value = "NEGOTIATION")]
    Negotiation,
    #[sea_orm(string_value = "WON")]
    Won,
    #[sea_orm(string_value = "LOST")]
    Lost,
}

/// What a partner did for a direct opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InfluenceRole {
    #[sea_orm(string_value = "REFERRAL")]
    Referral,
    #[sea_orm(string_value = "CO_SELL")]
    CoSell,
    #[sea_orm(string_value = "IMPLEMENTATION")]
    Implementation,
    #[sea_orm(string_value = "FULFILLMENT")]
    Fulfillment,
    #[sea_orm(string_value = "SUPPORT")]
    Support,
}

/// A partner health score's band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HealthBand {
    #[sea_orm(string_value = "HEALTHY")]
    Healthy,
    #[sea_orm(string_value = "WATCH")]
    Watch,
    #[sea_orm(string_value = "AT_RISK")]
    AtRisk,
}

/// Where a routed lead stands: with a partner that has not yet accepted it, accepted,
/// converted into a deal registration, with no eligible partner, or closed by the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LeadStatus {
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "CONVERTED")]
    Converted,
    #[sea_orm(string_value = "UNASSIGNED")]
    Unassigned,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// Why a partner will not be offered a lead again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LeadExclusionReason {
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    #[sea_orm(string_value = "LAPSED")]
    Lapsed,
}

/// A joint business plan's state: drafted by the vendor, shared with the partner, active
/// once the partner's org admin accepts, then completed or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PlanStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "SHARED")]
    Shared,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What a plan's enablement need is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PlanNeedKind {
    #[sea_orm(string_value = "COURSE")]
    Course,
    #[sea_orm(string_value = "CERTIFICATION")]
    Certification,
    #[sea_orm(string_value = "CONTENT")]
    Content,
}

/// Which side of a plan a sponsor stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PlanSide {
    #[sea_orm(string_value = "VENDOR")]
    Vendor,
    #[sea_orm(string_value = "PARTNER")]
    Partner,
}

/// The computed measure a plan objective is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PlanMetric {
    #[sea_orm(string_value = "REVENUE")]
    Revenue,
    #[sea_orm(string_value = "TARGET_ACCOUNT_PIPELINE")]
    TargetAccountPipeline,
    #[sea_orm(string_value = "WON_REGISTRATIONS")]
    WonRegistrations,
    #[sea_orm(string_value = "CERTIFICATIONS_EARNED")]
    CertificationsEarned,
    #[sea_orm(string_value = "ENABLEMENT_NEEDS_MET")]
    EnablementNeedsMet,
    #[sea_orm(string_value = "LEADS_CONVERTED")]
    LeadsConverted,
}

/// Where a proposed change to a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProposalStatus {
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

/// How a mutation's caller came: a signed-in session, an API key, or nobody yet (a login).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AuditVia {
    #[sea_orm(string_value = "SESSION")]
    Session,
    #[sea_orm(string_value = "API_KEY")]
    ApiKey,
    #[sea_orm(string_value = "ANONYMOUS")]
    Anonymous,
}

/// How a mutation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AuditOutcome {
    /// It did what was asked.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// It answered `userErrors` (nothing changed).
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// It answered errors (unauthenticated, forbidden, not found, internal).
    #[sea_orm(string_value = "FAILED")]
    Failed,
}
