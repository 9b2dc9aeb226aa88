//! The pure core: no I/O, no clock reads, no randomness of its own.
//!
//! Everything here takes the current time, nonces and keys as arguments, so
//! tests need no server, no SDK and no sleep.

pub mod action;
pub mod address;
pub mod approvers;
pub mod callback;
pub mod create;
pub mod error;
pub mod features;
pub mod form;
pub mod keyring;
pub mod locale;
pub mod notify;
pub mod payload;
pub mod query;
pub mod session;
pub mod slack_signature;
pub mod template;
pub mod token;

pub use error::ErrorCode;
pub use features::Features;
