//! [`HttpWebhookSender`]: the [`WebhookSender`] port over one pooled hyper client.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper::{Method, Request, Response};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use taskflow_application::ports::{OutgoingWebhook, UrlRefusal, WebhookSender};
use taskflow_domain::webhook::{AttemptOutcome, FailureClass, WebhookUrl, WebhookUrlHost};
use tokio::time::{Instant, timeout_at};

use crate::classify;
use crate::resolver::PublicOnlyResolver;
use crate::settings::WebhookSenderSettings;
use crate::signing::sign;

type Connector = HttpsConnector<HttpConnector<PublicOnlyResolver>>;

/// Posts signed webhook deliveries over HTTP/1.1.
///
/// One pooled client, so connections to a receiver are reused. Redirects are never followed (hyper's client does
/// not follow them). No proxy is used: it would connect on our behalf to addresses the resolver never saw. TLS is
/// rustls on ring with Mozilla's root certificates.
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: Client<Connector, Full<Bytes>>,
    resolver: PublicOnlyResolver,
    settings: Arc<WebhookSenderSettings>,
}

/// The name the sender was planned under, when it was to sit on reqwest (see the crate docs for why it does not).
pub type ReqwestWebhookSender = HttpWebhookSender;

/// Why the sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderBuildError {
    /// The TLS configuration was refused.
    #[error("webhook sender TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

impl HttpWebhookSender {
    /// How long an idle pooled connection is kept.
    pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

    /// A sender with these settings.
    ///
    /// # Errors
    /// [`SenderBuildError`] when the TLS configuration cannot be built.
    pub fn new(settings: WebhookSenderSettings) -> Result<Self, SenderBuildError> {
        let resolver = PublicOnlyResolver::new(settings.allow_private);
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout.min(settings.timeout)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Self::POOL_IDLE_TIMEOUT)
            .build(https);
        Ok(Self { client, resolver, settings: Arc::new(settings) })
    }

    /// The settings it was built with.
    #[must_use]
    pub fn settings(&self) -> &WebhookSenderSettings {
        &self.settings
    }

    fn request(&self, out: &OutgoingWebhook<'_>) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
        let message_id = out.message_id.to_string();
        let timestamp = out.timestamp.timestamp();
        let signature = sign(out.secret, &message_id, timestamp, out.body);
        Request::builder()
            .method(Method::POST)
            .uri(out.url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, self.settings.user_agent.as_str())
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("TaskFlow-Event", out.event.as_str())
            .header("TaskFlow-Delivery", out.delivery_id.to_string())
            .body(Full::new(Bytes::copy_from_slice(out.body)))
    }

    /// Reads (and drops) at most `max_response_bytes` of the answer before `deadline`, so that a short answer frees
    /// its connection for reuse while a long or slow one cannot keep us. The body is never kept or logged.
    async fn drain(&self, response: Response<Incoming>, deadline: Instant) {
        let mut body = response.into_body();
        let mut read = 0;
        while read < self.settings.max_response_bytes {
            match timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => read += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    }
}

fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn elapsed_ms(started: Instant) -> u32 {
    u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX)
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    #[tracing::instrument(name = "webhook.send", skip_all, fields(delivery_id = %request.delivery_id))]
    async fn send(&self, request: OutgoingWebhook<'_>) -> AttemptOutcome {
        let started = Instant::now();
        let deadline = started + self.settings.timeout;
        // The connector does not resolve IP literals, so the resolver never sees them: judge them here.
        if let WebhookUrlHost::Ip(ip) = request.url.host()
            && !self.resolver.allows(ip)
        {
            return classify::failed(FailureClass::AddressNotAllowed, None, None, elapsed_ms(started));
        }
        let Ok(http_request) = self.request(&request) else {
            // A WebhookUrl is always a valid URI; nothing else in the request can be refused.
            return classify::failed(FailureClass::Other, None, None, elapsed_ms(started));
        };

        let outcome = match timeout_at(deadline, self.client.request(http_request)).await {
            Err(_elapsed) => classify::failed(FailureClass::Timeout, None, None, elapsed_ms(started)),
            Ok(Err(err)) => classify::from_error(&err, elapsed_ms(started)),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                self.drain(response, deadline).await;
                classify::from_status(status, retry_after.as_deref(), SystemTime::now(), elapsed_ms(started))
            }
        };
        tracing::debug!(?outcome, "webhook attempt made");
        outcome
    }

    #[tracing::instrument(name = "webhook.vet", skip_all)]
    async fn vet(&self, url: &WebhookUrl) -> Result<(), UrlRefusal> {
        let allowed = match url.host() {
            WebhookUrlHost::Ip(ip) => self.resolver.allows(ip),
            WebhookUrlHost::Domain(name) => {
                // Stricter than at send time: one refused address among several refuses the URL, since the
                // resolver would silently skip it and the owner should hear about it now.
                let resolved = tokio::time::timeout(self.settings.timeout, PublicOnlyResolver::resolve_all(name))
                    .await
                    .map_err(|_| UrlRefusal::Unresolvable)?
                    .map_err(|_| UrlRefusal::Unresolvable)?;
                resolved.into_iter().all(|ip| self.resolver.allows(ip))
            }
        };
        if allowed { Ok(()) } else { Err(UrlRefusal::AddressNotAllowed) }
    }
}
