//! The registration state machine as pure functions.
//!
//! `DRAFT → SUBMITTED → UNDER_REVIEW → APPROVED | REJECTED | RETURNED`;
//! `RETURNED → SUBMITTED` (capped); `APPROVED → WON | LOST | EXPIRED`;
//! `WITHDRAWN` by the partner before approval; `CANCELLED` by a channel manager from
//! `UNDER_REVIEW` or `APPROVED`. A reviewer's decision on a `SUBMITTED` registration passes
//! through `UNDER_REVIEW` (both steps are recorded).

use entity::enums::DealStatus::{self, *};

pub const MAX_RESUBMISSIONS: i32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    StartReview,
    Approve,
    Reject,
    Return,
    Withdraw,
    Cancel,
    MarkWon,
    MarkLost,
    Expire,
}

/// Who is acting, as far as the workflow cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A user of the registering partner (or its distributor).
    Partner,
    ChannelManager,
    /// The scheduled expiry job.
    System,
}

pub fn is_terminal(status: DealStatus) -> bool {
    matches!(
        status,
        Rejected | Withdrawn | Won | Lost | Expired | Cancelled
    )
}

/// The status `action` leads to from `from`, if `side` may take it.
pub fn transition(from: DealStatus, action: Action, side: Side) -> Option<DealStatus> {
    use Action::*;
    use Side::*;
    let to = match (from, action, side) {
        (Draft | Returned, Submit, Partner) => Submitted,
        (Submitted, StartReview, ChannelManager) => UnderReview,
        (Submitted | UnderReview, Approve, ChannelManager) => Approved,
        (Submitted | UnderReview, Reject, ChannelManager) => Rejected,
        (Submitted | UnderReview, Return, ChannelManager) => DealStatus::Returned,
        (Draft | Submitted | UnderReview | DealStatus::Returned, Withdraw, Partner) => Withdrawn,
        (UnderReview | Approved, Cancel, ChannelManager) => Cancelled,
        (Approved, MarkWon, Partner | ChannelManager) => Won,
        (Approved, MarkLost, Partner | ChannelManager) => Lost,
        (Approved, Expire, System) => Expired,
        _ => return None,
    };
    Some(to)
}

const ACTIONS: [Action; 9] = [
    Action::Submit,
    Action::StartReview,
    Action::Approve,
    Action::Reject,
    Action::Return,
    Action::Withdraw,
    Action::Cancel,
    Action::MarkWon,
    Action::MarkLost,
];

/// The statuses `side` can move a registration to from `from`.
pub fn allowed_targets(from: DealStatus, side: Side) -> Vec<DealStatus> {
    let mut targets: Vec<DealStatus> = ACTIONS
        .iter()
        .filter_map(|a| transition(from, *a, side))
        .collect();
    targets.dedup();
    targets
}

/// Fields a partner may change in `status` (`RETURNED`: only those the reviewer listed).
pub fn editable_fields(status: DealStatus, returned_fields: &[String]) -> Vec<String> {
    match status {
        Draft => EDITABLE.iter().map(|f| f.to_string()).collect(),
        DealStatus::Returned => returned_fields.to_vec(),
        _ => vec![],
    }
}

/// Every field a draft may change.
pub const EDITABLE: [&str; 8] = [
    "customerName",
    "customerDomain",
    "customerCountry",
    "productIds",
    "estimatedValue",
    "expectedCloseDate",
    "dealType",
    "description",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path() {
        assert_eq!(
            transition(Draft, Action::Submit, Side::Partner),
            Some(Submitted)
        );
        assert_eq!(
            transition(Submitted, Action::StartReview, Side::ChannelManager),
            Some(UnderReview)
        );
        assert_eq!(
            transition(UnderReview, Action::Approve, Side::ChannelManager),
            Some(Approved)
        );
        assert_eq!(
            transition(Approved, Action::MarkWon, Side::Partner),
            Some(Won)
        );
    }

    #[test]
    fn roles_are_enforced_by_the_machine() {
        assert_eq!(
            transition(UnderReview, Action::Approve, Side::Partner),
            None
        );
        assert_eq!(
            transition(Approved, Action::Withdraw, Side::Partner),
            None,
            "no withdrawal after approval"
        );
        assert_eq!(
            transition(Submitted, Action::Cancel, Side::ChannelManager),
            None,
            "cancel only from review or approved"
        );
        assert_eq!(
            transition(Approved, Action::Cancel, Side::ChannelManager),
            Some(Cancelled)
        );
        assert_eq!(
            transition(Approved, Action::Expire, Side::ChannelManager),
            None
        );
        assert_eq!(
            transition(Approved, Action::Expire, Side::System),
            Some(Expired)
        );
    }

    #[test]
    fn terminal_states_go_nowhere() {
        for status in [Rejected, Withdrawn, Won, Lost, Expired, Cancelled] {
            assert!(is_terminal(status));
            assert!(allowed_targets(status, Side::Partner).is_empty());
            assert!(allowed_targets(status, Side::ChannelManager).is_empty());
        }
    }

    #[test]
    fn returned_registrations_are_resubmitted_and_only_listed_fields_are_editable() {
        assert_eq!(
            transition(DealStatus::Returned, Action::Submit, Side::Partner),
            Some(Submitted)
        );
        let listed = vec!["estimatedValue".to_string()];
        assert_eq!(editable_fields(DealStatus::Returned, &listed), listed);
        assert!(
            editable_fields(UnderReview, &listed).is_empty(),
            "read-only under review"
        );
        assert_eq!(editable_fields(Draft, &[]).len(), EDITABLE.len());
    }

    #[test]
    fn allowed_targets_per_side() {
        assert_eq!(
            allowed_targets(Submitted, Side::ChannelManager),
            [UnderReview, Approved, Rejected, DealStatus::Returned]
        );
        assert_eq!(allowed_targets(Submitted, Side::Partner), [Withdrawn]);
    }
}
