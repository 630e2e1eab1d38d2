//! A plan's workflow: `DRAFT` (vendor only) → `SHARED` (the partner sees it) → `ACTIVE`
//! (the partner's org admin accepted) → `COMPLETED`; any of the first three → `CANCELLED`.

use entity::enums::PlanStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Share,
    Accept,
    Complete,
    Cancel,
}

/// Where `action` takes a plan in `from`, if it may.
pub fn target(action: Move, from: PlanStatus) -> Option<PlanStatus> {
    use PlanStatus::*;
    match (action, from) {
        (Move::Share, Draft) => Some(Shared),
        (Move::Accept, Shared) => Some(Active),
        (Move::Complete, Active) => Some(Completed),
        (Move::Cancel, Draft | Shared | Active) => Some(Cancelled),
        _ => None,
    }
}

/// Whether targets and name may still change (not once both sides agreed).
pub fn is_editable(status: PlanStatus) -> bool {
    matches!(status, PlanStatus::Draft | PlanStatus::Shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_shared_then_accepted_and_ends_once() {
        assert_eq!(
            target(Move::Share, PlanStatus::Draft),
            Some(PlanStatus::Shared)
        );
        assert_eq!(target(Move::Accept, PlanStatus::Draft), None);
        assert_eq!(
            target(Move::Accept, PlanStatus::Shared),
            Some(PlanStatus::Active)
        );
        assert_eq!(target(Move::Complete, PlanStatus::Shared), None);
        assert_eq!(target(Move::Cancel, PlanStatus::Completed), None);
        assert!(!is_editable(PlanStatus::Active));
    }
}
