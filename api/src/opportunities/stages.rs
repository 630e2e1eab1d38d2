//! The stages of a direct opportunity: four open ones, in any order, then won or lost.

use entity::enums::OpportunityStage as Stage;

pub const OPEN: [Stage; 4] = [
    Stage::Prospecting,
    Stage::Qualification,
    Stage::Proposal,
    Stage::Negotiation,
];

pub fn is_open(stage: Stage) -> bool {
    OPEN.contains(&stage)
}

/// Where an opportunity in `from` may go: from an open stage to any other stage; a won or
/// lost opportunity stays closed.
pub fn allowed(from: Stage) -> Vec<Stage> {
    if !is_open(from) {
        return vec![];
    }
    OPEN.iter()
        .copied()
        .chain([Stage::Won, Stage::Lost])
        .filter(|s| *s != from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_stages_move_freely_and_closed_ones_stay() {
        assert!(allowed(Stage::Prospecting).contains(&Stage::Negotiation));
        assert!(allowed(Stage::Negotiation).contains(&Stage::Qualification));
        assert!(allowed(Stage::Proposal).contains(&Stage::Won));
        assert!(!allowed(Stage::Proposal).contains(&Stage::Proposal));
        assert!(allowed(Stage::Won).is_empty());
        assert!(allowed(Stage::Lost).is_empty());
    }
}
