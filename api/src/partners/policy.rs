//! Who may see which partner organisation. Every domain asks this module, so the rule
//! lives in one place: vendor staff see every partner; a partner user sees its own
//! organisation and, for a distributor, the tier-two partners below it at any depth.

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, Statement};

use crate::auth::{Actor, Role};
use crate::db::placeholder;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerScope {
    All,
    Only(BTreeSet<i64>),
}

impl PartnerScope {
    pub fn allows(&self, partner_id: i64) -> bool {
        match self {
            PartnerScope::All => true,
            PartnerScope::Only(ids) => ids.contains(&partner_id),
        }
    }

    /// Narrows `select` to rows whose `column` names a visible partner.
    pub fn restrict<E: EntityTrait>(
        &self,
        select: Select<E>,
        column: impl ColumnTrait,
    ) -> Select<E> {
        match self {
            PartnerScope::All => select,
            PartnerScope::Only(ids) => select.filter(column.is_in(ids.iter().copied())),
        }
    }
}

/// The caller's partner scope, computed once per request.
pub async fn scope<'a>(db: &impl ConnectionTrait, actor: &'a Actor) -> AppResult<&'a PartnerScope> {
    actor
        .scope
        .get_or_try_init(|| async { compute_scope(db, actor).await })
        .await
}

async fn compute_scope(db: &impl ConnectionTrait, actor: &Actor) -> AppResult<PartnerScope> {
    match actor.role {
        Role::ChannelManager | Role::DirectRep => Ok(PartnerScope::All),
        Role::Partner => {
            let own = actor
                .partner_id
                .ok_or_else(|| AppError::internal("partner user without a partner"))?;
            if actor.rows.as_ref().is_some_and(|rows| !rows.has_tier_two) {
                return Ok(PartnerScope::Only(BTreeSet::from([own])));
            }
            Ok(PartnerScope::Only(organisation_tree(db, own).await?))
        }
    }
}

/// `root` and every partner below it. `UNION` (not `UNION ALL`) stops at repeated ids, so
/// even a corrupt cycle cannot loop.
pub async fn organisation_tree(db: &impl ConnectionTrait, root: i64) -> AppResult<BTreeSet<i64>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "WITH RECURSIVE tree(id) AS (\
           SELECT id FROM partners WHERE id = {p} \
           UNION SELECT p.id FROM partners p JOIN tree t ON p.parent_id = t.id\
         ) SELECT id FROM tree",
        p = placeholder(backend, 1)
    );
    let rows = db
        .query_all(Statement::from_sql_and_values(backend, sql, [root.into()]))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(AppError::from))
        .collect()
}

/// Channel managers run the program: create and change partners, tiers and users.
pub fn can_manage_program(actor: &Actor) -> bool {
    actor.role == Role::ChannelManager
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scope_allows_listed_partners() {
        let scope = PartnerScope::Only([1, 3].into_iter().collect());
        assert!(scope.allows(1));
        assert!(!scope.allows(2));
        assert!(PartnerScope::All.allows(2));
    }

    #[test]
    fn only_channel_managers_manage_the_program() {
        let manager = Actor::new(1, Role::ChannelManager, None, 1);
        let rep = Actor::new(2, Role::DirectRep, None, 2);
        let partner = Actor::new(3, Role::Partner, Some(1), 3);
        assert!(can_manage_program(&manager));
        assert!(!can_manage_program(&rep));
        assert!(!can_manage_program(&partner));
    }
}
