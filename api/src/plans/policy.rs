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

fn is_own_partner(actor: &Actor, plan: &plan::Model) -> bool {
    actor.role == Role::Partner && actor.partner_id == Some(plan.partner_id)
}

/// Vendor staff comment on any plan still in play; the partner's users once it is shared.
pub fn may_comment(actor: &Actor, plan: &plan::Model) -> bool {
    let open = matches!(
        plan.status,
        PlanStatus::Draft | PlanStatus::Shared | PlanStatus::Active
    );
    open && (actor.role != Role::Partner
        || (is_own_partner(actor, plan) && plan.status != PlanStatus::Draft))
}

/// The partner's users propose changes to a shared plan (before they accept it).
pub fn may_propose(actor: &Actor, plan: &plan::Model) -> bool {
    is_own_partner(actor, plan) && plan.status == PlanStatus::Shared
}

/// The partner's org admins add the partner's notes to a quarterly review.
pub fn may_note_review(actor: &Actor, plan: &plan::Model) -> bool {
    is_own_partner(actor, plan) && actor.is_org_admin
}
