//! CloudWatch Embedded Metric Format for the Lambda runtime: a recorder
//! that keeps what one invocation counted and timed, and [`Emf::flush`],
//! which writes it as one JSON document (one stdout line) after the
//! invocation and starts again from zero. CloudWatch Logs turns the line
//! into metrics: no API call, no permission.
//!
//! The document's top level holds each metric's value (a counter's sum, a
//! timing's values) and each label's value; `_aws.CloudWatchMetrics` holds
//! one directive per set of label names, naming the metrics it covers.
//! A label is a dimension, so one document can hold one value per label
//! name: this service's metrics give each label name one meaning and an
//! invocation does one thing, so one line it is. Should two values of one
//! label ever meet in an invocation (or a timing have more than the 100
//! values a metric may carry), the rest goes in a second line rather than
//! be lost.
//!
//! `metrics_cloudwatch_embedded` writes a document per label set, which is
//! a line per metric here; the format is small enough to write over
//! `metrics-util`'s registry instead.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use serde_json::{Map, Value, json};

use super::DEPLOYMENT_LABEL;
use crate::app::measure::{self, Kind, NAMESPACE};

/// The most values one metric may carry in one document.
pub const MAX_VALUES: usize = 100;

/// The property naming the invocation.
pub const REQUEST_ID: &str = "request_id";

/// The recorder; clones share the same registry.
#[derive(Clone)]
pub struct Emf {
    registry: Arc<Registry<Key, AtomicStorage>>,
    deployment: Option<String>,
}

impl std::fmt::Debug for Emf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emf")
            .field("deployment", &self.deployment)
            .finish_non_exhaustive()
    }
}

/// One metric's values with its labels, before they are placed in a line.
struct Entry {
    name: String,
    labels: Vec<(String, String)>,
    unit: &'static str,
    value: Value,
}

impl Emf {
    /// A recorder whose documents carry `deployment` as a dimension, when
    /// given.
    pub fn new(deployment: Option<String>) -> Self {
        Self {
            registry: Arc::new(Registry::atomic()),
            deployment,
        }
    }

    /// Installs a clone as the `metrics` facade's recorder.
    pub fn install(&self) -> Result<(), metrics::SetRecorderError<Self>> {
        metrics::set_global_recorder(self.clone())?;
        measure::describe();
        Ok(())
    }

    /// What was recorded since the last flush, as EMF lines stamped
    /// `timestamp_millis` and carrying the invocation's `request_id` (a
    /// property, not a dimension): none when nothing was, else one (or
    /// more, see the module's documentation). Counters and timings start
    /// from zero again.
    pub fn flush(&self, timestamp_millis: i64, request_id: &str) -> Vec<String> {
        let mut entries = Vec::new();
        self.registry.visit_counters(|key, counter| {
            let sum = counter.swap(0, Ordering::AcqRel);
            if sum > 0 {
                entries.push(self.entry(key, Value::from(sum)));
            }
        });
        self.registry.visit_histograms(|key, bucket| {
            let mut values = Vec::new();
            bucket.clear_with(|chunk| values.extend_from_slice(chunk));
            for chunk in values.chunks(MAX_VALUES) {
                entries.push(self.entry(key, Value::from(chunk.to_vec())));
            }
        });
        entries.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
        place(entries)
            .into_iter()
            .map(|line| document(line, timestamp_millis, request_id).to_string())
            .collect()
    }

    fn entry(&self, key: &Key, value: Value) -> Entry {
        let name = key.name().to_owned();
        let unit = match measure::ALL.iter().find(|m| m.name == name).map(|m| m.kind) {
            Some(Kind::Seconds) => "Seconds",
            Some(Kind::Count) => "Count",
            None => "None",
        };
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        if let Some(deployment) = &self.deployment {
            labels.push((DEPLOYMENT_LABEL.to_owned(), deployment.clone()));
        }
        labels.sort();
        Entry {
            name,
            labels,
            unit,
            value,
        }
    }
}

/// Puts each entry in the first line where its name is not taken and its
/// labels agree with the line's.
fn place(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut lines: Vec<Vec<Entry>> = Vec::new();
    for entry in entries {
        let fits = |line: &Vec<Entry>| {
            line.iter().all(|other| {
                other.name != entry.name
                    && entry.labels.iter().all(|(k, v)| {
                        other.name != *k && other.labels.iter().all(|(ok, ov)| ok != k || ov == v)
                    })
                    && other.labels.iter().all(|(ok, _)| *ok != entry.name)
            })
        };
        match lines.iter_mut().find(|line| fits(line)) {
            Some(line) => line.push(entry),
            None => lines.push(vec![entry]),
        }
    }
    lines
}

/// One EMF document.
fn document(line: Vec<Entry>, timestamp_millis: i64, request_id: &str) -> Value {
    let mut top = Map::new();
    top.insert(REQUEST_ID.to_owned(), Value::from(request_id));
    // One directive per set of label names.
    let mut directives: BTreeMap<Vec<String>, Vec<Value>> = BTreeMap::new();
    for entry in line {
        let names: Vec<String> = entry.labels.iter().map(|(k, _)| k.clone()).collect();
        directives
            .entry(names)
            .or_default()
            .push(json!({"Name": entry.name, "Unit": entry.unit}));
        for (k, v) in entry.labels {
            top.insert(k, Value::String(v));
        }
        top.insert(entry.name, entry.value);
    }
    let directives: Vec<Value> = directives
        .into_iter()
        .map(|(dimensions, metrics)| {
            json!({
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": metrics,
            })
        })
        .collect();
    top.insert(
        "_aws".to_owned(),
        json!({"Timestamp": timestamp_millis, "CloudWatchMetrics": directives}),
    );
    Value::Object(top)
}

impl Recorder for Emf {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        // No gauge is published; one registered anyway is kept, unwritten.
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::measure::CallbackResult;

    fn lines(emf: &Emf, record: impl FnOnce()) -> Vec<Value> {
        metrics::with_local_recorder(emf, record);
        emf.flush(1_700_000_000_000, "req-1")
            .iter()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect()
    }

    #[test]
    fn an_invocation_is_one_document_naming_each_metric_it_carries() {
        let emf = Emf::new(Some("prod".into()));
        let docs = lines(&emf, || {
            measure::callback(CallbackResult::Succeeded);
            measure::engine_call("SendTaskSuccess", Duration::from_millis(40));
        });
        assert_eq!(docs.len(), 1, "{docs:?}");
        let doc = &docs[0];
        assert_eq!(doc["callbacks"], json!(1));
        assert_eq!(doc["engine_call_seconds"], json!([0.04]));
        assert_eq!(doc["result"], "succeeded");
        assert_eq!(doc["operation"], "SendTaskSuccess");
        assert_eq!(doc["deployment"], "prod");
        assert_eq!(doc["request_id"], "req-1");
        assert_eq!(doc["_aws"]["Timestamp"], json!(1_700_000_000_000_i64));
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().expect("array");
        assert_eq!(
            directives,
            &vec![
                json!({"Namespace": "SfnCallbacks", "Dimensions": [["deployment", "operation"]],
                       "Metrics": [{"Name": "engine_call_seconds", "Unit": "Seconds"}]}),
                json!({"Namespace": "SfnCallbacks", "Dimensions": [["deployment", "result"]],
                       "Metrics": [{"Name": "callbacks", "Unit": "Count"}]}),
            ]
        );
    }

    #[test]
    fn a_flush_starts_from_zero_and_nothing_recorded_writes_nothing() {
        let emf = Emf::new(None);
        let first = lines(&emf, || {
            measure::callback(CallbackResult::Closed);
            measure::callback(CallbackResult::Closed);
        });
        assert_eq!(first[0]["callbacks"], json!(2));
        assert!(lines(&emf, || {}).is_empty());
        let again = lines(&emf, || measure::callback(CallbackResult::Closed));
        assert_eq!(again[0]["callbacks"], json!(1));
    }

    #[test]
    fn two_values_of_one_label_are_two_documents_not_one_lost() {
        let emf = Emf::new(None);
        let docs = lines(&emf, || {
            measure::callback(CallbackResult::Closed);
            measure::callback(CallbackResult::Expired);
            for _ in 0..(MAX_VALUES + 1) {
                measure::engine_call("SendTaskHeartbeat", Duration::from_millis(1));
            }
        });
        assert_eq!(docs.len(), 2, "{docs:?}");
        let results: Vec<_> = docs.iter().map(|d| d["result"].clone()).collect();
        assert_eq!(results, vec![json!("closed"), json!("expired")]);
        let timings: usize = docs
            .iter()
            .map(|d| d["engine_call_seconds"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(timings, MAX_VALUES + 1);
    }
}
