//! The text parts of a raw message as the SMTP sink received it, decoded
//! (7bit, quoted-printable or base64), so tests read what a recipient reads.

use base64::Engine as _;

/// The decoded text/plain part of `data` (empty when there is none).
pub fn plain_text(data: &str) -> String {
    text_part(data, "text/plain")
}

/// The decoded text/html part of `data` (empty when there is none).
pub fn html_text(data: &str) -> String {
    text_part(data, "text/html")
}

/// The decoded body of the first part whose type starts with `content_type`.
pub fn text_part(data: &str, content_type: &str) -> String {
    decoded_parts(data)
        .into_iter()
        .find(|(ct, _)| ct.starts_with(content_type))
        .map(|(_, body)| body)
        .unwrap_or_default()
}

/// (lowercased content type, decoded body) of each `text/*` leaf part.
pub fn decoded_parts(data: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    for chunk in data.split("\r\n--") {
        let Some((head, body)) = chunk.split_once("\r\n\r\n") else {
            continue;
        };
        let header = |name: &str| {
            head.split("\r\n")
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_ascii_lowercase())
                })
                .unwrap_or_default()
        };
        let ct = header("content-type");
        if !ct.starts_with("text/") {
            continue;
        }
        let body = body.split("\r\n--").next().unwrap_or(body);
        let decoded = match header("content-transfer-encoding").as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "base64" => {
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(joined)
                        .unwrap_or_default(),
                )
                .unwrap_or_default()
            }
            _ => body.to_owned(),
        };
        parts.push((ct, decoded));
    }
    parts
}

/// A quoted-printable body decoded: soft line breaks joined, `=XX` escapes replaced.
pub fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
