//! Test modules, one per area.

mod activity;
mod architecture;
mod browser;
mod cli;
mod durable_mocks;
mod e2e_moto;
mod examples;
mod faults;
mod forms;
mod lambda;
mod lambda_runtime;
mod languages;
mod limits;
mod metrics;
mod moto;
mod notify;
mod oidc;
mod review;
mod rotation;
mod router;
mod sdk_mocks;
mod sign_in;
mod size;
mod slack;
mod slack_standin;
pub mod support;
mod teams;
