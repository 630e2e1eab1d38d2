//! Channel visibility: the program's metrics (`channelMetrics`) computed from the facts the
//! other domains record, with every formula in `formulas` and the README.

pub mod facts;
pub mod formulas;
pub mod policy;
pub mod report;
mod types;

pub use types::{ChannelMetrics, MetricsQuery};
