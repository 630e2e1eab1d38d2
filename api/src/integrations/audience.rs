//! Who may learn of an event: the same tenancy as the API's answers, applied to webhook
//! endpoints and subscribers alike. Vendor staff receive the program; a partner its own
//! organisation's events (a distributor's also its tier-two partners'), and content it may
//! read; internal events (conflicts name other partners) reach channel managers only.

use entity::enums::Role;
use entity::event;

use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::events::EventType;
use crate::partners::policy::scope;

pub async fn may_see(db: &Db, actor: &Actor, event: &event::Model) -> AppResult<bool> {
    let Some(ty) = EventType::parse(&event.event_type) else {
        return Ok(false);
    };
    if ty.is_internal() {
        return Ok(actor.role == Role::ChannelManager);
    }
    match actor.role {
        Role::ChannelManager => Ok(true),
        Role::DirectRep if ty.is_deal() => Ok(crate::deals::find_for(db, actor, event.subject_id)
            .await?
            .is_some()),
        Role::DirectRep => Ok(ty.subject_kind() == "Content"),
        Role::Partner => match event.partner_id {
            Some(partner_id) => Ok(scope(db, actor).await?.allows(partner_id)),
            None if ty.subject_kind() == "Content" => {
                Ok(crate::content::find_for(db, actor, event.subject_id)
                    .await?
                    .is_some())
            }
            None => Ok(false),
        },
    }
}
