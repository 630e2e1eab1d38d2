//! Who reads the audit log: channel managers all of it; a partner's org admins the entries
//! of their own organisation's users; nobody else.

use entity::audit_event as audit;
use entity::enums::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Actor;

/// The entries the caller may read, or `None` when it may read none.
pub fn visible_select(actor: &Actor) -> Option<Select<audit::Entity>> {
    match (actor.role, actor.partner_id) {
        (Role::ChannelManager, _) => Some(audit::Entity::find()),
        (Role::Partner, Some(own)) if actor.is_org_admin => {
            Some(audit::Entity::find().filter(audit::Column::PartnerId.eq(own)))
        }
        _ => None,
    }
}
