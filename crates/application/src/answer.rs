//! Answering a link: open the sealed payload, verify it, and either say
//! what would happen or decide the engine call and make it, once.
//!
//! Order: open, check expiry and the query against the sealed action, then
//! show (a look that does not act) or read the submission, decide and call
//! the engine. Nothing reaches the engine before every check has passed.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::measure::{self, CallbackResult};
use super::sign_in::{Credential, sign_in_required};
use super::{App, AppError};
use crate::ports::{Engine, EngineError};
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::action::ActionKind;
use sfn_callbacks_core::approvers::{Identity, Refusal};
use sfn_callbacks_core::callback::{
    Answer, Decision, EngineCall, check_expiry, decide_as, form_values, heartbeat_operation, verify,
};
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::form::{FormErrors, Submitted};
use sfn_callbacks_core::locale::Locale;
use sfn_callbacks_core::payload::{Claims, Opened, Review};
use sfn_callbacks_core::template::Params;
use sfn_callbacks_core::token::Token;

/// How the caller came to the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A look that never acts (HTTP `HEAD`).
    Preview,
    /// Opening the link (HTTP `GET`): acts only for one-click links or on a
    /// `GET_ACTS` deployment.
    Visit,
    /// Submitting the decision (HTTP `POST`).
    Submit,
}

/// One request to answer a link.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    /// The sealed `data` value.
    pub data: &'a str,
    /// The other query parameters.
    pub params: &'a Params,
    /// How the caller came.
    pub via: Via,
    /// Who is asking, if anyone says.
    pub credential: Credential<'a>,
}

/// What a submission must carry for this link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A JSON body (POST actions).
    Json,
    /// The person's answer: a comment and form values, if any.
    Answer,
}

/// What a submission carried.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A JSON body.
    Json(Value),
    /// The person's answer.
    Answer {
        /// Their comment.
        comment: Option<String>,
        /// Their form values, as sent.
        form: Submitted,
    },
}

/// What the probe found of the task behind a link the service shows
/// without acting. A page never claims more than this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probed {
    /// Step Functions just took a heartbeat for it: nobody has answered it.
    Open,
    /// Not asked (a heartbeat link, a HEAD, `GET_PROBE=false`), or Step
    /// Functions could not say.
    Unknown,
}

impl Probed {
    /// Its name in the request log and in JSON answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Unknown => "unknown",
        }
    }
}

/// How long a GET waits for the probe before showing the page without
/// knowing (the page must not wait for a whole engine deadline).
pub const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Whether the person looking at a review link may press one of its
/// choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Anyone holding the link may (a choice bound to no approvers), or the
    /// signed-in person is among its approvers.
    May,
    /// Bound to approvers, and nobody is signed in.
    SignInFirst,
    /// The signed-in person may not.
    MayNot(Refusal),
}

/// What answering the link came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A review link looked at: every choice, and whether the person may
    /// press it (same order as the review's choices).
    Review {
        /// The review link's claims.
        review: Review,
        /// Each choice's standing.
        standings: Vec<Standing>,
        /// The signed-in person, if any.
        who: Option<Identity>,
        /// Whether the task is known to be open.
        task: Probed,
    },
    /// A POST action looked at: only a system's JSON POST answers it.
    PostOnly(Claims),
    /// Not acted on: what a submission would do, and who is signed in for
    /// a link bound to approvers.
    Pending {
        /// The link's claims.
        claims: Claims,
        /// The signed-in approver.
        who: Option<Identity>,
        /// Whether the task is known to be open.
        task: Probed,
    },
    /// A link bound to approvers, opened by nobody signed in: sign in first,
    /// `now` (one-click links) or after a press.
    SignIn {
        /// The link's claims.
        claims: Claims,
        /// Whether to go to the provider at once.
        now: bool,
        /// Whether the task is known to be open.
        task: Probed,
    },
    /// The form's values were refused: nothing was sent. A page shows
    /// the form again with what was entered and each error by its field.
    FormRefused {
        /// The link's claims.
        claims: Claims,
        /// The signed-in approver.
        who: Option<Identity>,
        /// What is wrong.
        errors: FormErrors,
        /// The page's fields as sent (empty for a program's JSON).
        entered: Vec<(String, String)>,
        /// The comment as sent, to show again.
        comment: Option<String>,
    },
    /// The engine took the call.
    Sent {
        /// The link's claims.
        claims: Claims,
        /// The call made, and how to answer the caller.
        decision: Box<Decision>,
    },
}

/// What happened, for the front door's request log. Never holds a token, a
/// payload or a URL.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// The transaction.
    pub transaction_id: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// Action type.
    pub action_type: Option<&'static str>,
    /// POST outcome.
    pub outcome: Option<String>,
    /// What happened: `sent`, `pending`, `created`.
    pub result: Option<&'static str>,
    /// Engine call time in milliseconds.
    pub engine_ms: Option<u64>,
    /// Why a payload did not open (operator detail, never shown to clients).
    pub open_error: Option<String>,
    /// The approver's `sub`, for links bound to approvers.
    pub approver: Option<String>,
    /// What the probe of a GET found: `open`, `closed`, `unknown`.
    pub probe: Option<&'static str>,
    /// The language the opened link sealed for its pages, so that an
    /// error raised after it opened (closed, expired, not an approver)
    /// speaks it too.
    pub locale: Option<Locale>,
    /// When the opened link expires, so that its expired page can say
    /// when, in its language.
    pub expires_at_millis: Option<i64>,
}

impl App {
    /// Answers the link whose sealed `data` and other query parameters are
    /// given. `read` is called at most once, after every check of the link
    /// has passed, for what a submission must carry; its errors pass
    /// through unchanged.
    ///
    /// Each answer that acts or fails is counted in
    /// [`measure::CALLBACKS`] by its result, and a look in
    /// [`measure::LINKS_OPENED`]; a [`Via::Preview`] is not counted.
    pub async fn answer<E: From<AppError>>(
        &self,
        link: Link<'_>,
        trace: &mut Trace,
        read: impl FnOnce(Needs) -> Result<Input, E>,
    ) -> Result<Outcome, E> {
        let via = link.via;
        let answered = self.answer_uncounted(link, trace, read).await;
        let result = match &answered {
            // A look that never acts (an unfurler's HEAD) is nobody's click.
            _ if via == Via::Preview => None,
            Ok(Outcome::Sent { decision, .. }) => Some(match decision.command {
                EngineCall::Success { .. } => CallbackResult::Succeeded,
                EngineCall::Failure { .. } => CallbackResult::Failed,
                EngineCall::Heartbeat { .. } => CallbackResult::Heartbeat,
            }),
            Ok(Outcome::FormRefused { .. }) | Err(Failed::Read(_)) => {
                Some(CallbackResult::Rejected)
            }
            Ok(Outcome::Pending { .. } | Outcome::PostOnly(_)) => {
                measure::link_opened("page");
                None
            }
            Ok(Outcome::Review { .. }) => {
                measure::link_opened("review");
                None
            }
            Ok(Outcome::SignIn { .. }) => {
                measure::link_opened("sign_in");
                None
            }
            Err(Failed::App(e)) => Some(CallbackResult::of(e)),
        };
        if let Some(result) = result {
            measure::callback(result);
        }
        answered.map_err(|failed| match failed {
            Failed::App(e) => e.into(),
            Failed::Read(e) => e,
        })
    }

    /// [`Self::answer`], uncounted, with the front door's reading errors
    /// kept apart.
    async fn answer_uncounted<E>(
        &self,
        link: Link<'_>,
        trace: &mut Trace,
        read: impl FnOnce(Needs) -> Result<Input, E>,
    ) -> Result<Outcome, Failed<E>> {
        let read = |needs| read(needs).map_err(Failed::Read);
        let Link {
            data,
            params,
            via,
            credential,
        } = link;
        let opened = self.ports.keys.open(data).await.map_err(|e| {
            let error = AppError::from(e);
            if let AppError::BadLink(reason) = &error {
                trace.open_error = Some(format!("{reason:?}"));
            }
            error
        })?;
        // A review link with `action` in its query is that action's link,
        // except that a GET of it never acts.
        let (claims, from_review) = match opened {
            Opened::Link(claims) => (claims, false),
            Opened::Review(review) => {
                trace.transaction_id = Some(review.transaction_id.to_hex());
                trace.locale = review.locale;
                trace.expires_at_millis = review.expires_at_millis;
                let Some(name) = params.get("action") else {
                    return Ok(self.review(review, via, credential, trace).await?);
                };
                let claims = review.claims_for(name).ok_or_else(|| {
                    AppError::Rejected(Rejection::new(
                        ErrorCode::ActionMismatched,
                        format!("this review link has no action named {name:?}"),
                    ))
                })?;
                (claims, true)
            }
        };
        let kind = claims.action.kind();
        trace.transaction_id = Some(claims.transaction_id.to_hex());
        trace.locale = claims.locale;
        trace.expires_at_millis = claims.expires_at_millis;
        trace.action = Some(claims.action.name.as_str().to_owned());
        trace.action_type = Some(kind.as_str());
        verify(
            &claims,
            params.get("action").map(String::as_str),
            params.get("type").map(String::as_str),
            self.ports.clock.now(),
        )
        .map_err(AppError::from)?;

        if kind == ActionKind::Post && via != Via::Submit {
            trace.result = Some("pending");
            return Ok(Outcome::PostOnly(claims));
        }
        // A link with a form acts only on a submission: a GET carries no
        // values, whatever `GET_ACTS` says.
        let one_click = !from_review
            && claims.action.page.form.is_none()
            && (self.settings.get_acts || claims.action.page.one_click);
        let approver = match &claims.gate {
            None => None,
            Some(gate) => match self.who(credential).await? {
                Some(who) => {
                    trace.approver = Some(who.subject.clone());
                    gate.check(&who).map_err(|refusal| refused(refusal, &who))?;
                    Some(who)
                }
                None if via == Via::Submit => return Err(sign_in_required().into()),
                None => {
                    let now = via == Via::Visit && one_click;
                    let task = if now {
                        Probed::Unknown
                    } else {
                        self.probe(&claims, via, trace).await?
                    };
                    trace.result = Some("sign-in");
                    return Ok(Outcome::SignIn { claims, now, task });
                }
            },
        };

        let features = self.settings.features;
        let decision = if kind == ActionKind::Post {
            let body = match read(Needs::Json)? {
                Input::Json(value) => Some(value),
                Input::Answer { .. } => None,
            };
            decide_as(
                &claims,
                params,
                body.as_ref(),
                Answer::default(),
                approver.as_ref(),
                features,
            )
        } else {
            let acts = via == Via::Submit || (via == Via::Visit && one_click);
            if !acts {
                let task = self.probe(&claims, via, trace).await?;
                trace.result = Some("pending");
                return Ok(Outcome::Pending {
                    claims,
                    who: approver,
                    task,
                });
            }
            let (comment, submitted) = match via {
                Via::Submit => match read(Needs::Answer)? {
                    Input::Answer { comment, form } => (comment, form),
                    Input::Json(_) => (None, Submitted::Json(None)),
                },
                Via::Visit | Via::Preview => (None, Submitted::Json(None)),
            };
            let entered = match &submitted {
                Submitted::Page(pairs) => pairs.clone(),
                Submitted::Json(_) => Vec::new(),
            };
            let values = match form_values(&claims.action, submitted) {
                Ok(values) => values,
                Err(errors) => {
                    trace.result = Some("form-refused");
                    return Ok(Outcome::FormRefused {
                        claims,
                        who: approver,
                        errors,
                        entered,
                        comment,
                    });
                }
            };
            let answer = Answer {
                comment: comment.as_deref(),
                form: values.as_ref(),
            };
            decide_as(&claims, params, None, answer, approver.as_ref(), features)
        }
        .map_err(AppError::from)?;

        trace.outcome = decision.outcome.as_ref().map(|o| o.as_str().to_owned());
        let started = Instant::now();
        let sent = self.send(&decision.command).await;
        trace.engine_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        if let Err(e) = sent {
            tracing::warn!(
                transaction_id = trace.transaction_id,
                operation = decision.command.operation(),
                error = %e,
                "the engine call failed"
            );
            return Err(AppError::engine(e, &decision.command).into());
        }
        trace.result = Some("sent");
        Ok(Outcome::Sent {
            claims,
            decision: Box::new(decision),
        })
    }

    /// Before a GET shows a success or failure link's page: is the task
    /// still open? A heartbeat asks Step Functions without answering the
    /// task (no history event; it restarts the heartbeat clock of a task
    /// with `HeartbeatSeconds`). A closed task is the already-answered
    /// error at once; when Step Functions cannot say in [`PROBE_WAIT`],
    /// the page is shown without knowing. HEAD, heartbeat links and
    /// `GET_PROBE=false` never probe.
    async fn probe(
        &self,
        claims: &Claims,
        via: Via,
        trace: &mut Trace,
    ) -> Result<Probed, AppError> {
        self.probe_token(&claims.token, decides(claims.action.kind()), via, trace)
            .await
    }

    /// The probe of a token whose links `decide` the task (or not).
    async fn probe_token(
        &self,
        token: &Token,
        decide: bool,
        via: Via,
        trace: &mut Trace,
    ) -> Result<Probed, AppError> {
        if via != Via::Visit || !decide || !self.settings.get_probe {
            return Ok(Probed::Unknown);
        }
        let started = Instant::now();
        let asked = tokio::time::timeout(PROBE_WAIT, self.ports.engine.heartbeat(token)).await;
        measure::engine_call(heartbeat_operation(token), started.elapsed());
        let (task, finding) = match asked {
            Ok(Ok(())) => (Ok(Probed::Open), "open"),
            Ok(Err(EngineError::TaskClosed(_))) => (Err(AppError::Closed), "closed"),
            Ok(Err(e)) => {
                tracing::warn!(
                    transaction_id = trace.transaction_id,
                    engine = token.engine().service(),
                    error = %e,
                    "the probe could not ask the engine; the page says it does not know"
                );
                (Ok(Probed::Unknown), "unknown")
            }
            Err(_) => {
                tracing::warn!(
                    transaction_id = trace.transaction_id,
                    waited_ms = PROBE_WAIT.as_millis() as u64,
                    "the probe had no answer in time; the page says it does not know"
                );
                (Ok(Probed::Unknown), "unknown")
            }
        };
        trace.probe = Some(finding);
        task
    }

    /// A review link without a chosen action: a look at every choice (a
    /// POST must name the one it makes). Who is asking matters only when a
    /// choice is bound to approvers.
    async fn review(
        &self,
        review: Review,
        via: Via,
        credential: Credential<'_>,
        trace: &mut Trace,
    ) -> Result<Outcome, AppError> {
        trace.action_type = Some("review");
        check_expiry(review.expires_at_millis, self.ports.clock.now())?;
        if via == Via::Submit {
            return Err(AppError::Rejected(Rejection::new(
                ErrorCode::ActionMismatched,
                "a review link takes one choice at a time: add action=<name> to its query, as each button of its page does",
            )));
        }
        let who = if review.choices.iter().any(|c| c.gate.is_some()) {
            self.who(credential).await?
        } else {
            None
        };
        trace.approver = who.as_ref().map(|w| w.subject.clone());
        let standings = review
            .choices
            .iter()
            .map(|choice| match (&choice.gate, &who) {
                (None, _) => Standing::May,
                (Some(_), None) => Standing::SignInFirst,
                (Some(gate), Some(who)) => match gate.check(who) {
                    Ok(()) => Standing::May,
                    Err(refusal) => Standing::MayNot(refusal),
                },
            })
            .collect::<Vec<_>>();
        // Probe only for a choice this person may press (or may after
        // signing in): someone refused everything learns nothing more.
        let decide = review
            .choices
            .iter()
            .zip(&standings)
            .any(|(c, s)| decides(c.action.kind()) && !matches!(s, Standing::MayNot(_)));
        let task = self.probe_token(&review.token, decide, via, trace).await?;
        trace.result = Some("pending");
        Ok(Outcome::Review {
            review,
            standings,
            who,
            task,
        })
    }

    /// Makes one engine call (the application's own: no front door calls
    /// the engine).
    pub(crate) async fn send(&self, command: &EngineCall) -> Result<(), EngineError> {
        call_engine(self.ports.engine.as_ref(), command).await
    }
}

/// Why [`App::answer_uncounted`] did not answer: the application's error, or the
/// front door's reading of the submission.
enum Failed<E> {
    App(AppError),
    Read(E),
}

impl<E> From<AppError> for Failed<E> {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

/// Whether links of this kind answer the task (so a GET probes first).
fn decides(kind: ActionKind) -> bool {
    matches!(kind, ActionKind::Success | ActionKind::Failure)
}

/// The 403 for a signed-in person who may not act.
fn refused(refusal: Refusal, who: &Identity) -> AppError {
    measure::approver_refused(refusal);
    let (name, reason) = (who.display(), refusal.reason());
    let message = match refusal {
        Refusal::NotAnApprover => format!(
            "{name} {reason} of this link; nothing was sent. Sign in as an approver, or ask the requester to add you"
        ),
        Refusal::Requester | Refusal::Unidentified => format!("{name} {reason}; nothing was sent"),
    };
    AppError::Rejected(Rejection::new(ErrorCode::NotAnApprover, message))
}

/// Makes the engine call a decision names.
pub async fn call_engine(engine: &dyn Engine, command: &EngineCall) -> Result<(), EngineError> {
    let started = Instant::now();
    let called = match command {
        EngineCall::Success { token, output } => engine.succeed(token, output).await,
        EngineCall::Failure {
            token,
            error,
            cause,
        } => engine.fail(token, error.as_deref(), cause.as_deref()).await,
        EngineCall::Heartbeat { token } => engine.heartbeat(token).await,
    };
    measure::engine_call(command.operation(), started.elapsed());
    called
}
