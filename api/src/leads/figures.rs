//! Lead figures per partner, pure: from the partner's turns in the leads' histories and the
//! leads it declined or let lapse.

use chrono::{DateTime, Utc};
use entity::enums::LeadStatus;

use crate::metrics::formulas::{rate, Histogram};

/// A history row of the partner's: the lead, the status it moved to, when.
pub type Turn = (i64, LeadStatus, DateTime<Utc>);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFigures {
    /// Times a lead was assigned to it.
    pub received: u64,
    pub accepted: u64,
    pub declined: u64,
    pub lapsed: u64,
    pub converted: u64,
    /// accepted / received.
    pub acceptance_rate: Option<f64>,
    /// converted / accepted.
    pub conversion_rate: Option<f64>,
    /// Median whole hours from an assignment to its acceptance.
    pub median_hours_to_accept: Option<f64>,
}

/// The figures of `turns` (oldest first), `declined` and `lapsed` counts.
pub fn figures(turns: &[Turn], declined: u64, lapsed: u64) -> LeadFigures {
    let mut f = LeadFigures {
        declined,
        lapsed,
        ..LeadFigures::default()
    };
    let mut hours = Histogram::default();
    let mut assigned_at: std::collections::HashMap<i64, DateTime<Utc>> = Default::default();
    for (lead, status, at) in turns {
        match status {
            LeadStatus::Assigned => {
                f.received += 1;
                assigned_at.insert(*lead, *at);
            }
            LeadStatus::Accepted => {
                f.accepted += 1;
                if let Some(from) = assigned_at.get(lead) {
                    hours.add((*at - *from).num_hours().max(0), 1);
                }
            }
            LeadStatus::Converted => f.converted += 1,
            LeadStatus::Unassigned | LeadStatus::Closed => {}
        }
    }
    f.acceptance_rate = rate(f.accepted, f.received);
    f.conversion_rate = rate(f.converted, f.accepted);
    f.median_hours_to_accept = hours.median();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn rates_and_the_median_time_to_accept_come_from_the_turns() {
        let turns = vec![
            (1, LeadStatus::Assigned, at(0)),
            (1, LeadStatus::Accepted, at(4)),
            (1, LeadStatus::Converted, at(9)),
            (2, LeadStatus::Assigned, at(1)),
            (2, LeadStatus::Accepted, at(11)),
            (3, LeadStatus::Assigned, at(2)),
            (4, LeadStatus::Assigned, at(3)),
        ];
        let f = figures(&turns, 1, 1);
        assert_eq!((f.received, f.accepted, f.converted), (4, 2, 1));
        assert_eq!(f.acceptance_rate, Some(0.5));
        assert_eq!(f.conversion_rate, Some(0.5));
        assert_eq!(f.median_hours_to_accept, Some(7.0));
        assert_eq!((f.declined, f.lapsed), (1, 1));
        assert_eq!(figures(&[], 0, 0).acceptance_rate, None);
    }
}
