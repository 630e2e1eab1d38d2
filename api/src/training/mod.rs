//! Training: courses, certification programs and people's certifications, which are
//! awarded automatically once every required course is complete.

pub mod rules;
pub mod service;
mod types;

pub use types::{find_course, find_program, CERTIFICATION_KIND, COURSE_KIND, PROGRAM_KIND};
pub use types::{Certification, CertificationProgram, Course, TrainingMutation, TrainingQuery};
