//! The optional CreateUrls features a deployment enables.

/// What the deployment allows, both when links are made and when they are
/// answered (a link made under one policy is checked again under the
/// deployment's current one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// `ENABLE_OUTPUT_PARAMETERS`: `$name` placeholders in outputs.
    pub output_parameters: bool,
    /// `ENABLE_POST_ACTIONS`: actions answered by a JSON POST.
    pub post_actions: bool,
    /// `OIDC_ISSUER` and its client: links bound to verified approvers.
    pub sign_in: bool,
    /// `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET`: presses in Slack, whose
    /// signed requests name the person, and `requester` as a Slack user.
    pub slack: bool,
}
