//! Channel visibility: the program's metrics (`channelMetrics`) computed from the facts the
//! other domains record, with every formula in `formulas` and the README.

pub mod facts;
pub mod formulas;
mod months;
pub mod policy;
pub mod report;
mod types;
pub mod window;

pub use types::{ChannelMetrics, MetricsMutation, MetricsQuery};
