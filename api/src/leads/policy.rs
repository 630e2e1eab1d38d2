//! Who sees and moves leads: channel managers all of them (they create, route, assign and
//! close); a partner user the leads with its organisation (or, for a distributor, its tier
//! two) while they are assigned, accepted or converted, without contact details until its
//! organisation accepts; direct reps none. Only the assigned organisation accepts,
//! declines and converts.

use entity::enums::{LeadStatus, Role};
use entity::lead;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::partners::policy::scope;

/// The statuses in which a lead is with a partner (and that partner sees it).
pub const WITH_PARTNER: [LeadStatus; 3] = [
    LeadStatus::Assigned,
    LeadStatus::Accepted,
    LeadStatus::Converted,
];

pub async fn visible_select(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Select<lead::Entity>> {
    let select = lead::Entity::find();
    Ok(match actor.role {
        Role::ChannelManager => select,
        Role::DirectRep => select.filter(lead::Column::Id.eq(-1)),
        Role::Partner => scope(db, actor)
            .await?
            .restrict(select, lead::Column::AssignedPartnerId)
            .filter(lead::Column::AssignedPartnerId.is_not_null())
            .filter(lead::Column::Status.is_in(WITH_PARTNER)),
    })
}

/// Channel managers create leads and rules, assign, close and set the lead settings.
pub fn can_manage(actor: &Actor) -> bool {
    actor.role == Role::ChannelManager
}

/// Whether the caller's organisation is the one the lead is with.
pub fn is_assignee(actor: &Actor, lead: &lead::Model) -> bool {
    actor.role == Role::Partner
        && actor.partner_id.is_some()
        && actor.partner_id == lead.assigned_partner_id
}

/// Contact details: vendor staff always; the partner once its organisation accepted.
pub fn sees_contact(actor: &Actor, lead: &lead::Model) -> bool {
    actor.role == Role::ChannelManager
        || (is_assignee(actor, lead)
            && matches!(lead.status, LeadStatus::Accepted | LeadStatus::Converted))
}

/// Routing details (rules, reasons, other partners' turns): vendor staff only.
pub fn sees_routing(actor: &Actor) -> bool {
    actor.role == Role::ChannelManager
}

/// What the caller may do to the lead now.
pub fn actions(actor: &Actor, lead: &lead::Model) -> Vec<super::stages::Action> {
    use super::stages::Action;
    let mut found = Vec::new();
    if is_assignee(actor, lead) {
        match lead.status {
            LeadStatus::Assigned => found.extend([Action::Accept, Action::Decline]),
            LeadStatus::Accepted => found.push(Action::Convert),
            _ => {}
        }
    }
    if can_manage(actor) {
        if matches!(lead.status, LeadStatus::Assigned | LeadStatus::Unassigned) {
            found.push(Action::Assign);
        }
        if !matches!(lead.status, LeadStatus::Converted | LeadStatus::Closed) {
            found.push(Action::Close);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::stages::Action;

    fn actor(role: Role, partner: Option<i64>) -> Actor {
        Actor::new(1, role, partner, 0)
    }

    fn lead_with(partner: Option<i64>, status: LeadStatus) -> lead::Model {
        let now = chrono::Utc::now();
        lead::Model {
            id: 1,
            company_name: "x".into(),
            company_domain: None,
            country: None,
            region: None,
            vertical: None,
            contact_name: None,
            contact_email: Some("a@b.example".into()),
            contact_phone: None,
            source: None,
            status,
            assigned_partner_id: partner,
            rule_id: None,
            assigned_at: None,
            accept_by: None,
            accepted_at: None,
            converted_at: None,
            registration_id: None,
            created_by_id: 1,
            idempotency_key: None,
            request_hash: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn contacts_show_once_the_assignee_accepts() {
        let assigned = lead_with(Some(7), LeadStatus::Assigned);
        let accepted = lead_with(Some(7), LeadStatus::Accepted);
        let partner = actor(Role::Partner, Some(7));
        let other = actor(Role::Partner, Some(8));
        assert!(!sees_contact(&partner, &assigned));
        assert!(sees_contact(&partner, &accepted));
        assert!(!sees_contact(&other, &accepted));
        assert!(sees_contact(&actor(Role::ChannelManager, None), &assigned));
        assert_eq!(
            actions(&partner, &assigned),
            vec![Action::Accept, Action::Decline]
        );
        assert!(actions(&other, &assigned).is_empty());
        assert_eq!(
            actions(&actor(Role::ChannelManager, None), &accepted),
            vec![Action::Close]
        );
    }
}
