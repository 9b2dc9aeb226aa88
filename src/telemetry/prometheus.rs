//! The Prometheus exposition of `serve`: `metrics-exporter-prometheus`'s
//! recorder behind a `sfn_callbacks` prefix, and the `GET /metrics` route
//! that start-up serves on a listener of its own, with the same hyper loop
//! as the public port.
//!
//! Counters are named the Prometheus way (`sfn_callbacks_callbacks_total`),
//! engine call times are a histogram with fixed buckets.

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::layers::{Layer as _, PrefixLayer};

use super::DEPLOYMENT_LABEL;
use crate::app::measure::{self, ENGINE_CALL_SECONDS};

/// The prefix of every name (the namespace, in Prometheus' words).
pub const PREFIX: &str = "sfn_callbacks";

/// Upper bounds of the engine call time buckets, in seconds: a call takes
/// tens of milliseconds, and the deadline is seconds.
const ENGINE_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the recorder's histograms are compacted.
const UPKEEP: Duration = Duration::from_secs(5);

/// A recorder for the exposition, and the handle that renders it.
fn recorder(deployment: Option<&str>) -> (impl metrics::Recorder + use<>, PrometheusHandle) {
    let mut builder = PrometheusBuilder::new()
        .with_recommended_naming(true)
        .set_buckets_for_metric(
            Matcher::Full(format!("{PREFIX}.{ENGINE_CALL_SECONDS}")),
            &ENGINE_BUCKETS,
        )
        .expect("the buckets are not empty");
    if let Some(deployment) = deployment {
        builder = builder.add_global_label(DEPLOYMENT_LABEL, deployment);
    }
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    (PrefixLayer::new(PREFIX).layer(recorder), handle)
}

/// The routes of the metrics listener: `GET /metrics`, nothing else.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    )
}

/// Installs the recorder (with its names described, and its histograms
/// compacted every few seconds) and returns the routes that expose it.
pub fn install(deployment: Option<&str>) -> anyhow::Result<Router> {
    let (recorder, handle) = recorder(deployment);
    metrics::set_global_recorder(recorder).context("a metrics recorder is already installed")?;
    measure::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(router(handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::measure::CallbackResult;

    #[test]
    fn the_exposition_names_carry_the_prefix_and_the_deployment() {
        let (recorder, handle) = recorder(Some("prod"));
        metrics::with_local_recorder(&recorder, || {
            measure::describe();
            measure::callback(CallbackResult::Closed);
            measure::callback(CallbackResult::Closed);
            measure::engine_call("SendTaskSuccess", Duration::from_millis(30));
        });
        let text = handle.render();
        // measure::describe's table reaches the exposition.
        assert!(
            text.contains("# HELP sfn_callbacks_callbacks_total links answered, by result"),
            "{text}"
        );
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("parses");
        let closed = scrape
            .samples
            .iter()
            .find(|s| s.metric == "sfn_callbacks_callbacks_total")
            .expect("the counter");
        assert_eq!(closed.labels.get("result"), Some("closed"));
        assert_eq!(closed.labels.get("deployment"), Some("prod"));
        assert!(matches!(closed.value, prometheus_parse::Value::Counter(v) if v == 2.0));
        let bucket = scrape
            .samples
            .iter()
            .find(|s| s.metric == "sfn_callbacks_engine_call_seconds")
            .expect("the histogram");
        let prometheus_parse::Value::Histogram(buckets) = &bucket.value else {
            panic!("a histogram: {:?}", bucket.value);
        };
        let at = |le: f64| buckets.iter().find(|b| b.less_than == le).map(|b| b.count);
        assert_eq!(at(0.025), Some(0.0));
        assert_eq!(at(0.05), Some(1.0));
    }
}
