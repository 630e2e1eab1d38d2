//! Who may read the program's metrics, and whose: channel managers read every partner's;
//! a partner user reads its own organisation's (a distributor's includes its tier two);
//! direct reps run their own opportunities and read no program metrics.

use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::partners::policy::{scope, PartnerScope};

use super::report::Viewer;

pub async fn viewer(db: &impl sea_orm::ConnectionTrait, actor: &Actor) -> AppResult<Viewer> {
    if actor.role == Role::DirectRep {
        return Err(AppError::Forbidden(
            "program metrics are for channel managers and partners".into(),
        ));
    }
    Ok(match scope(db, actor).await? {
        PartnerScope::All => Viewer { partners: None },
        PartnerScope::Only(ids) => Viewer {
            partners: Some(ids.clone()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_direct_rep_is_refused_before_any_read() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let rep = Actor::new(2, Role::DirectRep, None, 1);
        let refused = viewer(&db, &rep).await.unwrap_err();
        assert_eq!(refused.code(), "FORBIDDEN");
        let manager = Actor::new(1, Role::ChannelManager, None, 1);
        assert!(viewer(&db, &manager).await.unwrap().partners.is_none());
    }
}
