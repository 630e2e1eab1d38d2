use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{
    certification, certification_program, certification_program_course, course, course_completion,
    user,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};

use super::rules::award;
use super::types::Certification;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::partners::policy::{can_manage_program, scope};
use crate::relay::{paginate, PageArgs, RelayConnection, UserError, UserErrorCode};

pub async fn create_course(
    db: &Db,
    title: String,
    description: Option<String>,
    duration: Option<i32>,
) -> AppResult<Result<course::Model, Vec<UserError>>> {
    let title = title.trim().to_owned();
    if title.is_empty() {
        return Ok(Err(UserError::one(
            "title",
            UserErrorCode::Required,
            "must not be blank",
        )));
    }
    if duration.is_some_and(|d| d <= 0) {
        return Ok(Err(UserError::one(
            "durationMinutes",
            UserErrorCode::Invalid,
            "must be positive",
        )));
    }
    if course::Entity::find()
        .filter(course::Column::Title.eq(title.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(Err(UserError::one(
            "title",
            UserErrorCode::Taken,
            "another course has this title",
        )));
    }
    let created = course::ActiveModel {
        title: Set(title),
        description: Set(description),
        duration_minutes: Set(duration),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Ok(created))
}

pub async fn create_program(
    db: &Db,
    name: String,
    description: Option<String>,
    validity_months: i32,
    course_ids: Vec<i64>,
) -> AppResult<Result<certification_program::Model, Vec<UserError>>> {
    let mut errors = Vec::new();
    let name = name.trim().to_owned();
    if name.is_empty() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    } else if certification_program::Entity::find()
        .filter(certification_program::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Taken,
            "another certification program has this name",
        ));
    }
    if !(1..=60).contains(&validity_months) {
        errors.push(UserError::new(
            "validityMonths",
            UserErrorCode::Invalid,
            "must be between 1 and 60",
        ));
    }
    if course_ids.is_empty() {
        errors.push(UserError::new(
            "requiredCourseIds",
            UserErrorCode::Required,
            "name at least one course",
        ));
    }
    let found = course::Entity::find()
        .filter(course::Column::Id.is_in(course_ids.clone()))
        .all(db)
        .await?;
    for (i, id) in course_ids.iter().enumerate() {
        if !found.iter().any(|c| c.id == *id) {
            errors.push(UserError::new(
                &format!("requiredCourseIds.{i}"),
                UserErrorCode::NotFound,
                "no such course",
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let created = certification_program::ActiveModel {
            name: Set(name),
            description: Set(description),
            validity_months: Set(validity_months),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut unique = course_ids;
        unique.sort_unstable();
        unique.dedup();
        certification_program_course::Entity::insert_many(unique.into_iter().map(|course_id| {
            certification_program_course::ActiveModel {
                program_id: Set(created.id),
                course_id: Set(course_id),
            }
        }))
        .exec(&txn)
        .await?;
        Ok(Ok(created))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// Who may record a completion for `target`: channel managers for anyone, a partner user
/// for itself, an organisation admin for its own organisation's users.
pub fn can_record_for(actor: &Actor, target: &user::Model) -> bool {
    can_manage_program(actor)
        || actor.user_id == target.id
        || (actor.is_org_admin
            && target.partner_id.is_some()
            && target.partner_id == actor.partner_id)
}

/// Records that `user_id` completed `course_id` and awards every certification that
/// completes. Returns the user's certifications touched by it.
pub async fn record_completion(
    db: &Db,
    actor: &Actor,
    target: &user::Model,
    course_id: i64,
    completed_at: Option<DateTime<Utc>>,
) -> AppResult<Result<Vec<certification::Model>, Vec<UserError>>> {
    let now = Utc::now();
    let completed_at = completed_at.unwrap_or(now);
    if completed_at > now {
        return Ok(Err(UserError::one(
            "completedAt",
            UserErrorCode::Invalid,
            "cannot be in the future",
        )));
    }
    if course::Entity::find_by_id(course_id)
        .one(db)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::one(
            "courseId",
            UserErrorCode::NotFound,
            "no such course",
        )));
    }
    if target.role != Role::Partner {
        return Ok(Err(UserError::one(
            "userId",
            UserErrorCode::RuleViolation,
            "training is tracked for partner users",
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        course_completion::Entity::insert(course_completion::ActiveModel {
            user_id: Set(target.id),
            course_id: Set(course_id),
            completed_at: Set(completed_at),
            recorded_by_id: Set(Some(actor.user_id)),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                course_completion::Column::UserId,
                course_completion::Column::CourseId,
            ])
            .update_columns([
                course_completion::Column::CompletedAt,
                course_completion::Column::RecordedById,
            ])
            .to_owned(),
        )
        .exec(&txn)
        .await?;
        let touched = evaluate(&txn, target.id, course_id, now).await?;
        Ok(Ok(touched))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// Re-evaluates the user's certifications in every program that requires `course_id`.
async fn evaluate(
    db: &impl ConnectionTrait,
    user_id: i64,
    course_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<certification::Model>> {
    let program_ids: Vec<i64> = certification_program_course::Entity::find()
        .filter(certification_program_course::Column::CourseId.eq(course_id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.program_id)
        .collect();
    let completions: HashMap<i64, DateTime<Utc>> = course_completion::Entity::find()
        .filter(course_completion::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.course_id, c.completed_at))
        .collect();
    let mut touched = Vec::new();
    for program_id in program_ids {
        let Some(program) = certification_program::Entity::find_by_id(program_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let required: Vec<i64> = certification_program_course::Entity::find()
            .filter(certification_program_course::Column::ProgramId.eq(program_id))
            .all(db)
            .await?
            .into_iter()
            .map(|link| link.course_id)
            .collect();
        let current = certification_for(db, user_id, program_id, now).await?;
        let validity = u32::try_from(program.validity_months).unwrap_or(12);
        let mut model: certification::ActiveModel = current.clone().into();
        if let Some((awarded, expires)) = award(
            &required,
            &completions,
            current.awarded_at,
            current.expires_at,
            validity,
            now,
        ) {
            model.awarded_at = Set(Some(awarded));
            model.expires_at = Set(Some(expires));
        }
        model.updated_at = Set(now);
        touched.push(model.update(db).await?);
    }
    Ok(touched)
}

/// The user's certification in a program, created in progress on first touch.
async fn certification_for(
    db: &impl ConnectionTrait,
    user_id: i64,
    program_id: i64,
    now: DateTime<Utc>,
) -> AppResult<certification::Model> {
    certification::Entity::insert(certification::ActiveModel {
        user_id: Set(user_id),
        program_id: Set(program_id),
        awarded_at: Set(None),
        expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            certification::Column::UserId,
            certification::Column::ProgramId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    certification::Entity::find()
        .filter(certification::Column::UserId.eq(user_id))
        .filter(certification::Column::ProgramId.eq(program_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("certification missing after insert"))
}

pub async fn user_certifications(
    db: &Db,
    user_id: i64,
    args: &PageArgs,
) -> AppResult<RelayConnection<Certification>> {
    let select = certification::Entity::find().filter(certification::Column::UserId.eq(user_id));
    paginate(
        db,
        select,
        certification::Column::Id,
        args,
        |c| c.id,
        Certification,
    )
    .await
}

/// Certifications the caller may see: all for vendor staff, else those of users in the
/// partner organisations it can see.
pub async fn visible_certifications(
    db: &Db,
    actor: &Actor,
    partner_id: Option<i64>,
    args: &PageArgs,
) -> AppResult<RelayConnection<Certification>> {
    let visible = scope(db, actor).await?;
    let mut users = visible.restrict(
        user::Entity::find().filter(user::Column::PartnerId.is_not_null()),
        user::Column::PartnerId,
    );
    if let Some(partner_id) = partner_id {
        users = users.filter(user::Column::PartnerId.eq(partner_id));
    }
    let user_ids = users.select_only().column(user::Column::Id).into_query();
    let select =
        certification::Entity::find().filter(certification::Column::UserId.in_subquery(user_ids));
    paginate(
        db,
        select,
        certification::Column::Id,
        args,
        |c| c.id,
        Certification,
    )
    .await
}

pub async fn find_visible_certification(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<certification::Model>> {
    let Some(found) = certification::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(owner) = user::Entity::find_by_id(found.user_id).one(db).await? else {
        return Ok(None);
    };
    Ok(crate::users::policy::can_read_user(db, actor, &owner)
        .await?
        .then_some(found))
}
