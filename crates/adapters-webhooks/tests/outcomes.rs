//! Each kind of answer, or of missing answer, becomes the outcome class the contract names.

mod common;

use std::time::{Duration, SystemTime};

use chrono::TimeDelta;
use common::{Delivery, Receiver, Reply, closed_port, sender, sender_with_timeout};
use taskflow_application::ports::WebhookSender;
use taskflow_domain::webhook::{AttemptOutcome, FailureClass};

fn class(outcome: AttemptOutcome) -> Option<FailureClass> {
    match outcome {
        AttemptOutcome::Failed { class, .. } => Some(class),
        _ => None,
    }
}

async fn answer_to(reply: Reply) -> AttemptOutcome {
    let receiver = Receiver::start(reply).await;
    let outcome = sender(true).send(Delivery::to(&receiver.url("/hook")).outgoing()).await;
    assert_eq!(receiver.received().len(), 1, "the receiver got the request");
    outcome
}

#[tokio::test]
async fn a_2xx_answer_succeeds() {
    let outcome = answer_to(Reply::Status(202)).await;

    assert!(matches!(outcome, AttemptOutcome::Succeeded { status: 202, .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_500_answer_fails_with_status_500() {
    let outcome = answer_to(Reply::Status(500)).await;

    assert!(
        matches!(
            outcome,
            AttemptOutcome::Failed { class: FailureClass::Status(500), status: Some(500), retry_after: None, .. }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_410_answer_is_gone() {
    let outcome = answer_to(Reply::Status(410)).await;

    assert!(matches!(outcome, AttemptOutcome::Gone { .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_302_answer_is_a_redirect_failure_and_is_not_followed() {
    // Arrange
    let target = Receiver::start(Reply::Status(200)).await;
    let redirecting = Receiver::start(Reply::StatusWith(302, "location", target.url("/elsewhere"))).await;

    // Act
    let outcome = sender(true).send(Delivery::to(&redirecting.url("/hook")).outgoing()).await;

    // Assert
    assert_eq!(class(outcome), Some(FailureClass::Redirect(302)), "{outcome:?}");
    assert_eq!(redirecting.received().len(), 1);
    assert!(target.received().is_empty(), "the redirect target must receive nothing");
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_gives_that_delay() {
    let outcome = answer_to(Reply::StatusWith(429, "retry-after", "7".to_owned())).await;

    assert!(
        matches!(
            outcome,
            AttemptOutcome::Failed { class: FailureClass::Status(429), retry_after: Some(d), .. }
                if d == TimeDelta::seconds(7)
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_503_with_an_http_date_gives_the_delay_until_that_date() {
    // Arrange: two minutes ahead; HTTP-dates have whole seconds and the attempt takes some time.
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));

    // Act
    let outcome = answer_to(Reply::StatusWith(503, "retry-after", at)).await;

    // Assert
    let AttemptOutcome::Failed { class: FailureClass::Status(503), retry_after: Some(delay), .. } = outcome else {
        panic!("expected a 503 failure with a delay, got {outcome:?}");
    };
    assert!(delay > TimeDelta::seconds(100) && delay <= TimeDelta::seconds(120), "{delay}");
}

#[tokio::test]
async fn a_500_with_retry_after_ignores_it() {
    let outcome = answer_to(Reply::StatusWith(500, "retry-after", "7".to_owned())).await;

    assert!(matches!(outcome, AttemptOutcome::Failed { retry_after: None, .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_times_out() {
    // Arrange
    let receiver = Receiver::start(Reply::Never).await;
    let sender = sender_with_timeout(Duration::from_millis(200), true);

    // Act
    let outcome = sender.send(Delivery::to(&receiver.url("/hook")).outgoing()).await;

    // Assert
    assert_eq!(class(outcome), Some(FailureClass::Timeout), "{outcome:?}");
    assert_eq!(receiver.received().len(), 1, "the request reached the receiver");
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let url = format!("http://127.0.0.1:{}/hook", closed_port().await);

    let outcome = sender(true).send(Delivery::to(&url).outgoing()).await;

    assert_eq!(class(outcome), Some(FailureClass::ConnectionRefused), "{outcome:?}");
}

#[tokio::test]
async fn an_unresolvable_name_is_a_dns_failure() {
    let outcome = sender(false).send(Delivery::to("http://does-not-exist.invalid/").outgoing()).await;

    assert_eq!(class(outcome), Some(FailureClass::Dns), "{outcome:?}");
}

#[tokio::test]
async fn https_to_a_receiver_that_does_not_speak_tls_is_a_tls_failure() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(200)).await;
    let url = format!("https://{}/hook", receiver.addr);

    // Act
    let outcome = sender(true).send(Delivery::to(&url).outgoing()).await;

    // Assert
    assert_eq!(class(outcome), Some(FailureClass::Tls), "{outcome:?}");
}

#[tokio::test]
async fn an_endless_answer_body_is_not_read_to_its_end() {
    // Arrange: reading the whole body would only stop at the timeout.
    let receiver = Receiver::start(Reply::Endless).await;
    let timeout = Duration::from_secs(30);
    let sender = sender_with_timeout(timeout, true);

    // Act
    let outcome = sender.send(Delivery::to(&receiver.url("/hook")).outgoing()).await;

    // Assert
    let AttemptOutcome::Succeeded { status: 200, duration_ms } = outcome else {
        panic!("expected a success, got {outcome:?}");
    };
    assert!(u128::from(duration_ms) < timeout.as_millis(), "the attempt ended at the timeout: {duration_ms} ms");
}

#[tokio::test]
async fn attempts_to_one_receiver_reuse_the_connection() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(200)).await;
    let sender = sender(true);

    // Act
    for _ in 0..3 {
        sender.send(Delivery::to(&receiver.url("/hook")).outgoing()).await;
    }

    // Assert
    let peers: Vec<_> = receiver.received().iter().map(|r| r.peer).collect();
    assert_eq!(peers.len(), 3);
    assert!(peers.iter().all(|p| *p == peers[0]), "one connection expected, got {peers:?}");
}

#[tokio::test]
async fn a_receiver_that_closes_the_connection_without_answering_is_a_connection_failure() {
    // Arrange: accepts connections and drops them at once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });

    // Act
    let outcome = sender(true).send(Delivery::to(&url).outgoing()).await;

    // Assert
    assert_eq!(class(outcome), Some(FailureClass::Connection), "{outcome:?}");
}
