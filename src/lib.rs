//! sfn-callbacks: stateless callback URLs for AWS Step Functions task tokens.
//!
//! The crate is split into a pure [`core`] (payload format, request validation,
//! the decision which `SendTask*` call to make) and adapters at the edge:
//! [`aws`] for Step Functions and KMS, [`keys`] for the key sources, [`http`]
//! for the axum router, [`lambda`] for the Lambda front doors, and
//! [`config`] for flags and environment.
//! `ARCHITECTURE.md` at the root of the repository describes the shape.

pub mod aws;
pub mod config;
pub mod core;
pub mod http;
pub mod keys;
pub mod lambda;
pub mod ports;
pub mod worker;
