//! `examples/parallel-approvers`: three branches, one mail each; all three
//! approvals let the run go on, one rejection fails it, and the links left
//! over then say the task is closed.

use aws_sdk_sfn::types::ExecutionStatus;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Lab, assert_status, link_in_html, output};
use crate::it::moto::call;

const ROLES: [&str; 3] = ["security", "finance", "operations"];

fn input(change: &str, approvers: [&str; 3]) -> Value {
    json!({
        "change": change,
        "summary": "Move <b>billing</b> to the \"eu\" cluster & retire the old one",
        "approvers": {"security": approvers[0], "finance": approvers[1], "operations": approvers[2]},
    })
}

/// One approver's mail for `change`: checked, and its two links.
struct Mail {
    approve: String,
    reject: String,
}

async fn mail(lab: &Lab, to: &str, role: &str, change: &str, created: &[Value]) -> Mail {
    let subject = format!("Change {change}: {role} sign-off needed");
    let mail = lab.mail_to(to).await;
    let mine: Vec<_> = mail.iter().filter(|m| m["subject"] == subject).collect();
    let [message] = mine.as_slice() else {
        panic!("one mail {subject:?} to {to}: {mail:?}");
    };
    assert_eq!(message["source"], "approvals@example.com");
    assert_eq!(
        message["destinations"]["ToAddresses"],
        json!([to]),
        "only the approver"
    );
    let html = message["body"].as_str().expect("html");
    let title = format!("{}{}", role[..1].to_uppercase(), &role[1..]);
    assert!(
        html.contains(&format!(
            "{title} sign-off for change {change}: Move &lt;b&gt;billing&lt;/b&gt; to the &quot;eu&quot; cluster &amp; retire the old one"
        )),
        "the summary, escaped: {html}"
    );
    assert!(!html.contains("<b>billing"), "{html}");
    let links = Mail {
        approve: link_in_html(html, "approve"),
        reject: link_in_html(html, "reject"),
    };
    // Both links come from one of this run's CreateUrls answers.
    assert!(
        created
            .iter()
            .any(|c| c["urls"]["approve"] == links.approve.as_str()
                && c["urls"]["reject"] == links.reject.as_str()),
        "{to}: links not from one answer"
    );
    links
}

/// The mails of the three approvers of `change`, in branch order.
async fn mails(lab: &Lab, approvers: [&str; 3], change: &str, created: &[Value]) -> Vec<Mail> {
    let mut out = Vec::new();
    for (to, role) in approvers.iter().zip(ROLES) {
        out.push(mail(lab, to, role, change, created).await);
    }
    let mut approve: Vec<_> = out.iter().map(|m| &m.approve).collect();
    approve.sort();
    approve.dedup();
    assert_eq!(approve.len(), 3, "each approver has links of their own");
    out
}

/// The page's button, as a browser presses it.
async fn press(url: &str) -> (StatusCode, String) {
    let reply = call(Method::POST, url, Some("text/html"), None).await;
    (reply.status, reply.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_three_approve_or_one_rejection_fails_the_run() {
    let Some(lab) = Lab::start(&[]).await else {
        return;
    };
    let machine = lab.state_machine("parallel-approvers", &[]).await;

    // All three approve: the run goes on with the three outputs.
    let people = [
        "sam@corp.example",
        "fin@corp.example",
        "ops-lead@corp.example",
    ];
    let run = lab
        .run(&machine, "chg-1042", &input("CHG-1042", people))
        .await;
    let created = lab.invoke_create_urls(&run, 3).await;
    for answer in &created {
        assert_eq!(answer["notified"]["channel"], "email", "{answer}");
    }
    let links = mails(&lab, people, "CHG-1042", &created).await;

    let page = call(Method::GET, &links[0].approve, Some("text/html"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("Move &lt;b&gt;billing&lt;/b&gt;"),
        "the page escapes the summary too: {}",
        page.text
    );

    for (i, mail) in links.iter().enumerate() {
        let (status, page) = press(&mail.approve).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Response accepted!"), "{page}");
        if i < 2 {
            lab.assert_running(&run, "the run waits for all three")
                .await;
        }
    }
    let done = lab.finished(&run).await;
    assert_status(&done, ExecutionStatus::Succeeded);
    let result = output(&done);
    let expected: Vec<Value> = ROLES
        .iter()
        .zip(people)
        .map(|(role, email)| json!({"approver": role, "email": email, "decision": "approved"}))
        .collect();
    assert_eq!(result["approvals"], json!(expected), "{result}");
    assert_eq!(result["outcome"], "applied");

    // Security and finance approve, operations rejects: the run fails with
    // the rejection's error, and the links left over are closed.
    let run = lab
        .run(&machine, "chg-1043", &input("CHG-1043", people))
        .await;
    let created = lab.invoke_create_urls(&run, 3).await;
    let links = mails(&lab, people, "CHG-1043", &created).await;
    for mail in &links[..2] {
        let (status, page) = press(&mail.approve).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    lab.assert_running(&run, "two approvals are not enough")
        .await;
    let (status, page) = press(&links[2].reject).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Response accepted!"), "{page}");
    let done = lab.finished(&run).await;
    assert_status(&done, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("Rejected.Operations"));

    // Operations changes their mind, and security presses again: both
    // tasks are closed.
    for late in [&links[2].approve, &links[0].approve] {
        let (status, page) = press(late).await;
        assert_eq!(status, StatusCode::GONE, "{page}");
        assert!(page.contains("This request was already answered"), "{page}");
        let json = call(Method::POST, late, Some("application/json"), None).await;
        assert_eq!(json.status, StatusCode::GONE);
        assert_eq!(json.json()["error"], "StepFunctionsError", "{}", json.text);
    }
}
