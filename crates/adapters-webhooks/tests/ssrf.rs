//! The SSRF guard: loopback and other private receivers are refused unless private addresses are allowed, for
//! IP-literal hosts, numeric forms and names that resolve to them, both when a URL is vetted and on every attempt.

mod common;

use claims::assert_ok;
use common::{Delivery, Receiver, Reply, sender};
use taskflow_application::ports::{UrlRefusal, WebhookSender};
use taskflow_domain::webhook::{AttemptOutcome, FailureClass, WebhookUrl};

fn refused(outcome: AttemptOutcome) -> bool {
    matches!(outcome, AttemptOutcome::Failed { class: FailureClass::AddressNotAllowed, status: None, .. })
}

#[tokio::test]
async fn a_loopback_receiver_is_refused_when_private_addresses_are_not_allowed() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(200)).await;
    let port = receiver.addr.port();
    let urls = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        format!("http://017700000001:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ];
    let sender = sender(false);

    for url in urls {
        // Act
        let outcome = sender.send(Delivery::to(&url).outgoing()).await;

        // Assert
        assert!(refused(outcome), "{url}: {outcome:?}");
    }
    assert!(receiver.received().is_empty(), "a refused receiver must receive nothing");
}

#[tokio::test]
async fn the_same_loopback_receiver_is_called_when_private_addresses_are_allowed() {
    let receiver = Receiver::start(Reply::Status(200)).await;

    let outcome = sender(true).send(Delivery::to(&receiver.url("/hook")).outgoing()).await;

    assert!(outcome.is_success(), "{outcome:?}");
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(200)).await;
    let url = format!("http://localhost:{}/hook", receiver.addr.port());

    // Act
    let refused_outcome = sender(false).send(Delivery::to(&url).outgoing()).await;
    let received_when_refused = receiver.received().len();
    let allowed_outcome = sender(true).send(Delivery::to(&url).outgoing()).await;

    // Assert
    assert!(refused(refused_outcome), "{refused_outcome:?}");
    assert_eq!(received_when_refused, 0, "a refused receiver must receive nothing");
    assert!(allowed_outcome.is_success(), "the same name is called when allowed: {allowed_outcome:?}");
}

#[tokio::test]
async fn vetting_refuses_every_non_public_literal_and_numeric_form() {
    let cases = [
        ("http://127.0.0.1/", "loopback"),
        ("http://2130706433/", "decimal loopback"),
        ("http://0x7f.1/", "hex loopback"),
        ("http://017700000001/", "octal loopback"),
        ("http://[::1]/", "v6 loopback"),
        ("http://[::ffff:127.0.0.1]/", "v4-mapped loopback"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://[fd00:ec2::254]/", "v6 metadata"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://192.0.2.1/", "documentation"),
        ("http://[fe80::1]/", "v6 link-local"),
        ("http://[fc00::1]/", "v6 unique-local"),
    ];
    let sender = sender(false);
    for (raw, class) in cases {
        let url = WebhookUrl::parse(raw).unwrap();
        assert_eq!(sender.vet(&url).await, Err(UrlRefusal::AddressNotAllowed), "{raw} ({class})");
    }
}

#[tokio::test]
async fn vetting_refuses_a_name_that_resolves_to_loopback() {
    let url = WebhookUrl::parse("http://localhost:8080/hook").unwrap();

    assert_eq!(sender(false).vet(&url).await, Err(UrlRefusal::AddressNotAllowed));
    assert_ok!(sender(true).vet(&url).await);
}

#[tokio::test]
async fn vetting_refuses_a_name_that_does_not_resolve() {
    let url = WebhookUrl::parse("https://does-not-exist.invalid/hook").unwrap();

    assert_eq!(sender(false).vet(&url).await, Err(UrlRefusal::Unresolvable));
    assert_eq!(sender(true).vet(&url).await, Err(UrlRefusal::Unresolvable));
}

#[tokio::test]
async fn vetting_accepts_public_literals_and_private_ones_when_allowed() {
    let public = ["https://93.184.215.14/hook", "https://[2606:4700:4700::1111]/hook", "http://8.8.8.8:8080/"];
    for raw in public {
        assert_ok!(sender(false).vet(&WebhookUrl::parse(raw).unwrap()).await, "{raw}");
    }
    assert_ok!(sender(true).vet(&WebhookUrl::parse("http://10.0.0.1/").unwrap()).await);
}
