//! sea-orm entities. Nothing but table mappings: business rules live in `api/`.

pub mod certification;
pub mod certification_program;
pub mod certification_program_course;
pub mod contact;
pub mod content;
pub mod content_audience;
pub mod content_event;
pub mod content_file;
pub mod content_label;
pub mod content_version;
pub mod course;
pub mod course_completion;
pub mod enums;
pub mod fit_criterion;
pub mod login_attempt;
pub mod onboarding_item;
pub mod onboarding_template_item;
pub mod partner;
pub mod partner_domain;
pub mod partner_status_history;
pub mod partner_tier_history;
pub mod partner_vertical;
pub mod prospect;
pub mod prospect_rating;
pub mod session;
pub mod setting;
pub mod tier;
pub mod user;

pub use sea_orm;
