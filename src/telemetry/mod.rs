//! Where the metrics of [`crate::app::measure`] go: an adapter per runtime,
//! installed once by the composition root as the `metrics` facade's
//! recorder.
//!
//! - `serve`: Prometheus text exposition on a listener of its own
//!   (`METRICS_ADDR`, off by default), never the public port
//!   ([`prometheus`]).
//! - Lambda: CloudWatch Embedded Metric Format, one line on stdout after
//!   each invocation ([`emf`]): no API call, no permission.
//!
//! Both publish the same names under the same namespace, with the same
//! labels (CloudWatch dimensions), and `METRICS_DEPLOYMENT`, when set, as
//! one more label on every metric, so two deployments in one account keep
//! their metrics apart.

pub mod emf;
pub mod prometheus;

/// The label every metric carries when `METRICS_DEPLOYMENT` is set.
pub const DEPLOYMENT_LABEL: &str = "deployment";
