//! The webhook sender adapter: signs deliveries the Standard Webhooks way and posts them with hyper's pooled client,
//! never following redirects, within a timeout, and only to public addresses.
//!
//! The SSRF guard works at two points. IP-literal hosts are judged before any request is made. Host names are
//! resolved by [`PublicOnlyResolver`], which the connector calls for every new connection and which drops every
//! address that [`taskflow_domain::webhook::address::is_public`] refuses, so a name that is re-pointed at a private
//! address after the webhook was vetted (DNS rebinding) is still never connected to.
//!
//! Why hyper and not reqwest: reqwest's TLS comes from its cargo features, and features unify across the workspace.
//! `rustls` brings aws-lc, and `rustls-no-provider` makes every `reqwest::Client::new()` in the same build (the
//! test clients of `bootstrap` and `tests/`) panic unless a rustls provider was installed process-wide first. With
//! hyper-util and hyper-rustls, this crate's TLS (rustls on ring) is its own and touches no other client.

mod classify;
mod resolver;
mod sender;
mod settings;
mod signing;

pub use resolver::PublicOnlyResolver;
pub use sender::{HttpWebhookSender, ReqwestWebhookSender, SenderBuildError};
pub use settings::WebhookSenderSettings;
pub use signing::{USER_AGENT, sign};
