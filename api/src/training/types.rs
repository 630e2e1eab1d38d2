use std::collections::HashMap;

use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use entity::{certification, certification_program, course, user};
use sea_orm::EntityTrait;

use super::rules::{self, completed_count};
use super::service;
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::{load_group, load_one, CompletionsByUser, CoursesByProgram};
use crate::relay::{
    global_id, local_id, paginate, PageArgs, RelayConnection, UserError, UserErrorCode,
};
use crate::users::User;

pub const COURSE_KIND: &str = "Course";
pub const PROGRAM_KIND: &str = "CertificationProgram";
pub const CERTIFICATION_KIND: &str = "Certification";

const MANAGERS: &[Role] = &[Role::ChannelManager];

/// A training course.
pub struct Course(pub course::Model);

#[Object]
impl Course {
    pub async fn id(&self) -> ID {
        global_id(COURSE_KIND, self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn duration_minutes(&self) -> Option<i32> {
        self.0.duration_minutes
    }
}

/// A certification people earn by completing its required courses; valid for
/// `validityMonths`, then renewable.
pub struct CertificationProgram(pub certification_program::Model);

async fn required_course_ids(
    ctx: &Context<'_>,
    program_id: i64,
) -> async_graphql::Result<Vec<i64>> {
    Ok(load_group::<CoursesByProgram>(ctx, program_id)
        .await?
        .into_iter()
        .map(|l| l.course_id)
        .collect())
}

#[Object]
impl CertificationProgram {
    pub async fn id(&self) -> ID {
        global_id(PROGRAM_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn validity_months(&self) -> i32 {
        self.0.validity_months
    }
    async fn required_courses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Course>> {
        let mut courses = Vec::new();
        for id in required_course_ids(ctx, self.0.id).await? {
            if let Some(found) = load_one::<course::Entity>(ctx, id).await? {
                courses.push(Course(found));
            }
        }
        Ok(courses)
    }
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum CertificationStatus {
    InProgress,
    Active,
    Expired,
}

impl From<rules::Status> for CertificationStatus {
    fn from(status: rules::Status) -> Self {
        match status {
            rules::Status::InProgress => CertificationStatus::InProgress,
            rules::Status::Active => CertificationStatus::Active,
            rules::Status::Expired => CertificationStatus::Expired,
        }
    }
}

#[derive(SimpleObject)]
pub struct CertificationProgress {
    /// Required courses done towards the next award.
    pub completed_courses: i32,
    pub required_courses: i32,
}

/// A person's certification: `IN_PROGRESS → ACTIVE → EXPIRED`, renewable.
pub struct Certification(pub certification::Model);

#[Object]
impl Certification {
    pub async fn id(&self) -> ID {
        global_id(CERTIFICATION_KIND, self.0.id)
    }
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(load_one::<user::Entity>(ctx, self.0.user_id)
            .await?
            .map(User::seen))
    }
    async fn program(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<CertificationProgram>> {
        Ok(
            load_one::<certification_program::Entity>(ctx, self.0.program_id)
                .await?
                .map(CertificationProgram),
        )
    }
    async fn status(&self) -> CertificationStatus {
        rules::status(self.0.awarded_at, self.0.expires_at, Utc::now()).into()
    }
    /// The allowed transitions of a certification are not manual: it is awarded when the
    /// required courses are complete and expires with time.
    async fn allowed_transitions(&self) -> Vec<CertificationStatus> {
        Vec::new()
    }
    async fn awarded_at(&self) -> Option<DateTime<Utc>> {
        self.0.awarded_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    async fn progress(&self, ctx: &Context<'_>) -> async_graphql::Result<CertificationProgress> {
        let required = required_course_ids(ctx, self.0.program_id).await?;
        let completions: HashMap<i64, DateTime<Utc>> =
            load_group::<CompletionsByUser>(ctx, self.0.user_id)
                .await?
                .into_iter()
                .map(|c| (c.course_id, c.completed_at))
                .collect();
        let done = completed_count(
            &required,
            &completions,
            self.0.awarded_at,
            self.0.expires_at,
            Utc::now(),
        );
        Ok(CertificationProgress {
            completed_courses: done as i32,
            required_courses: required.len() as i32,
        })
    }
}

#[derive(Default)]
pub struct TrainingQuery;

#[Object]
impl TrainingQuery {
    /// The course catalogue (every signed-in user).
    async fn courses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Course>> {
        actor(ctx)?;
        let db = ctx.data::<Db>()?;
        paginate(
            db,
            course::Entity::find(),
            course::Column::Id,
            &PageArgs::new(first, after, last, before),
            |c| c.id,
            Course,
        )
        .await
        .extend()
    }

    /// Certification programs (every signed-in user).
    async fn certification_programs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<CertificationProgram>> {
        actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let select = certification_program::Entity::find();
        paginate(
            db,
            select,
            certification_program::Column::Id,
            &PageArgs::new(first, after, last, before),
            |p| p.id,
            CertificationProgram,
        )
        .await
        .extend()
    }

    /// People's certifications the caller may see, optionally for one partner.
    async fn certifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        partner_id: Option<ID>,
    ) -> async_graphql::Result<RelayConnection<Certification>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let partner_id =
            partner_id.map(|id| local_id(&id, crate::partners::NODE_KIND).unwrap_or(-1));
        service::visible_certifications(
            db,
            &actor,
            partner_id,
            &PageArgs::new(first, after, last, before),
        )
        .await
        .extend()
    }
}

#[derive(InputObject)]
pub struct CreateCourseInput {
    pub title: String,
    pub description: Option<String>,
    pub duration_minutes: Option<i32>,
}

#[derive(SimpleObject, Default)]
pub struct CoursePayload {
    pub course: Option<Course>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateCertificationProgramInput {
    pub name: String,
    pub description: Option<String>,
    /// How long an award stays valid (1-60 months).
    pub validity_months: i32,
    pub required_course_ids: Vec<ID>,
}

#[derive(SimpleObject, Default)]
pub struct CertificationProgramPayload {
    pub certification_program: Option<CertificationProgram>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RecordCourseCompletionInput {
    pub user_id: ID,
    pub course_id: ID,
    /// Defaults to now; cannot be in the future.
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject, Default)]
pub struct RecordCourseCompletionPayload {
    /// The user's certifications in programs that require this course, after the
    /// completion (newly awarded ones are `ACTIVE`).
    pub certifications: Vec<Certification>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct TrainingMutation;

#[Object]
impl TrainingMutation {
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        input: CreateCourseInput,
    ) -> async_graphql::Result<CoursePayload> {
        let db = ctx.data::<Db>()?;
        Ok(
            match service::create_course(db, input.title, input.description, input.duration_minutes)
                .await
                .extend()?
            {
                Ok(model) => CoursePayload {
                    course: Some(Course(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => CoursePayload {
                    course: None,
                    user_errors,
                },
            },
        )
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_certification_program(
        &self,
        ctx: &Context<'_>,
        input: CreateCertificationProgramInput,
    ) -> async_graphql::Result<CertificationProgramPayload> {
        let db = ctx.data::<Db>()?;
        let course_ids = input
            .required_course_ids
            .iter()
            .map(|id| local_id(id, COURSE_KIND).unwrap_or(-1))
            .collect();
        Ok(
            match service::create_program(
                db,
                input.name,
                input.description,
                input.validity_months,
                course_ids,
            )
            .await
            .extend()?
            {
                Ok(model) => CertificationProgramPayload {
                    certification_program: Some(CertificationProgram(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => CertificationProgramPayload {
                    certification_program: None,
                    user_errors,
                },
            },
        )
    }

    /// Records a course completion and awards any certification it completes. Channel
    /// managers record for anyone; partner users for themselves; organisation admins for
    /// their own organisation's users.
    async fn record_course_completion(
        &self,
        ctx: &Context<'_>,
        input: RecordCourseCompletionInput,
    ) -> async_graphql::Result<RecordCourseCompletionPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let target = match local_id(&input.user_id, crate::users::NODE_KIND) {
            Some(id) => crate::users::service::find_visible(db, &actor, id)
                .await
                .extend()?,
            None => None,
        };
        let Some(target) = target else {
            return Ok(RecordCourseCompletionPayload {
                certifications: vec![],
                user_errors: UserError::one("userId", UserErrorCode::NotFound, "no such user"),
            });
        };
        if !service::can_record_for(&actor, &target) {
            return Err(AppError::forbidden().extend());
        }
        let course_id = local_id(&input.course_id, COURSE_KIND).unwrap_or(-1);
        Ok(
            match service::record_completion(db, &actor, &target, course_id, input.completed_at)
                .await
                .extend()?
            {
                Ok(models) => RecordCourseCompletionPayload {
                    certifications: models.into_iter().map(Certification).collect(),
                    user_errors: vec![],
                },
                Err(user_errors) => RecordCourseCompletionPayload {
                    certifications: vec![],
                    user_errors,
                },
            },
        )
    }
}

pub async fn find_course(db: &Db, id: i64) -> crate::error::AppResult<Option<course::Model>> {
    Ok(course::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_program(
    db: &Db,
    id: i64,
) -> crate::error::AppResult<Option<certification_program::Model>> {
    Ok(certification_program::Entity::find_by_id(id)
        .one(db)
        .await?)
}
