//! The HTTP server under hostile clients: half-sent headers, stalled bodies, too many requests at once, and a
//! shutdown that must finish within its grace period whatever the clients do (issue 7, point 2, and overload).

use std::time::{Duration, Instant};

use taskflow::Config;
use taskflow::backends;
use taskflow::startup::app_state;
use taskflow_adapters_http::router;
use taskflow_adapters_http::server::{Drained, ServerSettings, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A served embedded-mode TaskFlow with adjustable HTTP settings; dropping `stop` ends it.
struct Served {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
    done: tokio::task::JoinHandle<Drained>,
}

async fn serve_with(server: ServerSettings, adjust: impl FnOnce(&mut taskflow_adapters_http::AppState)) -> Served {
    let config = Config { port: 0, worker: false, ..Config::default() };
    let backends = backends::build(&config).await.expect("embedded backends");
    let mut state = app_state(&backends, &config);
    adjust(&mut state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let done = tokio::spawn(async move {
        let _keep = backends;
        serve(listener, router(state), server, async move { signal.cancelled().await }).await
    });
    Served { addr, stop, done }
}

/// Sends `raw` and reads until the server closes or answers completely (`Connection: close` is always asked).
async fn exchange(addr: std::net::SocketAddr, raw: &str, wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, conn.read_to_end(&mut answer)).await;
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_headers_is_closed_after_the_header_timeout() {
    // Arrange
    let settings = ServerSettings { header_read_timeout: Duration::from_secs(1), ..ServerSettings::default() };
    let served = serve_with(settings, |_| {}).await;

    // Act
    let (answer, took) =
        exchange(served.addr, "GET /health/live HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(10)).await;

    // Assert
    assert!(took < Duration::from_secs(5), "closed after about the header timeout, not held open: {took:?}");
    assert!(!answer.contains("200 OK"), "no request was served: {answer}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_answered_408_as_a_problem() {
    // Arrange
    let served = serve_with(ServerSettings::default(), |s| s.settings.body_timeout = Duration::from_secs(1)).await;
    let raw = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\
               Connection: close\r\n\r\n{\"email\":";

    // Act
    let (answer, took) = exchange(served.addr, raw, Duration::from_secs(10)).await;

    // Assert
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-request-id:"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_in_flight_bound_requests_are_shed_with_503_and_retry_after_and_served_again_after() {
    // Arrange: 2 requests may be in flight; two clients hold theirs open by stalling their bodies
    let served = serve_with(ServerSettings::default(), |s| {
        s.settings.max_in_flight = 2;
        s.settings.body_timeout = Duration::from_secs(2);
    })
    .await;
    let stalled = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\
                   Connection: close\r\n\r\n{";
    let holders: Vec<_> =
        (0..2).map(|_| tokio::spawn(exchange(served.addr, stalled, Duration::from_secs(10)))).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live = "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // Act
    let (shed, _) = exchange(served.addr, live, Duration::from_secs(5)).await;
    for holder in holders {
        let (answer, _) = holder.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "the holders time out on their own: {answer}");
    }
    let (after, _) = exchange(served.addr, live, Duration::from_secs(5)).await;

    // Assert
    assert!(shed.starts_with("HTTP/1.1 503"), "{shed}");
    assert!(shed.to_ascii_lowercase().contains("retry-after:"), "{shed}");
    assert!(shed.contains("application/problem+json"), "{shed}");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_within_the_grace_period_even_with_a_half_sent_request_open() {
    // Arrange
    let settings = ServerSettings { shutdown_grace: Duration::from_secs(1), ..ServerSettings::default() };
    let served = serve_with(settings, |_| {}).await;
    let mut half = TcpStream::connect(served.addr).await.unwrap();
    half.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act
    let started = Instant::now();
    served.stop.cancel();
    let drained = tokio::time::timeout(Duration::from_secs(10), served.done).await.expect("ends").unwrap();
    let took = started.elapsed();

    // Assert
    assert_eq!(drained, Drained::Forced(1));
    assert!(took < Duration::from_secs(3), "within the grace period (1 s) and a margin: {took:?}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), half.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(_)) | Ok(Err(_))), "the half-open connection was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_request_finish_and_then_refuses_connections() {
    // Arrange: an application whose stop token the test holds
    let config = Config { port: 0, worker: false, shutdown_grace_secs: 5, ..Config::default() };
    let app = taskflow::Application::build(&config).await.unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", app.port()).parse().unwrap();
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(stop.clone()));
    // A request in flight when the signal comes: its body arrives only after shutdown began.
    let mut inflight = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"email":"user@example.com","password":"user123"}"#;
    let head = format!(
        "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    inflight.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    inflight.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), inflight.read_to_end(&mut answer)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), running).await.expect("stops").unwrap();

    // Assert
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "the in-flight login completed: {answer}");
    assert!(stopped.is_ok());
    assert!(TcpStream::connect(addr).await.is_err(), "no new connection is accepted after the drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_503_draining_from_the_moment_shutdown_begins() {
    // Arrange
    let served = serve_with(ServerSettings::default(), |s| s.health.start_draining()).await;
    let ready = "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let live = "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // Act
    let (ready, _) = exchange(served.addr, ready, Duration::from_secs(5)).await;
    let (live, _) = exchange(served.addr, live, Duration::from_secs(5)).await;

    // Assert
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains(r#""status":"draining""#), "{ready}");
    assert!(live.starts_with("HTTP/1.1 200"), "still alive while draining: {live}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_refuses_before_routing_are_answered_as_problems_with_a_request_id() {
    // Arrange
    let served = serve_with(ServerSettings::default(), |_| {}).await;
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(64 * 1024));
    let headers: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many_headers = format!("GET /health/live HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    let cases = [(long_uri, "414"), (many_headers, "431"), ("GARBAGE\r\n\r\n".to_owned(), "400")];

    for (raw, status) in cases {
        // Act
        let (answer, _) = exchange(served.addr, &raw, Duration::from_secs(5)).await;

        // Assert
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("content-type: application/problem+json"), "{answer}");
        let id = lower.split("x-request-id: ").nth(1).and_then(|r| r.split("\r\n").next()).expect("a request id");
        let body: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["status"].to_string(), status);
        assert_eq!(body["requestId"], id, "the body names the same request id as the header");
    }
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_with_prior_knowledge_is_served_on_the_same_port_as_http1() {
    // Arrange
    let served = serve_with(ServerSettings::default(), |_| {}).await;
    let client = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();

    // Act
    let response = client.get(format!("http://{}/health/live", served.addr)).send().await.unwrap();
    let (http1, _) = exchange(
        served.addr,
        "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;

    // Assert
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(http1.starts_with("HTTP/1.1 200"), "{http1}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pausing_inside_its_first_bytes_is_served_in_the_protocol_it_speaks() {
    // Arrange: "P" starts both the HTTP/2 preface and an HTTP/1 PATCH; "PRI * HTTP" is most of the preface.
    let served = serve_with(ServerSettings::default(), |_| {}).await;
    let preface: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let empty_settings: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

    // Act
    let mut http1 = TcpStream::connect(served.addr).await.unwrap();
    http1.write_all(b"P").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    http1.write_all(b"ATCH /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), http1.read_to_end(&mut answer)).await.unwrap().unwrap();
    let mut http2 = TcpStream::connect(served.addr).await.unwrap();
    http2.write_all(&preface[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    http2.write_all(&[&preface[10..], empty_settings].concat()).await.unwrap();
    let mut frame = [0_u8; 9];
    tokio::time::timeout(Duration::from_secs(5), http2.read_exact(&mut frame)).await.unwrap().unwrap();

    // Assert
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 405"), "an HTTP/1 answer to PATCH on a GET route: {answer}");
    assert_eq!(frame[3], 4, "the server's first HTTP/2 frame is its SETTINGS: {frame:?}");
    served.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    // Arrange
    let settings = ServerSettings { header_read_timeout: Duration::from_secs(1), ..ServerSettings::default() };
    let served = serve_with(settings, |_| {}).await;

    // Act
    let (answer, took) = exchange(served.addr, "", Duration::from_secs(10)).await;

    // Assert
    assert!(took < Duration::from_secs(5), "closed after about the header timeout, not held open: {took:?}");
    assert!(answer.is_empty(), "{answer}");
    served.stop.cancel();
}
