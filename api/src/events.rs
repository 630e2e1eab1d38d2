//! The outbox: every change others may react to (webhooks, subscriptions) is written here as
//! an event, in the transaction that makes the change. A rolled-back change leaves no event;
//! a committed one is never lost, even across a crash, because delivery starts from this
//! table. Domains write events and never call the integrations that read them.

use chrono::Utc;
use entity::event;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, Func, Query, UpdateStatement, WithClause,
};
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::Value;

use crate::error::AppResult;

/// The PostgreSQL channel that tells every replica an event was committed. Its payload is
/// `<schema>:<event id>`: notifications cross schemas, and deployments (or test runs) that
/// share a database in schemas of their own must not hear each other's ids.
pub const NOTIFY_CHANNEL: &str = "partnergraph_events";

/// What happened. The name is the webhook's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    DealSubmitted,
    DealApproved,
    DealRejected,
    DealReturned,
    DealExpired,
    DealWon,
    DealLost,
    /// For vendor staff only: it names the registrations a new one conflicts with.
    DealConflictDetected,
    ContentPublished,
    ContentUpdated,
    RebateAccrued,
    MdfClaimPaid,
    PartnerTierChanged,
    /// For channel managers only: a partner's health moved to another band.
    PartnerHealthChanged,
    OpportunityWon,
    OpportunityInfluenceAdded,
    LeadAssigned,
    LeadAccepted,
    /// For channel managers only: a partner declined a lead (it went on).
    LeadDeclined,
    /// For channel managers only: a partner did not accept a lead in time.
    LeadLapsed,
    LeadConverted,
    PlanStatusChanged,
    /// A plan's contents changed (name, targets, accounts, enablement, sponsors, objectives).
    PlanUpdated,
    /// Someone commented on a plan or proposed a change to it.
    PlanCommented,
    /// A quarterly review was recorded (or the partner added its notes).
    PlanReviewed,
}

impl EventType {
    pub const ALL: [EventType; 25] = [
        EventType::DealSubmitted,
        EventType::DealApproved,
        EventType::DealRejected,
        EventType::DealReturned,
        EventType::DealExpired,
        EventType::DealWon,
        EventType::DealLost,
        EventType::DealConflictDetected,
        EventType::ContentPublished,
        EventType::ContentUpdated,
        EventType::RebateAccrued,
        EventType::MdfClaimPaid,
        EventType::PartnerTierChanged,
        EventType::PartnerHealthChanged,
        EventType::OpportunityWon,
        EventType::OpportunityInfluenceAdded,
        EventType::LeadAssigned,
        EventType::LeadAccepted,
        EventType::LeadDeclined,
        EventType::LeadLapsed,
        EventType::LeadConverted,
        EventType::PlanStatusChanged,
        EventType::PlanUpdated,
        EventType::PlanCommented,
        EventType::PlanReviewed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventType::DealSubmitted => "deal_registration.submitted",
            EventType::DealApproved => "deal_registration.approved",
            EventType::DealRejected => "deal_registration.rejected",
            EventType::DealReturned => "deal_registration.returned",
            EventType::DealExpired => "deal_registration.expired",
            EventType::DealWon => "deal_registration.won",
            EventType::DealLost => "deal_registration.lost",
            EventType::DealConflictDetected => "deal_registration.conflict_detected",
            EventType::ContentPublished => "content.published",
            EventType::ContentUpdated => "content.updated",
            EventType::RebateAccrued => "rebate.accrued",
            EventType::MdfClaimPaid => "mdf.claim_paid",
            EventType::PartnerTierChanged => "partner.tier_changed",
            EventType::PartnerHealthChanged => "partner.health_changed",
            EventType::OpportunityWon => "direct_opportunity.won",
            EventType::OpportunityInfluenceAdded => "direct_opportunity.influence_added",
            EventType::LeadAssigned => "lead.assigned",
            EventType::LeadAccepted => "lead.accepted",
            EventType::LeadDeclined => "lead.declined",
            EventType::LeadLapsed => "lead.lapsed",
            EventType::LeadConverted => "lead.converted",
            EventType::PlanStatusChanged => "joint_business_plan.status_changed",
            EventType::PlanUpdated => "joint_business_plan.updated",
            EventType::PlanCommented => "joint_business_plan.commented",
            EventType::PlanReviewed => "joint_business_plan.reviewed",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The node type of the event's subject (its `data.id` is a global ID of it).
    pub fn subject_kind(self) -> &'static str {
        match self {
            EventType::ContentPublished | EventType::ContentUpdated => "Content",
            EventType::RebateAccrued => "LedgerEntry",
            EventType::MdfClaimPaid => "MdfClaim",
            EventType::PartnerTierChanged | EventType::PartnerHealthChanged => "Partner",
            EventType::OpportunityWon | EventType::OpportunityInfluenceAdded => "DirectOpportunity",
            EventType::LeadAssigned
            | EventType::LeadAccepted
            | EventType::LeadDeclined
            | EventType::LeadLapsed
            | EventType::LeadConverted => "Lead",
            EventType::PlanStatusChanged
            | EventType::PlanUpdated
            | EventType::PlanCommented
            | EventType::PlanReviewed => "JointBusinessPlan",
            _ => "DealRegistration",
        }
    }

    /// Events only vendor staff receive (they name other partners).
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            EventType::DealConflictDetected
                | EventType::PartnerHealthChanged
                | EventType::OpportunityWon
                | EventType::LeadDeclined
                | EventType::LeadLapsed
        )
    }

    pub fn is_deal(self) -> bool {
        self.subject_kind() == "DealRegistration"
    }
}

/// An event about to be written.
pub struct NewEvent {
    pub ty: EventType,
    pub subject_id: i64,
    /// The partner organisation it concerns (who, besides vendor staff, may receive it).
    pub partner_id: Option<i64>,
    /// The event's own facts (camelCase keys; ids already global).
    pub data: Value,
}

/// Writes `event` on `db`, which must be the transaction of the change it records. On
/// PostgreSQL it also notifies the replicas, which PostgreSQL delivers only on commit.
pub async fn emit(db: &impl ConnectionTrait, event: NewEvent) -> AppResult<()> {
    emit_all(db, vec![event]).await
}

/// `emit` for several events of one change, in one statement: on PostgreSQL the INSERT is a
/// common table expression whose ids the statement's SELECT notifies (a statement fewer
/// per event, which a submission that announces conflicts writes two of).
pub async fn emit_all(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> AppResult<()> {
    emit_with(db, None, events).await
}

/// Runs `change` and writes `events`, the events it causes: on PostgreSQL one statement,
/// the UPDATE a common table expression before the events' INSERT; on SQLite two.
pub async fn emit_all_after(
    db: &impl ConnectionTrait,
    change: UpdateStatement,
    events: Vec<NewEvent>,
) -> AppResult<()> {
    emit_with(db, Some(change), events).await
}

async fn emit_with(
    db: &impl ConnectionTrait,
    change: Option<UpdateStatement>,
    events: Vec<NewEvent>,
) -> AppResult<()> {
    let backend = db.get_database_backend();
    let together = backend == DbBackend::Postgres && !events.is_empty();
    if let (false, Some(change)) = (together, &change) {
        db.execute(backend.build(change)).await?;
    }
    if events.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut insert = Query::insert();
    insert.into_table(event::Entity).columns([
        event::Column::EventType,
        event::Column::SubjectId,
        event::Column::PartnerId,
        event::Column::Data,
        event::Column::CreatedAt,
    ]);
    for event in events {
        insert.values_panic([
            event.ty.name().into(),
            event.subject_id.into(),
            event.partner_id.into(),
            event.data.to_string().into(),
            now.into(),
        ]);
    }
    if backend != DbBackend::Postgres {
        db.execute(backend.build(&insert)).await?;
        return Ok(());
    }
    insert.returning_col(event::Column::Id);
    let written = Alias::new("written");
    let payload = Func::cust("concat").args([
        Expr::cust("current_schema()"),
        Expr::val(":").into(),
        Expr::col((written.clone(), event::Column::Id)).into(),
    ]);
    let notify = Query::select()
        .expr(Func::cust("pg_notify").args([NOTIFY_CHANNEL.into(), payload.into()]))
        .from(written.clone())
        .to_owned();
    let mut with = WithClause::new();
    if let Some(change) = change {
        with.cte(
            CommonTableExpression::new()
                .query(change)
                .table_name(Alias::new("changed"))
                .to_owned(),
        );
    }
    with.cte(
        CommonTableExpression::new()
            .query(insert)
            .table_name(written)
            .to_owned(),
    );
    let statement = with.query(notify);
    db.execute(backend.build(&statement)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_conflicts_stay_internal() {
        for ty in EventType::ALL {
            assert_eq!(EventType::parse(ty.name()), Some(ty));
        }
        assert!(EventType::DealConflictDetected.is_internal());
        assert!(!EventType::DealApproved.is_internal());
        assert_eq!(EventType::ContentUpdated.subject_kind(), "Content");
    }
}
