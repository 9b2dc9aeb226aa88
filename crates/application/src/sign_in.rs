//! Sign-in, stateless: the authorization code flow with PKCE, `state` and
//! `nonce`, where what the flow must remember is sealed into the `state`
//! (and bound to the browser by a short-lived cookie), and the session is
//! a sealed cookie. Nothing is kept on the server.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{App, AppError, Unavailable, measure};
use crate::ports::{AuthRequest, IdentityProvider, IdpError, UnsealError};
use sfn_callbacks_core::ErrorCode;
use sfn_callbacks_core::approvers::Identity;
use sfn_callbacks_core::error::Rejection;
use sfn_callbacks_core::payload::{Purpose, seal_bytes};
use sfn_callbacks_core::session::{BINDING_LEN, SIGN_IN_SECS, Session, SessionError, SignIn};

/// What the front door found about who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// Nothing.
    Anonymous,
    /// A session cookie's value.
    Session(&'a str),
    /// An `Authorization: Bearer` JWT.
    Bearer(&'a str),
    /// A Slack user ID, from a request whose Slack signature the front
    /// door checked.
    Slack(&'a str),
}

/// A sign-in begun: send the person to `redirect`, with the binding cookie.
#[derive(Debug, Clone)]
pub struct SignInStart {
    /// The provider's authorization URL.
    pub redirect: String,
    /// The value of the cookie that binds the `state` to this browser.
    pub binding: String,
    /// How long the binding cookie lives.
    pub max_age_secs: i64,
}

/// A sign-in finished: the session cookie's value, and the link to go back
/// to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The sealed session.
    pub session: String,
    /// How long the session cookie lives.
    pub max_age_secs: i64,
    /// The query of the link (`/respond?{query}`).
    pub return_query: String,
    /// Who signed in.
    pub identity: Identity,
}

/// The 401 for a bound link acted on by nobody signed in.
pub fn sign_in_required() -> AppError {
    AppError::Rejected(Rejection::new(
        ErrorCode::SignInRequired,
        "this link is for named approvers: sign in first (open the link in a browser), or send Authorization: Bearer with an ID token from this deployment's OpenID Provider",
    ))
}

fn sign_in_failed(message: impl Into<String>) -> AppError {
    AppError::Rejected(Rejection::new(ErrorCode::SignInFailed, message))
}

/// An outage of the provider, or a refusal by it (logged for the operator;
/// the person sees no detail that would help an attacker).
fn from_idp(e: IdpError) -> AppError {
    match e {
        IdpError::Unavailable(why) => {
            tracing::warn!(error = why, "OpenID Provider unavailable");
            AppError::Unavailable(Unavailable::IdentityProvider)
        }
        IdpError::Rejected(why) => {
            tracing::info!(reason = why, "sign-in refused");
            sign_in_failed(format!(
                "sign-in did not complete: {why}; open the link again to retry"
            ))
        }
    }
}

impl App {
    fn provider(&self) -> Result<&dyn IdentityProvider, AppError> {
        self.ports.identity.as_deref().ok_or_else(|| {
            AppError::Rejected(Rejection::new(
                ErrorCode::SignInNotConfigured,
                "this link needs sign-in, which this deployment does not offer (no OIDC_ISSUER)",
            ))
        })
    }

    fn now_secs(&self) -> i64 {
        self.ports.clock.now().unix_timestamp()
    }

    /// Seals a session or sign-in state with the private key and a fresh
    /// nonce.
    async fn seal_private(&self, purpose: Purpose, plain: &[u8]) -> Result<String, AppError> {
        let key = self.ports.keys.private_key().await?;
        Ok(seal_bytes(
            purpose,
            plain,
            key.as_seal_with(),
            &self.random(),
        ))
    }

    fn token(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.random::<32>())
    }

    /// Begins a sign-in that returns to `/respond?{return_query}`;
    /// `redirect_uri` is this deployment's `/auth/callback`.
    pub async fn begin_sign_in(
        &self,
        return_query: &str,
        redirect_uri: &str,
    ) -> Result<SignInStart, AppError> {
        let provider = self.provider()?;
        let binding: [u8; BINDING_LEN] = self.random();
        let sign_in = SignIn {
            binding,
            verifier: self.token(),
            nonce: self.token(),
            return_query: return_query.to_owned(),
            expires_at_secs: self.now_secs() + SIGN_IN_SECS,
        };
        let state = self
            .seal_private(Purpose::SignIn, &sign_in.encode())
            .await?;
        let redirect = provider
            .authorize_url(AuthRequest {
                state: &state,
                nonce: &sign_in.nonce,
                verifier: &sign_in.verifier,
                redirect_uri,
            })
            .await
            .map_err(from_idp)?;
        Ok(SignInStart {
            redirect,
            binding: URL_SAFE_NO_PAD.encode(binding),
            max_age_secs: SIGN_IN_SECS,
        })
    }

    /// Finishes a sign-in: checks the `state` against the browser's binding
    /// cookie, redeems the code, verifies the ID token, and seals the
    /// session.
    pub async fn finish_sign_in(
        &self,
        code: &str,
        state: &str,
        binding: Option<&str>,
        redirect_uri: &str,
    ) -> Result<SignedIn, AppError> {
        let finished = self
            .redeem_sign_in(code, state, binding, redirect_uri)
            .await;
        measure::sign_in(finished.is_ok());
        finished
    }

    /// [`Self::finish_sign_in`], uncounted.
    async fn redeem_sign_in(
        &self,
        code: &str,
        state: &str,
        binding: Option<&str>,
        redirect_uri: &str,
    ) -> Result<SignedIn, AppError> {
        let provider = self.provider()?;
        let plain = self
            .ports
            .keys
            .open_private(Purpose::SignIn, state)
            .await
            .map_err(|e| match e {
                UnsealError::Payload(_) => sign_in_failed(
                    "the sign-in answer is not valid (its state was altered or not made here); open the link again to retry",
                ),
                other => AppError::from(other),
            })?;
        let binding = binding
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .unwrap_or_default();
        let sign_in = SignIn::decode(&plain, &binding, self.now_secs()).map_err(|e| match e {
            SessionError::Expired => sign_in_failed(
                "the sign-in took too long; open the link again to retry",
            ),
            SessionError::NotBound | SessionError::Malformed => sign_in_failed(
                "this sign-in was not started in this browser, or was already used; open the link again to retry",
            ),
        })?;
        let identity = provider
            .redeem(code, &sign_in.verifier, &sign_in.nonce, redirect_uri)
            .await
            .map_err(from_idp)?;
        let ttl = i64::try_from(self.settings.session_ttl.as_secs()).unwrap_or(i64::MAX);
        let session = Session {
            identity: identity.clone(),
            expires_at_secs: self.now_secs().saturating_add(ttl),
        };
        let sealed = self
            .seal_private(Purpose::Session, &session.encode())
            .await?;
        Ok(SignedIn {
            session: sealed,
            max_age_secs: ttl,
            return_query: sign_in.return_query,
            identity,
        })
    }

    /// Who the credential names: the session's person (none when it is
    /// missing, expired or not ours: sign in again), or the bearer token's
    /// (refused when it does not verify).
    pub async fn who(&self, credential: Credential<'_>) -> Result<Option<Identity>, AppError> {
        match credential {
            Credential::Anonymous => Ok(None),
            Credential::Session(sealed) => {
                let provider = self.provider()?;
                let plain = match self.ports.keys.open_private(Purpose::Session, sealed).await {
                    Ok(plain) => plain,
                    Err(UnsealError::Payload(_)) => return Ok(None),
                    Err(other) => return Err(other.into()),
                };
                // A session from another provider (the deployment moved, or
                // shares its keyring) is no session here.
                Ok(Session::decode(&plain, self.now_secs())
                    .ok()
                    .map(|s| s.identity)
                    .filter(|who| who.issuer == provider.issuer()))
            }
            Credential::Bearer(token) => {
                let provider = self.provider()?;
                match provider.verify_bearer(token).await {
                    Ok(identity) => Ok(Some(identity)),
                    Err(IdpError::Rejected(why)) => Err(AppError::Rejected(Rejection::new(
                        ErrorCode::SignInRequired,
                        format!("the bearer token was refused: {why}"),
                    ))),
                    Err(outage) => Err(from_idp(outage)),
                }
            }
            Credential::Slack(user) => self.slack_identity(user).await.map(Some),
        }
    }

    /// The person Slack names: their ID, and the profile email Slack
    /// confirmed (so `emails` and `domains` rules, and a requester's
    /// email, apply to them). A bot or a deleted user is nobody's
    /// approver: they get no email and match no rule but their ID.
    async fn slack_identity(&self, user: &str) -> Result<Identity, AppError> {
        let slack = self.ports.slack.as_deref().ok_or_else(|| {
            AppError::Rejected(Rejection::new(
                ErrorCode::SignInNotConfigured,
                "this deployment has no Slack app (SLACK_BOT_TOKEN)",
            ))
        })?;
        let profile = slack.profile(user).await.map_err(|e| {
            tracing::warn!(error = %e, "Slack could not say who pressed");
            AppError::Unavailable(Unavailable::Slack)
        })?;
        let email = profile.email.filter(|_| profile.is_person);
        Ok(Identity {
            issuer: "slack".to_owned(),
            subject: user.to_owned(),
            email_verified: email.is_some(),
            email,
            name: profile.name,
            groups: Vec::new(),
            slack_user: profile.is_person.then(|| user.to_owned()),
        })
    }
}
