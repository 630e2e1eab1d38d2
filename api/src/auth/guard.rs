use async_graphql::{Context, ErrorExtensions, Guard};

use super::{actor, Role};
use crate::error::AppError;

/// Admits authenticated callers holding one of the roles; others get `FORBIDDEN`
/// (anonymous callers `UNAUTHENTICATED`).
pub struct RoleGuard(pub &'static [Role]);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let actor = actor(ctx)?;
        if self.0.contains(&actor.role) {
            Ok(())
        } else {
            Err(AppError::forbidden().extend())
        }
    }
}
