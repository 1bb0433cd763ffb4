//! What a receiver gets: the contract's headers, and a signature that an independent Standard Webhooks
//! implementation (the `standardwebhooks` crate) accepts.

mod common;

use claims::{assert_err, assert_ok};
use common::{Delivery, Receiver, Reply, sender};
use taskflow_adapters_webhooks::{USER_AGENT, sign};
use taskflow_application::ports::WebhookSender;

#[tokio::test]
async fn a_delivery_verifies_with_the_standardwebhooks_crate() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(204)).await;
    let delivery = Delivery::to(&receiver.url("/hook"));

    // Act
    sender(true).send(delivery.outgoing()).await;

    // Assert
    let [got] = receiver.received().try_into().expect("exactly one request");
    let verifier = standardwebhooks::Webhook::new(&delivery.secret.expose()).expect("a whsec_ secret");
    assert_ok!(verifier.verify(&got.body, &got.headers));
}

#[tokio::test]
async fn the_standardwebhooks_crate_refuses_a_delivery_signed_with_another_secret_or_altered() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(204)).await;
    let delivery = Delivery::to(&receiver.url("/hook"));
    sender(true).send(delivery.outgoing()).await;
    let [got] = receiver.received().try_into().expect("exactly one request");

    // Act
    let other = Delivery::to(&receiver.url("/hook"));
    let wrong_secret = standardwebhooks::Webhook::new(&other.secret.expose()).unwrap().verify(&got.body, &got.headers);
    let mut altered = got.body.to_vec();
    altered.push(b' ');
    let altered_body =
        standardwebhooks::Webhook::new(&delivery.secret.expose()).unwrap().verify(&altered, &got.headers);

    // Assert
    assert_err!(wrong_secret);
    assert_err!(altered_body);
}

#[tokio::test]
async fn every_header_of_the_contract_is_sent() {
    // Arrange
    let receiver = Receiver::start(Reply::Status(200)).await;
    let delivery = Delivery::to(&receiver.url("/hook?x=1"));

    // Act
    sender(true).send(delivery.outgoing()).await;

    // Assert
    let [got] = receiver.received().try_into().expect("exactly one request");
    let header = |name: &str| got.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    let ts = delivery.timestamp.timestamp();
    let expected = [
        ("webhook-id", delivery.message_id.to_string()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", sign(&delivery.secret, &delivery.message_id.to_string(), ts, &delivery.body)),
        ("content-type", "application/json".to_owned()),
        ("user-agent", USER_AGENT.to_owned()),
        ("taskflow-event", "task.completed".to_owned()),
        ("taskflow-delivery", delivery.delivery_id.to_string()),
    ];
    for (name, value) in expected {
        assert_eq!(header(name), Some(value), "header {name}");
    }
    assert!(USER_AGENT.starts_with("TaskFlow-Webhooks/"));
    assert_eq!(got.body.as_ref(), delivery.body.as_slice(), "the body is sent exactly as signed");
}
