//! Certification rules as pure functions.

use std::collections::HashMap;

use chrono::{DateTime, Months, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not (yet) earned: some required course is missing.
    InProgress,
    /// Earned and within its validity.
    Active,
    /// Earned, but its validity ran out; completing the courses again renews it.
    Expired,
}

pub fn status(
    awarded_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Status {
    match (awarded_at, expires_at) {
        (None, _) => Status::InProgress,
        (Some(_), Some(expires)) if expires <= now => Status::Expired,
        (Some(_), _) => Status::Active,
    }
}

/// Completions that count towards the next award: all of them for a first award; only
/// those after the previous award for a renewal.
fn counts(completed_at: DateTime<Utc>, previous_award: Option<DateTime<Utc>>) -> bool {
    previous_award.is_none_or(|awarded| completed_at > awarded)
}

/// How many required courses are done towards the next award.
pub fn completed_count(
    required: &[i64],
    completions: &HashMap<i64, DateTime<Utc>>,
    awarded_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> usize {
    let previous = match status(awarded_at, expires_at, now) {
        Status::Expired => awarded_at,
        Status::InProgress => None,
        Status::Active => return required.len(),
    };
    required
        .iter()
        .filter(|course| {
            completions
                .get(course)
                .is_some_and(|at| counts(*at, previous))
        })
        .count()
}

/// `(awarded_at, expires_at)` of a new award, when the completions earn one now.
pub fn award(
    required: &[i64],
    completions: &HashMap<i64, DateTime<Utc>>,
    awarded_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    validity_months: u32,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if required.is_empty() || status(awarded_at, expires_at, now) == Status::Active {
        return None;
    }
    if completed_count(required, completions, awarded_at, expires_at, now) < required.len() {
        return None;
    }
    let expires = now.checked_add_months(Months::new(validity_months))?;
    Some((now, expires))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn done(pairs: &[(i64, DateTime<Utc>)]) -> HashMap<i64, DateTime<Utc>> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn awarded_when_every_required_course_is_complete() {
        let now = Utc::now();
        let required = [1, 2];
        assert_eq!(
            award(&required, &done(&[(1, now)]), None, None, 12, now),
            None
        );
        let (awarded, expires) =
            award(&required, &done(&[(1, now), (2, now)]), None, None, 12, now).unwrap();
        assert_eq!(awarded, now);
        assert_eq!(expires, now.checked_add_months(Months::new(12)).unwrap());
        assert_eq!(
            completed_count(&required, &done(&[(1, now)]), None, None, now),
            1
        );
    }

    #[test]
    fn status_follows_award_and_expiry() {
        let now = Utc::now();
        assert_eq!(status(None, None, now), Status::InProgress);
        assert_eq!(
            status(Some(now), Some(now + Duration::days(1)), now),
            Status::Active
        );
        assert_eq!(
            status(
                Some(now - Duration::days(400)),
                Some(now - Duration::days(35)),
                now
            ),
            Status::Expired
        );
    }

    #[test]
    fn an_active_certification_is_not_awarded_again() {
        let now = Utc::now();
        let completions = done(&[(1, now)]);
        assert_eq!(
            award(
                &[1],
                &completions,
                Some(now),
                Some(now + Duration::days(10)),
                12,
                now
            ),
            None
        );
    }

    #[test]
    fn renewal_needs_the_courses_again_after_the_previous_award() {
        let now = Utc::now();
        let awarded = now - Duration::days(400);
        let expired = now - Duration::days(35);
        let old = done(&[
            (1, awarded - Duration::days(1)),
            (2, awarded - Duration::days(1)),
        ]);
        assert_eq!(
            award(&[1, 2], &old, Some(awarded), Some(expired), 12, now),
            None
        );
        let retaken = done(&[(1, now), (2, now)]);
        assert!(award(&[1, 2], &retaken, Some(awarded), Some(expired), 12, now).is_some());
    }

    #[test]
    fn a_program_without_courses_awards_nothing() {
        assert_eq!(
            award(&[], &HashMap::new(), None, None, 12, Utc::now()),
            None
        );
    }
}
