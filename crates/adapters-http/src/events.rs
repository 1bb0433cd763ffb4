//! `GET /events`: the live events the caller may see, as server-sent events (`id:` the event's id, `event:` its type,
//! `data:` the Event JSON of the task history), with a keep-alive comment when nothing else was sent for a while.
//!
//! The body is written here rather than with axum's `Sse`, for what a stream costs per event: every frame of the
//! body is a wake-up of the connection, a `send` and, on loopback, the receiving side's TCP too, whatever its size.
//! So the body sends all the events that are ready when it is polled as one frame (a busy hub hands a stream what
//! committed within its batch interval at once), each event's text is made once and copied by every stream that
//! sends it, and the keep-alive timer is re-armed when it fires rather than at every event (`Sse` resets it per
//! event, a lock on the runtime's timer wheel each time).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use futures::{Stream, StreamExt as _};
use taskflow_application::auth::Credentials;
use taskflow_application::error::AppError;
use taskflow_application::events::{LiveEvent, OnSlow, Viewer};
use tokio::time::{Instant, Sleep};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::server::ConnectionCloser;
use crate::tasks::history::EventOut;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(follow))
}

/// The request header a reconnecting client names its last event with.
static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The comment sent after a silence of the keep-alive interval.
const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// The most one frame of the body carries; more ready events wait for the next frame.
const MAX_FRAME: usize = 64 * 1024;

/// One event as SSE: `id`, `event` and `data` lines and the blank line that ends it; made once, by the first stream
/// sending the event, and shared by all the others.
fn frame(live: &LiveEvent) -> &str {
    live.encoded(|e| {
        // An event of strings, numbers and timestamps always serialises, and compact JSON has no line break in it.
        let data = serde_json::to_string(&EventOut::from(e)).unwrap_or_default();
        format!("id: {}\nevent: {}\ndata: {data}\n\n", e.id, e.kind.as_str())
    })
}

/// The body of an event stream: the frames of every event ready when polled, as one chunk (at most [`MAX_FRAME`]
/// bytes, or one event); a keep-alive comment once nothing was sent for `keep_alive`. After an error it sends what
/// it had, then fails, so that the connection is cut and the client resumes with the last id it got.
struct EventBody<S> {
    events: S,
    keep_alive: Duration,
    /// Fires at the earliest moment a keep-alive may be due: re-armed when it fires, not when an event is sent.
    timer: Pin<Box<Sleep>>,
    last_sent: Instant,
    failed: Option<AppError>,
    ended: bool,
}

impl<S: Stream<Item = Result<Arc<LiveEvent>, AppError>> + Unpin> EventBody<S> {
    fn new(events: S, keep_alive: Duration) -> Self {
        let now = Instant::now();
        Self {
            events,
            keep_alive,
            timer: Box::pin(tokio::time::sleep_until(now + keep_alive)),
            last_sent: now,
            failed: None,
            ended: false,
        }
    }

    /// The frames of the events ready now, until the stream is pending, ends or fails, or the chunk is full.
    fn ready_frames(&mut self, cx: &mut Context<'_>) -> Vec<u8> {
        let mut chunk = Vec::new();
        while chunk.len() < MAX_FRAME && !self.ended {
            match self.events.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(live))) => chunk.extend_from_slice(frame(&live).as_bytes()),
                Poll::Ready(Some(Err(error))) => {
                    self.failed = Some(error);
                    self.ended = true;
                }
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => break,
            }
        }
        chunk
    }

    /// Whether the keep-alive comment is due now; if not, the timer is set for when it may be.
    fn keep_alive_due(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last_sent + self.keep_alive;
            if Instant::now() >= due {
                return true;
            }
            self.timer.as_mut().reset(due);
        }
    }
}

impl<S: Stream<Item = Result<Arc<LiveEvent>, AppError>> + Unpin> Stream for EventBody<S> {
    type Item = Result<Bytes, AppError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let chunk = this.ready_frames(cx);
        if !chunk.is_empty() {
            this.last_sent = Instant::now();
            return Poll::Ready(Some(Ok(Bytes::from(chunk))));
        }
        if this.ended {
            return Poll::Ready(this.failed.take().map(Err));
        }
        if this.keep_alive_due(cx) {
            let now = Instant::now();
            this.last_sent = now;
            this.timer.as_mut().reset(now + this.keep_alive);
            return Poll::Ready(Some(Ok(Bytes::from_static(KEEP_ALIVE))));
        }
        Poll::Pending
    }
}

/// Follow the events of the tasks the caller may see (an admin: all), as they are published by any instance,
/// as `text/event-stream`: each event is `id: <event id>`, `event: <type>`, `data: <Event JSON>`, and a comment
/// line is sent after 15 s without one. A client that reconnects with `Last-Event-ID` first gets every event it may
/// see after that one, then the live ones, with no gap and no duplicate. The stream ends when the access token it
/// was opened with expires (reconnect with a fresh one), when the user is deleted, and when the instance shuts down;
/// a client that does not keep up is disconnected (it resumes with `Last-Event-ID`). Opening counts once against
/// the rate limit; a user may hold 128 streams at once on one instance. Events that are ready together are sent
/// together, in one chunk; an instance whose streams are busy (one read of the log fanning out to 64 deliveries or
/// more) reads at most every 50 ms (`EVENT_BATCH_MS`), so its events may arrive up to 50 ms later, in batches.
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
    let body = Body::from_stream(EventBody::new(stream, state.settings.event_keep_alive));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies that buffer responses (nginx) would hold the events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use futures::FutureExt as _;
    use futures::channel::mpsc;
    use taskflow_application::domain::events::DomainEvent;
    use taskflow_application::domain::ports::FeedPosition;
    use taskflow_application::domain::task::{NewTask, Task, TaskTitle};
    use taskflow_application::domain::{EventId, RepoError, TaskId, UserId};
    use uuid::Uuid;

    use super::*;

    type Sent = Result<Arc<LiveEvent>, AppError>;

    fn event(n: u64) -> Arc<LiveEvent> {
        let owner = UserId::from_uuid(Uuid::from_u128(7));
        let at = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let task = Task::new(
            NewTask::new(TaskTitle::parse("Write tests").unwrap()),
            owner,
            TaskId::from_uuid(Uuid::from_u128(9)),
            at,
        );
        let id = EventId::from_uuid(Uuid::from_u128(u128::from(n)));
        Arc::new(LiveEvent::new(FeedPosition::new(n), DomainEvent::created(id, &task, owner, at)))
    }

    /// The SSE text of `live`, made here the long way.
    fn expected(live: &LiveEvent) -> String {
        let data = serde_json::to_string(&EventOut::from(&live.event)).unwrap();
        format!("id: {}\nevent: task.created\ndata: {data}\n\n", live.event.id)
    }

    fn body(keep_alive: Duration) -> (mpsc::UnboundedSender<Sent>, EventBody<mpsc::UnboundedReceiver<Sent>>) {
        let (tx, rx) = mpsc::unbounded();
        (tx, EventBody::new(rx, keep_alive))
    }

    fn text(chunk: Option<Result<Bytes, AppError>>) -> String {
        String::from_utf8(chunk.expect("a chunk").expect("not an error").to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_events_ready_when_polled_go_out_as_one_chunk_in_order_each_as_id_event_and_data() {
        let (tx, mut body) = body(Duration::from_secs(15));
        let events: Vec<_> = (1..=3).map(event).collect();
        for e in &events {
            tx.unbounded_send(Ok(Arc::clone(e))).unwrap();
        }
        let all: String = events.iter().map(|e| expected(e)).collect();
        assert_eq!(text(body.next().await), all, "three ready events, one chunk");
        assert!(body.next().now_or_never().is_none(), "nothing more until another event");
        let fourth = event(4);
        tx.unbounded_send(Ok(Arc::clone(&fourth))).unwrap();
        assert_eq!(text(body.next().await), expected(&fourth));
    }

    #[tokio::test]
    async fn a_chunk_stops_at_its_size_bound_and_the_rest_follows() {
        let (tx, mut body) = body(Duration::from_secs(15));
        let frame_len = expected(&event(1)).len();
        let count = MAX_FRAME / frame_len + 10;
        for n in 1..=count {
            tx.unbounded_send(Ok(event(n as u64))).unwrap();
        }
        let first = text(body.next().await);
        assert!(first.len() >= MAX_FRAME && first.len() < MAX_FRAME + frame_len, "{} bytes", first.len());
        let rest = text(body.next().await);
        assert_eq!((first.len() + rest.len()) / frame_len, count, "every event once");
    }

    #[tokio::test]
    async fn an_error_ends_the_body_after_the_events_before_it() {
        let (tx, mut body) = body(Duration::from_secs(15));
        let first = event(1);
        tx.unbounded_send(Ok(Arc::clone(&first))).unwrap();
        tx.unbounded_send(Err(AppError::Unavailable(RepoError::unavailable("feed down")))).unwrap();
        tx.unbounded_send(Ok(event(2))).unwrap();
        assert_eq!(text(body.next().await), expected(&first));
        assert!(matches!(body.next().await, Some(Err(AppError::Unavailable(_)))));
        assert!(body.next().await.is_none(), "nothing after the error");
    }

    #[tokio::test(start_paused = true)]
    async fn a_keep_alive_comes_after_a_silence_of_the_interval_not_at_fixed_times() {
        let keep_alive = Duration::from_secs(15);
        let (tx, mut body) = body(keep_alive);
        let opened = Instant::now();
        tokio::time::advance(Duration::from_secs(10)).await;
        tx.unbounded_send(Ok(event(1))).unwrap();
        text(body.next().await);
        // The timer set at opening fires at 15 s; an event was sent at 10 s, so the comment waits until 25 s.
        assert_eq!(text(body.next().await), ": keep-alive\n\n");
        assert_eq!(opened.elapsed(), Duration::from_secs(25));
        assert_eq!(text(body.next().await), ": keep-alive\n\n");
        assert_eq!(opened.elapsed(), Duration::from_secs(40), "then one per interval of silence");
        drop(tx);
        assert!(body.next().await.is_none(), "the body ends with its events");
    }
}
