//! Black-box tests: every test drives the HTTP router (or the schema) as a client would.

mod common;

mod content;

mod audit;
mod auth;
mod backup;
mod contacts;
mod database;
mod deal_registrations;
mod deal_review;
mod deal_workflow;
mod deals;
mod faults;
mod front_door;
mod graphql_http;
mod health;
mod incentive_awards;
mod incentives;
mod integrations;
mod leads;
mod matching;
mod mdf;
mod metrics;
mod opportunities;
mod org_map;
mod org_users;
mod partners;
mod performance;
mod plan_contents;
mod plan_reviews;
mod plans;
mod processes;
mod program;
mod recruitment;
mod replicas;
mod schema;
mod training;
