//! Graceful shutdown drains in-flight requests: a reset request that is still being answered
//! when SIGTERM arrives (every request answers no sooner than the engine's constant-time
//! floor) gets its normal answer, and the process then exits cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::RunningDemo;

/// Sends one HTTP/1.1 request on `stream` (kept alive) and returns the status line.
fn send(stream: &mut TcpStream, request: &str) {
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
}

fn read_response(reader: &mut BufReader<TcpStream>) -> (String, String) {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_request_in_flight_at_sigterm_is_answered_before_exit() {
    let demo = RunningDemo::start(&[], &[]);
    let host = demo.base.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);

    // The connection is established and served (keep-alive) before anything else happens.
    send(
        &mut writer,
        &format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    );
    assert!(read_response(&mut reader).0.contains(" 200 "));

    let body = r#"{"client_id":"acme-shop-ios","email":"ada@acme-shop.example.com"}"#;
    send(
        &mut writer,
        &format!(
            "POST /v1/password-resets HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    // Sequencing, not timing: the handler is now inside its constant-time floor.
    std::thread::sleep(Duration::from_millis(30));
    assert!(demo.terminate());
    let (status, answer) = read_response(&mut reader);
    assert!(status.contains(" 202 "), "{status} {answer}");
    assert!(answer.contains("flow_id"), "{answer}");
    let (_, logs) = demo.stop();
    assert!(logs.contains("requests drained"), "{logs}");
}
