//! Real receivers on loopback ports, and deliveries to send them.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use taskflow_adapters_webhooks::{HttpWebhookSender, WebhookSenderSettings};
use taskflow_application::ports::OutgoingWebhook;
use taskflow_domain::events::TaskEventKind;
use taskflow_domain::webhook::{WebhookSecret, WebhookUrl};
use taskflow_domain::{DeliveryId, EventId};
use uuid::Uuid;

/// How a receiver answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, empty body.
    Status(u16),
    /// This status with one extra header.
    StatusWith(u16, &'static str, String),
    /// Never answers.
    Never,
    /// 200 with a body that never ends.
    Endless,
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: SocketAddr,
}

/// A webhook receiver on `127.0.0.1:<free port>`, recording every request before it answers.
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(reply: Reply) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let app = axum::Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request| {
            let log = Arc::clone(&log);
            let reply = reply.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
                log.lock().unwrap().push(Received { headers: parts.headers, body, peer });
                answer(reply).await
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.ok();
        });
        Self { addr, received }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer(reply: Reply) -> Response {
    match reply {
        Reply::Status(code) => status(code),
        Reply::StatusWith(code, name, value) => {
            let mut response = status(code);
            response.headers_mut().insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
            response
        }
        Reply::Never => std::future::pending().await,
        Reply::Endless => {
            let chunks = futures::stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from_static(&[b'x'; 8192])));
            Response::new(Body::from_stream(chunks))
        }
    }
}

fn status(code: u16) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(code).unwrap();
    response
}

/// Everything one attempt is made of, owned.
pub struct Delivery {
    pub url: WebhookUrl,
    pub secret: WebhookSecret,
    pub message_id: EventId,
    pub delivery_id: DeliveryId,
    pub event: TaskEventKind,
    pub timestamp: DateTime<Utc>,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn to(url: &str) -> Self {
        Self {
            url: WebhookUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}")),
            secret: WebhookSecret::from_key(rand_key()),
            message_id: EventId::from_uuid(Uuid::new_v4()),
            delivery_id: DeliveryId::from_uuid(Uuid::new_v4()),
            event: TaskEventKind::Completed,
            timestamp: Utc::now(),
            body: br#"{"id":"e","type":"task.completed","occurredAt":"2026-11-30T06:00:00Z","data":{"task":{}}}"#
                .to_vec(),
        }
    }

    pub fn outgoing(&self) -> OutgoingWebhook<'_> {
        OutgoingWebhook {
            url: &self.url,
            secret: &self.secret,
            message_id: self.message_id,
            delivery_id: self.delivery_id,
            event: self.event,
            timestamp: self.timestamp,
            body: &self.body,
        }
    }
}

fn rand_key() -> [u8; 32] {
    let mut key = [0; 32];
    key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    key
}

/// A sender with a 5 s timeout.
pub fn sender(allow_private: bool) -> HttpWebhookSender {
    sender_with_timeout(Duration::from_secs(5), allow_private)
}

pub fn sender_with_timeout(timeout: Duration, allow_private: bool) -> HttpWebhookSender {
    HttpWebhookSender::new(WebhookSenderSettings::new(timeout, allow_private)).expect("build the sender")
}

/// A loopback port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
