//! Who sees and changes direct opportunities: channel managers all of them; a direct rep
//! those it owns; a partner user those its organisation (or, for a distributor, its tier
//! two) influenced, with only its own influence records.

use entity::enums::Role;
use entity::{direct_opportunity as opportunity, opportunity_influence as influence};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::partners::policy::{scope, PartnerScope};

pub async fn visible_select(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Select<opportunity::Entity>> {
    let select = opportunity::Entity::find();
    Ok(match actor.role {
        Role::ChannelManager => select,
        Role::DirectRep => select.filter(opportunity::Column::OwnerId.eq(actor.user_id)),
        Role::Partner => {
            let influenced = scope(db, actor)
                .await?
                .restrict(
                    influence::Entity::find()
                        .select_only()
                        .column(influence::Column::OpportunityId),
                    influence::Column::PartnerId,
                )
                .into_query();
            select.filter(opportunity::Column::Id.in_subquery(influenced))
        }
    })
}

/// Vendor staff create opportunities (a rep its own; a manager for any rep).
pub fn can_create(actor: &Actor) -> bool {
    actor.is_vendor_staff()
}

/// The opportunity's owner and channel managers change it and its influences.
pub fn can_change(actor: &Actor, opportunity: &opportunity::Model) -> bool {
    match actor.role {
        Role::ChannelManager => true,
        Role::DirectRep => opportunity.owner_id == actor.user_id,
        Role::Partner => false,
    }
}

/// Which influence records the caller sees: all for staff, its organisation's for a partner.
pub async fn visible_influencers<'a>(
    db: &impl ConnectionTrait,
    actor: &'a Actor,
) -> AppResult<Option<&'a PartnerScope>> {
    Ok(match actor.role {
        Role::Partner => Some(scope(db, actor).await?),
        _ => None,
    })
}

/// Whether the caller sees the opportunity's account and its owner's other details.
pub fn sees_account(actor: &Actor) -> bool {
    actor.is_vendor_staff()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use entity::enums::OpportunityStage;

    fn owned_by(owner: i64) -> opportunity::Model {
        opportunity::Model {
            id: 1,
            name: "x".into(),
            account_id: 1,
            owner_id: owner,
            amount_minor: 1,
            currency: "USD".into(),
            stage: OpportunityStage::Prospecting,
            close_date: Utc::now().date_naive(),
            closed_at: None,
            created_by_id: None,
            idempotency_key: None,
            request_hash: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn owners_and_managers_change_partners_never() {
        let manager = Actor::new(1, Role::ChannelManager, None, 1);
        let rep = Actor::new(2, Role::DirectRep, None, 2);
        let other_rep = Actor::new(3, Role::DirectRep, None, 3);
        let partner = Actor::new(4, Role::Partner, Some(1), 4);
        let opportunity = owned_by(2);
        assert!(can_change(&manager, &opportunity));
        assert!(can_change(&rep, &opportunity));
        assert!(!can_change(&other_rep, &opportunity));
        assert!(!can_change(&partner, &opportunity));
        assert!(can_create(&rep) && !can_create(&partner));
    }
}
