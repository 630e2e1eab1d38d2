//! Who may see a user: vendor staff see everyone; a partner user sees the users of the
//! partner organisations it can see (its own, plus a distributor's tier-two partners).

use entity::user;
use sea_orm::ConnectionTrait;

use crate::auth::Actor;
use crate::error::AppResult;
use crate::partners::policy::scope;

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
