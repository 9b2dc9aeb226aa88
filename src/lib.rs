//! sfn-callbacks: stateless callback URLs for AWS Step Functions task tokens.
//!
//! The crate is a pure [`core`] (payload format, request validation, the
//! decision which `SendTask*` call to make), the use cases in [`app`]
//! (making links, answering them) with the [`ports`] they need, and the
//! edge: adapters ([`aws`] for Step Functions, KMS, SES and SNS, [`keys`]
//! for the key sources, [`system`] for the clock and randomness) and front
//! doors ([`http`] for the axum router, [`lambda`] for the Lambda handler,
//! [`worker`] for the activity worker). [`config`] reads and checks flags
//! and environment; [`startup`] wires the parts together.
//! `ARCHITECTURE.md` at the root of the repository describes the shape.

pub mod aws;
pub mod chat;
pub mod config;
pub mod http;
pub mod keys;
pub mod lambda;
pub mod oidc;
pub mod startup;
pub mod system;
pub mod telemetry;
pub mod worker;

/// The pure core, its own crate (`crates/core`): this name keeps
/// `crate::core::…` paths of the edge as they were.
pub use sfn_callbacks_core as core;

/// What the service shows and says, its own crate
/// (`crates/presentation`).
pub use sfn_callbacks_presentation as presentation;

/// The use cases, their own crate (`crates/application`).
pub use sfn_callbacks_application as app;

/// The ports the use cases need (`crates/application`'s `ports`).
pub use sfn_callbacks_application::ports;
