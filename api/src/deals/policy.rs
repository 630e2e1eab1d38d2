//! Who sees which registrations: channel managers all; a partner user its organisation's
//! (a distributor also its tier-two partners'); a direct rep those touching its named
//! direct accounts. Partners never see internal notes or who they conflict with.

use entity::enums::{AccountOwnership, Role};
use entity::{account, account_domain, deal_registration};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    Select,
};

use super::workflow::Side;
use crate::auth::Actor;
use crate::error::AppResult;
use crate::partners::policy::{scope, PartnerScope};

pub async fn visible_select(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<Select<deal_registration::Entity>> {
    let select = deal_registration::Entity::find();
    Ok(match actor.role {
        Role::ChannelManager => select,
        Role::Partner => scope(db, actor)
            .await?
            .restrict(select, deal_registration::Column::PartnerId),
        Role::DirectRep => select.filter(touches_accounts_of(actor.user_id)),
    })
}

/// What `visible_select` restricts to when partner alone decides it (managers: every
/// partner; partner users: their scope), for reads that build their own statement; `None`
/// for direct reps, who see by account.
pub async fn visible_by_partner_alone<'a>(
    db: &impl ConnectionTrait,
    actor: &'a Actor,
) -> AppResult<Option<&'a PartnerScope>> {
    static EVERY_PARTNER: PartnerScope = PartnerScope::All;
    Ok(match actor.role {
        Role::ChannelManager => Some(&EVERY_PARTNER),
        Role::Partner => Some(scope(db, actor).await?),
        Role::DirectRep => None,
    })
}

/// The partners whose registrations are all the caller sees, when what it sees is decided
/// by partner alone (partner users); `None` for the other roles.
pub async fn visible_partners<'a>(
    db: &impl ConnectionTrait,
    actor: &'a Actor,
) -> AppResult<Option<&'a PartnerScope>> {
    Ok(match actor.role {
        Role::Partner => Some(scope(db, actor).await?),
        Role::ChannelManager | Role::DirectRep => None,
    })
}

/// Registrations whose customer is one of `rep`'s named direct accounts.
pub fn touches_accounts_of(rep: i64) -> Condition {
    let owned = || {
        account::Entity::find()
            .filter(account::Column::OwnerId.eq(rep))
            .filter(account::Column::Ownership.eq(AccountOwnership::Direct))
    };
    let roots = account_domain::Entity::find()
        .select_only()
        .column(account_domain::Column::Root)
        .filter(
            account_domain::Column::AccountId.in_subquery(
                owned()
                    .select_only()
                    .column(account::Column::Id)
                    .into_query(),
            ),
        )
        .into_query();
    let names = owned()
        .select_only()
        .column(account::Column::NameKey)
        .into_query();
    Condition::any()
        .add(deal_registration::Column::CustomerRoot.in_subquery(roots))
        .add(deal_registration::Column::CustomerNameKey.in_subquery(names))
}

/// The workflow side the caller acts on, if any (direct reps only read and contest).
pub fn side(actor: &Actor) -> Option<Side> {
    match actor.role {
        Role::Partner => Some(Side::Partner),
        Role::ChannelManager => Some(Side::ChannelManager),
        Role::DirectRep => None,
    }
}

/// Internal notes and conflict counterparties are for vendor staff.
pub fn sees_internal(actor: &Actor) -> bool {
    actor.is_vendor_staff()
}
