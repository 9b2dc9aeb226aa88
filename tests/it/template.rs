//! `infra/template.yaml` against the code it deploys: the Serverless
//! Application Repository's version is Cargo's (and the CDK library's),
//! and the alarms and the
//! dashboard watch metrics (names, dimensions, label values) that the
//! service really publishes. cfn-lint checks the template's shape; these
//! check what cfn-lint cannot know.

use std::collections::BTreeSet;

use serde_json::Value;
use sfn_callbacks::app::measure::{self, CallbackResult};

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// The lines of the top-level section `name:` (up to the next one).
fn section(name: &str) -> Vec<&'static str> {
    let header = format!("{name}:");
    TEMPLATE
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' ') || l.starts_with('#'))
        .collect()
}

/// The `key: value` of the SAR metadata.
fn sar(key: &str) -> &'static str {
    let metadata = section("Metadata");
    let start = metadata
        .iter()
        .position(|l| l.trim() == "AWS::ServerlessRepo::Application:")
        .expect("the template has AWS::ServerlessRepo::Application metadata");
    let prefix = format!("{key}: ");
    metadata[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("the SAR metadata has no {key}"))
}

#[test]
fn the_serverless_repository_listing_is_cargos_version_and_licence() {
    assert_eq!(sar("SemanticVersion"), env!("CARGO_PKG_VERSION"));
    assert_eq!(sar("Name"), env!("CARGO_PKG_NAME"));
    // The CDK library deploys the same binary: same version.
    let package: Value = serde_json::from_str(include_str!("../../infra/cdk/package.json"))
        .expect("infra/cdk/package.json");
    assert_eq!(package["version"], env!("CARGO_PKG_VERSION"));
    // SAR takes one SPDX id: one of the licences the crate offers.
    let offered: Vec<&str> = env!("CARGO_PKG_LICENSE").split(" OR ").collect();
    assert!(
        offered.contains(&sar("SpdxLicenseId")),
        "{} is not one of {offered:?}",
        sar("SpdxLicenseId")
    );
    // `sam package` uploads these files, relative to the template.
    let infra = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("infra");
    for key in ["LicenseUrl", "ReadmeUrl"] {
        let file = infra.join(sar(key));
        assert!(file.is_file(), "{key} {} is not a file", file.display());
    }
    let licence = std::fs::read_to_string(infra.join(sar("LicenseUrl"))).expect("licence");
    let words = match sar("SpdxLicenseId") {
        "Apache-2.0" => "Apache License",
        "MIT" => "Permission is hereby granted",
        other => panic!("no licence text known for {other}"),
    };
    assert!(
        licence.contains(words),
        "LicenseUrl is not the {words} text"
    );
    for key in ["HomePageUrl", "SourceCodeUrl"] {
        assert!(sar(key).starts_with("https://"), "{key} is {}", sar(key));
    }
}

/// One metric a CloudWatch alarm or widget names: its name and the
/// dimensions' names and values.
#[derive(Debug)]
struct Watched {
    name: String,
    dimensions: Vec<(String, String)>,
}

/// Every `Namespace: SfnCallbacks` metric in the Resources, with the
/// `{Name: …, Value: …}` dimensions listed under it.
fn alarmed_metrics() -> Vec<Watched> {
    let lines = section("Resources");
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "Namespace: SfnCallbacks" {
            continue;
        }
        let name = lines[i + 1]
            .trim()
            .strip_prefix("MetricName: ")
            .expect("MetricName follows Namespace")
            .to_owned();
        assert_eq!(lines[i + 2].trim(), "Dimensions:", "after {name}");
        let dimensions = lines[i + 3..]
            .iter()
            .map_while(|l| l.trim().strip_prefix("- {Name: "))
            .map(|d| {
                let (n, v) = d
                    .trim_end_matches('}')
                    .split_once(", Value: ")
                    .expect("Name, Value");
                (n.to_owned(), v.to_owned())
            })
            .collect();
        found.push(Watched { name, dimensions });
    }
    found
}

/// The label a metric carries besides `deployment`.
fn label_of(name: &str) -> Option<&'static str> {
    measure::ALL
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is not a metric the service publishes"))
        .label
}

#[test]
fn the_alarms_watch_what_the_service_publishes_behind_the_topic() {
    let watched = alarmed_metrics();
    let results: Vec<&str> = [
        CallbackResult::Succeeded,
        CallbackResult::Failed,
        CallbackResult::Heartbeat,
        CallbackResult::Closed,
        CallbackResult::Expired,
        CallbackResult::Rejected,
        CallbackResult::Unavailable,
        CallbackResult::Refused,
    ]
    .map(CallbackResult::as_str)
    .to_vec();
    // `core::notify::Notification::channel`.
    let channels = ["email", "sns", "slack", "teams"];
    let mut seen = BTreeSet::new();
    for metric in &watched {
        let label = label_of(&metric.name);
        let names: Vec<&str> = metric.dimensions.iter().map(|(n, _)| n.as_str()).collect();
        let mut expected = vec!["deployment"];
        expected.extend(label);
        assert_eq!(names, expected, "the dimensions of {}", metric.name);
        assert_eq!(metric.dimensions[0].1, "!Ref AWS::StackName");
        if let Some((label, value)) = metric.dimensions.get(1) {
            let allowed: &[&str] = match label.as_str() {
                "result" => &results,
                "channel" => &channels,
                other => panic!("no alarm expected on the label {other}"),
            };
            assert!(allowed.contains(&value.as_str()), "{label}={value}");
            seen.insert(format!("{}{{{label}={value}}}", metric.name));
        }
    }
    let mut wanted: BTreeSet<String> =
        ["callbacks{result=unavailable}", "callbacks{result=refused}"]
            .map(str::to_owned)
            .into();
    wanted.extend(channels.map(|c| format!("notifications_failed{{channel={c}}}")));
    assert_eq!(seen, wanted);

    // Every alarm is behind AlarmTopicArn and tells the topic both ways;
    // none is on CreateUrlsFunction's Errors (callers' mistakes).
    let resources = section("Resources");
    let alarms: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == "Type: AWS::CloudWatch::Alarm")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        alarms.len(),
        5,
        "unavailable, refused, error rate, notify, throttles"
    );
    for &at in &alarms {
        let body: Vec<&str> = resources[at..]
            .iter()
            .skip(1)
            .take_while(|l| l.starts_with("    ") || l.is_empty())
            .copied()
            .collect();
        assert_eq!(body[0].trim(), "Condition: Alarms", "{}", resources[at - 1]);
        for actions in ["AlarmActions", "OKActions"] {
            assert!(
                body.iter()
                    .any(|l| l.trim() == format!("{actions}: [!Ref AlarmTopicArn]")),
                "{} lacks {actions}",
                resources[at - 1]
            );
        }
        let text = body.join("\n");
        assert!(
            !(text.contains("MetricName: Errors") && text.contains("!Ref CreateUrlsFunction")),
            "{} alarms on CreateUrlsFunction's errors",
            resources[at - 1]
        );
    }
}

/// The dashboard's body, as the JSON it is once `!Sub` has run.
fn dashboard() -> Value {
    let resources = section("Resources");
    let start = resources
        .iter()
        .position(|l| l.trim() == "DashboardBody: !Sub")
        .expect("a dashboard")
        + 2;
    let body: String = resources[start..]
        .iter()
        .take_while(|l| l.trim() != "- Callbacks: !Ref CallbackFunction")
        .map(|l| format!("{l}\n"))
        .collect();
    let substituted = regex_lite::Regex::new(r"\$\{[A-Za-z:]+\}")
        .expect("regex")
        .replace_all(&body, "x");
    serde_json::from_str(&substituted).expect("the dashboard body is JSON")
}

#[test]
fn the_dashboard_shows_every_metric_with_its_own_dimensions() {
    let body = dashboard();
    let search = regex_lite::Regex::new(
        r#"^SEARCH\('\{SfnCallbacks,deployment,(\w+)\} MetricName="(\w+)" deployment="x"', '(Sum|p50|p99)', 300\)$"#,
    )
    .expect("regex");
    let mut shown = BTreeSet::new();
    let widgets = body["widgets"].as_array().expect("widgets");
    for widget in widgets {
        for row in widget["properties"]["metrics"].as_array().expect("metrics") {
            let row = row.as_array().expect("a row");
            if let Some(expression) = row[0].get("expression") {
                let expression = expression.as_str().expect("text");
                let caps = search
                    .captures(expression)
                    .unwrap_or_else(|| panic!("unexpected expression {expression}"));
                assert_eq!(Some(&caps[1]), label_of(&caps[2]), "{expression}");
                shown.insert(caps[2].to_owned());
            } else if row[0] == "SfnCallbacks" {
                let name = row[1].as_str().expect("name");
                assert_eq!(label_of(name), None, "{name} has a label to search by");
                assert_eq!(row[2..4], [Value::from("deployment"), Value::from("x")]);
                shown.insert(name.to_owned());
            } else {
                assert_eq!(row[0], "AWS/Lambda");
            }
        }
    }
    let all: BTreeSet<String> = measure::ALL.iter().map(|m| m.name.to_owned()).collect();
    assert_eq!(shown, all, "every metric is on the dashboard");
}
