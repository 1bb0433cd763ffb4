//! `GET /events`: the live events the caller may see, as server-sent events (`id:` the event's id, `event:` its type,
//! `data:` the Event JSON of the task history), with a keep-alive comment when nothing else was sent for a while.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;
use taskflow_application::auth::Credentials;
use taskflow_application::events::{LiveEvent, OnSlow, Viewer};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::server::ConnectionCloser;
use crate::tasks::history::EventOut;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(follow))
}

/// The request header a reconnecting client names its last event with.
static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// One event as SSE: `id`, `event` and `data` lines; the JSON is made once and shared by every stream sending it.
fn frame(live: &LiveEvent) -> Event {
    // An event of strings, numbers and timestamps always serialises.
    let data = live.encoded(|e| serde_json::to_string(&EventOut::from(e)).unwrap_or_default());
    Event::default().id(live.event.id.to_string()).event(live.event.kind.as_str()).data(data)
}

/// Follow the events of the tasks the caller may see (an admin: all), as they are published by any instance,
/// as `text/event-stream`: each event is `id: <event id>`, `event: <type>`, `data: <Event JSON>`, and a comment
/// line is sent after 15 s without one. A client that reconnects with `Last-Event-ID` first gets every event it may
/// see after that one, then the live ones, with no gap and no duplicate. The stream ends when the access token it
/// was opened with expires (reconnect with a fresh one), when the user is deleted, and when the instance shuts down;
/// a client that does not keep up is disconnected (it resumes with `Last-Event-ID`). Opening counts once against
/// the rate limit; a user may hold 128 streams at once on one instance.
#[utoipa::path(get, path = "/events", tag = "events", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received; the stream resumes right after it.")),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String,
            example = json!("id: 0192b0a4-7f3e-7c5e-9c1a-3f0e6a1d2b4c\nevent: task.created\ndata: {\"id\":\"0192b0a4-7f3e-7c5e-9c1a-3f0e6a1d2b4c\",\"type\":\"task.created\",...}\n\n")),
        (status = 400, description = "`Last-Event-ID` is not the id of an event of this stream.", body = Problem),
        (status = 429, description = "The caller holds as many streams as they may (or the rate limit).",
            body = Problem),
        (status = 503, description = "The instance is starting, shutting down, or holds as many streams as it may.",
            body = Problem)))]
pub async fn follow(
    State(state): State<AppState>,
    credentials: Option<axum::Extension<Credentials>>,
    closer: Option<axum::Extension<ConnectionCloser>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let axum::Extension(credentials) = credentials.ok_or_else(ApiError::unauthenticated)?;
    let last = headers
        .get(&LAST_EVENT_ID)
        .map(|v| v.to_str().map_err(|_| ApiError::invalid("Last-Event-ID", "must be an event id")))
        .transpose()?;
    let viewer = Viewer { actor: credentials.actor, expires_at: credentials.expires_at };
    let on_slow = closer.map(|axum::Extension(closer)| Box::new(move || closer.close()) as OnSlow);
    let stream = state.live.open(viewer, last, on_slow).await?;
    let events = stream.map(|item| item.map(|live| frame(&live)));
    let keep_alive = KeepAlive::new().interval(state.settings.event_keep_alive).text("keep-alive");
    let mut response = Sse::new(events).keep_alive(keep_alive).into_response();
    // Proxies that buffer responses (nginx) would hold the events back.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
