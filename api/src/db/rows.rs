//! The hottest models read straight from the driver's row.
//!
//! sea-orm's derived reading formats a prefixed column's name for every column it reads
//! and, for every NULL, the column's name into an error that it then drops. A session's
//! row (its user, partner and tier, fifty columns, every request) and a page of contents
//! or registrations (a dozen NULL columns a row) spent more on those names than on reading
//! the values. A model here is read through [`Fast`]; a column added to its entity fails
//! to compile here until it is read.

use std::cell::{Cell, RefCell};

use entity::enums::{DealStatus, DealType, PartnerStatus, PartnerType, Role};
use entity::{content, deal_registration, partner, product, session, tier, user};
use sea_orm::{sqlx, ActiveEnum, DbErr, FromQueryResult, IdenStatic, QueryResult};

use super::Column;

/// The columns of one row whose names start with `prefix`.
pub struct Prefixed<'r> {
    row: &'r QueryResult,
    prefix_len: usize,
    /// The name being read: the prefix, then the column's own name.
    name: RefCell<String>,
    /// Where the next column read is likely to be: a reader reads a model's columns in
    /// the order its select lists them, and comparing one name is cheaper than the
    /// driver's lookup of a name (a hash of it).
    next: Cell<usize>,
}

impl<'r> Prefixed<'r> {
    pub fn new(row: &'r QueryResult, prefix: &str) -> Self {
        Prefixed {
            row,
            prefix_len: prefix.len(),
            name: RefCell::new(prefix.to_owned()),
            next: Cell::new(0),
        }
    }

    /// The value of `col` (prefixed).
    pub fn get<T: Column>(&self, col: impl IdenStatic) -> Result<T, DbErr> {
        self.named(col.as_str())
    }

    /// The value of the column named `name` (prefixed).
    pub fn named<T: Column>(&self, name: &str) -> Result<T, DbErr> {
        let mut prefixed = self.name.borrow_mut();
        prefixed.truncate(self.prefix_len);
        prefixed.push_str(name);
        let read = match (self.row.try_as_pg_row(), self.row.try_as_sqlite_row()) {
            (Some(row), _) => self.read(row, &prefixed),
            (None, Some(row)) => self.read(row, &prefixed),
            (None, None) => {
                return Err(DbErr::Type(format!("column {prefixed}: not a driver row")))
            }
        };
        read.map_err(|e| DbErr::Type(format!("column {prefixed}: {e}")))
    }

    /// Column `name` of the driver's `row`, looked for where the last one read ended.
    fn read<'a, R, T>(&self, row: &'a R, name: &str) -> Result<T, sqlx::Error>
    where
        R: sqlx::Row,
        T: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        usize: sqlx::ColumnIndex<R>,
        for<'n> &'n str: sqlx::ColumnIndex<R>,
    {
        use sqlx::Column as _;
        let next = self.next.get();
        let index = match row.columns().get(next) {
            Some(found) if found.name() == name => next,
            _ => row.try_column(name)?.ordinal(),
        };
        self.next.set(index + 1);
        row.try_get(index)
    }

    /// The value of `col` (prefixed), an enum stored as its text.
    pub fn text_enum<E: ActiveEnum<Value = String>>(
        &self,
        col: impl IdenStatic,
    ) -> Result<E, DbErr> {
        E::try_from_value(&self.get::<String>(col)?)
    }
}

/// A model that reads itself from a driver's row.
pub trait ReadRow: Sized {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr>;
}

/// `M` decoded by its [`ReadRow`], wherever sea-orm decodes rows (`into_model`,
/// `find_by_statement`).
pub struct Fast<M>(pub M);

impl<M: ReadRow> FromQueryResult for Fast<M> {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        M::read_row(&Prefixed::new(row, prefix)).map(Fast)
    }
}

impl ReadRow for user::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use user::Column as C;
        Ok(user::Model {
            id: row.get(C::Id)?,
            email: row.get(C::Email)?,
            name: row.get(C::Name)?,
            role: row.text_enum::<Role>(C::Role)?,
            partner_id: row.get(C::PartnerId)?,
            password_hash: row.get(C::PasswordHash)?,
            is_active: row.get(C::IsActive)?,
            created_at: row.get(C::CreatedAt)?,
            updated_at: row.get(C::UpdatedAt)?,
            is_org_admin: row.get(C::IsOrgAdmin)?,
            deactivated_at: row.get(C::DeactivatedAt)?,
        })
    }
}

impl ReadRow for session::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use session::Column as C;
        Ok(session::Model {
            id: row.get(C::Id)?,
            user_id: row.get(C::UserId)?,
            refresh_token_hash: row.get(C::RefreshTokenHash)?,
            previous_token_hash: row.get(C::PreviousTokenHash)?,
            expires_at: row.get(C::ExpiresAt)?,
            revoked_at: row.get(C::RevokedAt)?,
            created_at: row.get(C::CreatedAt)?,
            last_used_at: row.get(C::LastUsedAt)?,
        })
    }
}

impl ReadRow for partner::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use partner::Column as C;
        Ok(partner::Model {
            id: row.get(C::Id)?,
            name: row.get(C::Name)?,
            partner_type: row.text_enum::<PartnerType>(C::PartnerType)?,
            status: row.text_enum::<PartnerStatus>(C::Status)?,
            website: row.get(C::Website)?,
            country: row.get(C::Country)?,
            parent_id: row.get(C::ParentId)?,
            created_at: row.get(C::CreatedAt)?,
            updated_at: row.get(C::UpdatedAt)?,
            version: row.get(C::Version)?,
            region: row.get(C::Region)?,
            tier_id: row.get(C::TierId)?,
            channel_manager_id: row.get(C::ChannelManagerId)?,
            partnership_started_on: row.get(C::PartnershipStartedOn)?,
            status_changed_at: row.get(C::StatusChangedAt)?,
        })
    }
}

impl ReadRow for tier::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use tier::Column as C;
        Ok(tier::Model {
            id: row.get(C::Id)?,
            name: row.get(C::Name)?,
            rank: row.get(C::Rank)?,
            description: row.get(C::Description)?,
            protection_days: row.get(C::ProtectionDays)?,
            rebate_eligible: row.get(C::RebateEligible)?,
            mdf_eligible: row.get(C::MdfEligible)?,
            min_won_revenue_minor: row.get(C::MinWonRevenueMinor)?,
            currency: row.get(C::Currency)?,
            min_approved_registrations: row.get(C::MinApprovedRegistrations)?,
            min_won_deals: row.get(C::MinWonDeals)?,
            min_active_certifications: row.get(C::MinActiveCertifications)?,
            criteria_period_months: row.get(C::CriteriaPeriodMonths)?,
            created_at: row.get(C::CreatedAt)?,
            updated_at: row.get(C::UpdatedAt)?,
            version: row.get(C::Version)?,
        })
    }
}

impl ReadRow for product::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use product::Column as C;
        Ok(product::Model {
            id: row.get(C::Id)?,
            name: row.get(C::Name)?,
            sku: row.get(C::Sku)?,
            active: row.get(C::Active)?,
            created_at: row.get(C::CreatedAt)?,
        })
    }
}

impl ReadRow for content::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use content::Column as C;
        Ok(content::Model {
            id: row.get(C::Id)?,
            kind: row.text_enum(C::Kind)?,
            title: row.get(C::Title)?,
            body: row.get(C::Body)?,
            search_tags: row.get(C::SearchTags)?,
            file_id: row.get(C::FileId)?,
            current_version: row.get(C::CurrentVersion)?,
            internal_only: row.get(C::InternalOnly)?,
            min_tier_rank: row.get(C::MinTierRank)?,
            review_by: row.get(C::ReviewBy)?,
            expires_at: row.get(C::ExpiresAt)?,
            created_by_id: row.get(C::CreatedById)?,
            created_at: row.get(C::CreatedAt)?,
            updated_at: row.get(C::UpdatedAt)?,
        })
    }
}

impl ReadRow for deal_registration::Model {
    fn read_row(row: &Prefixed) -> Result<Self, DbErr> {
        use deal_registration::Column as C;
        Ok(deal_registration::Model {
            id: row.get(C::Id)?,
            partner_id: row.get(C::PartnerId)?,
            created_by_id: row.get(C::CreatedById)?,
            status: row.text_enum::<DealStatus>(C::Status)?,
            customer_name: row.get(C::CustomerName)?,
            customer_name_key: row.get(C::CustomerNameKey)?,
            customer_name_token: row.get(C::CustomerNameToken)?,
            customer_domain: row.get(C::CustomerDomain)?,
            customer_root: row.get(C::CustomerRoot)?,
            customer_country: row.get(C::CustomerCountry)?,
            customer_key: row.get(C::CustomerKey)?,
            estimated_value_minor: row.get(C::EstimatedValueMinor)?,
            currency: row.get(C::Currency)?,
            expected_close_date: row.get(C::ExpectedCloseDate)?,
            deal_type: row.text_enum::<DealType>(C::DealType)?,
            description: row.get(C::Description)?,
            external_id: row.get(C::ExternalId)?,
            idempotency_key: row.get(C::IdempotencyKey)?,
            request_hash: row.get(C::RequestHash)?,
            submitted_at: row.get(C::SubmittedAt)?,
            approved_at: row.get(C::ApprovedAt)?,
            protected_until: row.get(C::ProtectedUntil)?,
            extension_request_days: row.get(C::ExtensionRequestDays)?,
            extension_request_reason: row.get(C::ExtensionRequestReason)?,
            closed_amount_minor: row.get(C::ClosedAmountMinor)?,
            closed_at: row.get(C::ClosedAt)?,
            resubmission_count: row.get(C::ResubmissionCount)?,
            editable_fields: row.get(C::EditableFields)?,
            contested_at: row.get(C::ContestedAt)?,
            review_lane: row.get(C::ReviewLane)?,
            conflict_score: row.get(C::ConflictScore)?,
            decided_at: row.get(C::DecidedAt)?,
            version: row.get(C::Version)?,
            created_at: row.get(C::CreatedAt)?,
            updated_at: row.get(C::UpdatedAt)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    use crate::db::{connect, migrate};

    /// Every `E` row of `db`, read by sea-orm and by [`ReadRow`]: the same models.
    async fn reads_alike<E>(db: &sea_orm::DatabaseConnection) -> usize
    where
        E: EntityTrait,
        E::Model: ReadRow + PartialEq + std::fmt::Debug + Send + Sync,
    {
        let by_sea_orm = E::find().all(db).await.unwrap();
        let by_driver: Vec<E::Model> = E::find()
            .into_model::<Fast<E::Model>>()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|Fast(model)| model)
            .collect();
        assert_eq!(by_driver, by_sea_orm);
        by_sea_orm.len()
    }

    #[tokio::test]
    async fn the_driver_reads_each_model_as_sea_orm_does() {
        let path = std::env::temp_dir().join(format!("pg-rows-{}.db", std::process::id()));
        let db = connect(&format!("sqlite://{}?mode=rwc", path.display()), None)
            .await
            .unwrap();
        migrate(&db).await.unwrap();
        crate::demo::seed(&db).await.unwrap();
        // A session whose every column differs from its neighbours of the same type.
        let user = user::Entity::find().one(&db).await.unwrap().unwrap();
        let now = chrono::Utc::now();
        session::ActiveModel {
            user_id: Set(user.id),
            refresh_token_hash: Set("current".into()),
            previous_token_hash: Set(Some("previous".into())),
            expires_at: Set(now + Duration::days(1)),
            revoked_at: Set(Some(now - Duration::hours(2))),
            created_at: Set(now - Duration::days(1)),
            last_used_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();

        assert!(reads_alike::<user::Entity>(&db).await > 0);
        assert!(reads_alike::<partner::Entity>(&db).await > 0);
        assert!(reads_alike::<tier::Entity>(&db).await > 0);
        assert!(reads_alike::<product::Entity>(&db).await > 0);
        assert!(reads_alike::<content::Entity>(&db).await > 0);
        assert!(reads_alike::<deal_registration::Entity>(&db).await > 0);
        assert!(reads_alike::<session::Entity>(&db).await > 0);
        drop(db);
        let _ = std::fs::remove_file(&path);
    }
}
