use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType,
};

use super::*;

fn client(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.addr().ip().to_string())
        .port(sink.addr().port())
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn message(body: &str) -> Message {
    Message::builder()
        .from("Acme <no-reply@acme.test>".parse().unwrap())
        .to("user@example.test".parse().unwrap())
        .subject("Reset your password")
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .unwrap()
}

#[tokio::test]
async fn a_real_smtp_client_delivers_to_the_sink() {
    let sink = SmtpSink::start().await.unwrap();
    client(&sink)
        .send(message("hello\n.leading dot\n"))
        .await
        .unwrap();
    let received = sink.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, "no-reply@acme.test");
    assert_eq!(received[0].rcpt_to, vec!["user@example.test".to_owned()]);
    assert_eq!(
        received[0].header("subject").as_deref(),
        Some("Reset your password")
    );
    assert!(
        received[0].data.contains("\r\n.leading dot\r\n"),
        "dot-stuffing is undone"
    );
}

#[tokio::test]
async fn down_and_transient_modes_fail_the_send_and_keep_nothing() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_mode(Mode::Down);
    let down = client(&sink).send(message("x")).await.unwrap_err();
    assert!(down.is_transient() || down.is_permanent() || down.to_string().contains("421"));

    sink.set_mode(Mode::RejectTransient);
    let rejected = client(&sink).send(message("x")).await.unwrap_err();
    assert!(
        rejected.is_transient(),
        "451 is a transient failure: {rejected}"
    );
    assert!(sink.received().is_empty());

    sink.set_mode(Mode::Accept);
    client(&sink).send(message("x")).await.unwrap();
    assert_eq!(sink.received().len(), 1);
}
