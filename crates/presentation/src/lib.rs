//! What sfn-callbacks shows and says: the HTML pages ([`pages`]), the
//! notifications as sent ([`notify`]: mail, SNS, Slack and Teams shapes),
//! Slack's interactions and modals ([`slack`]), a form's problems in the
//! reader's words ([`form`]), and each language's messages, dates and
//! decimals ([`text`]).
//!
//! Pure, like the core it builds on: no I/O, no clock reads. It decides
//! nothing: whether a link may be answered, and how, is the core's; this
//! crate only puts the outcome into words and shapes.

pub mod form;
pub mod notify;
pub mod pages;
pub mod slack;
pub mod text;
