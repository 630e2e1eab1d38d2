//! Who sees and moves joint business plans: vendor staff see all of them and channel
//! managers write them; a partner's users see their own organisation's plans once shared,
//! and its org admins accept them.

use entity::enums::{PlanStatus, Role};
use entity::joint_business_plan as plan;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use super::stages::Move;
use crate::auth::Actor;

pub fn visible_select(actor: &Actor) -> Select<plan::Entity> {
    let select = plan::Entity::find();
    match (actor.role, actor.partner_id) {
        (Role::Partner, Some(own)) => select
            .filter(plan::Column::PartnerId.eq(own))
            .filter(plan::Column::Status.ne(PlanStatus::Draft)),
        (Role::Partner, None) => select.filter(plan::Column::Id.eq(-1)),
        _ => select,
    }
}

/// Channel managers create plans and change their targets.
pub fn can_write(actor: &Actor) -> bool {
    actor.role == Role::ChannelManager
}

/// Whether the caller may make `action` (the workflow decides whether it may now).
pub fn may(actor: &Actor, plan: &plan::Model, action: Move) -> bool {
    match action {
        Move::Accept => {
            actor.role == Role::Partner
                && actor.is_org_admin
                && actor.partner_id == Some(plan.partner_id)
        }
        Move::Share | Move::Complete | Move::Cancel => can_write(actor),
    }
}
