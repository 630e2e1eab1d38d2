//! Who may see and manage users. Vendor staff see everyone; a partner user sees the users
//! of the partner organisations it can see. Channel managers manage every user; a partner's
//! organisation admin manages the partner users of its own organisation only.

use entity::enums::Role;
use entity::user;
use sea_orm::ConnectionTrait;

use crate::auth::Actor;
use crate::error::AppResult;
use crate::partners::policy::{can_manage_program, scope};

pub async fn can_read_user(
    db: &impl ConnectionTrait,
    actor: &Actor,
    target: &user::Model,
) -> AppResult<bool> {
    if actor.user_id == target.id || actor.is_vendor_staff() {
        return Ok(true);
    }
    let Some(partner_id) = target.partner_id else {
        // Vendor staff accounts are not visible to partners.
        return Ok(false);
    };
    Ok(scope(db, actor).await?.allows(partner_id))
}

/// Whether `actor` may create or change a user with `role` in `partner_id`.
pub fn can_manage_user(actor: &Actor, role: Role, partner_id: Option<i64>) -> bool {
    can_manage_program(actor)
        || (actor.is_org_admin
            && role == Role::Partner
            && partner_id.is_some()
            && partner_id == actor.partner_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_admins_manage_only_their_own_organisation_s_partner_users() {
        let admin = Actor::new(1, Role::Partner, Some(10), 1).with_org_admin(true);
        let member = Actor::new(2, Role::Partner, Some(10), 2);
        let manager = Actor::new(3, Role::ChannelManager, None, 3);
        let rep = Actor::new(4, Role::DirectRep, None, 4);
        assert!(can_manage_user(&admin, Role::Partner, Some(10)));
        assert!(!can_manage_user(&admin, Role::Partner, Some(11)));
        assert!(!can_manage_user(&admin, Role::ChannelManager, None));
        assert!(!can_manage_user(&member, Role::Partner, Some(10)));
        assert!(can_manage_user(&manager, Role::DirectRep, None));
        assert!(can_manage_user(&manager, Role::Partner, Some(11)));
        assert!(!can_manage_user(&rep, Role::Partner, Some(10)));
    }
}
