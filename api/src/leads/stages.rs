//! A lead's workflow: what each action does to its status.
//!
//! `ASSIGNED` (with a partner, waiting for it to accept) → `ACCEPTED` → `CONVERTED` (a deal
//! registration). A decline or a lapsed time to accept routes it again: `ASSIGNED` to
//! another partner, or `UNASSIGNED` when none is eligible. A manager assigns an unassigned
//! (or reassigns an assigned) lead, and closes any lead not yet converted.

use entity::enums::LeadStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Decline,
    Convert,
    Assign,
    Close,
}

/// The statuses an action may lead to from `from` (routing decides between them).
pub fn targets(action: Action, from: LeadStatus) -> Vec<LeadStatus> {
    use LeadStatus::*;
    match (action, from) {
        (Action::Accept, Assigned) => vec![Accepted],
        (Action::Decline, Assigned) => vec![Assigned, Unassigned],
        (Action::Convert, Accepted) => vec![Converted],
        (Action::Assign, Assigned | Unassigned) => vec![Assigned],
        (Action::Close, Assigned | Accepted | Unassigned) => vec![Closed],
        _ => vec![],
    }
}

/// Every status the actions reach from `from`, each once.
pub fn reachable(actions: &[Action], from: LeadStatus) -> Vec<LeadStatus> {
    let mut found: Vec<LeadStatus> = Vec::new();
    for action in actions {
        for to in targets(*action, from) {
            if !found.contains(&to) {
                found.push(to);
            }
        }
    }
    found
}

/// Leads a partner holds open (they count against a rule's capacity).
pub const OPEN: [LeadStatus; 2] = [LeadStatus::Assigned, LeadStatus::Accepted];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_and_closed_leads_go_nowhere() {
        for action in [
            Action::Accept,
            Action::Decline,
            Action::Convert,
            Action::Assign,
            Action::Close,
        ] {
            assert!(targets(action, LeadStatus::Converted).is_empty());
            assert!(targets(action, LeadStatus::Closed).is_empty());
        }
        assert_eq!(
            reachable(&[Action::Accept, Action::Decline], LeadStatus::Assigned),
            vec![
                LeadStatus::Accepted,
                LeadStatus::Assigned,
                LeadStatus::Unassigned
            ]
        );
        assert!(targets(Action::Convert, LeadStatus::Assigned).is_empty());
    }
}
