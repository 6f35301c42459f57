//! The answer table: every status and body BlueTape may send, and what each means.

use super::*;

#[test]
fn every_response_class() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let created = br#"{"blueTapeId":"fb56","signUpUrl":"https://x/s?id=1"}"#;
    let cases: Vec<(u16, Option<&str>, &[u8], Outcome)> = vec![
        (
            201,
            None,
            created,
            Outcome::Created {
                blue_tape_id: "fb56".into(),
                sign_up_url: Some("https://x/s?id=1".into()),
            },
        ),
        // Created all the same, without a URL that is not https:// or carries a control
        // character.
        (
            201,
            None,
            br#"{"blueTapeId":"fb56","signUpUrl":"http://x/s?id=1"}"#,
            Outcome::Created {
                blue_tape_id: "fb56".into(),
                sign_up_url: None,
            },
        ),
        (
            201,
            None,
            br#"{"blueTapeId":"fb56","signUpUrl":"https://x/s?id=1\u001b[2J"}"#,
            Outcome::Created {
                blue_tape_id: "fb56".into(),
                sign_up_url: None,
            },
        ),
        (
            413,
            None,
            br#"{"code":"413","reason":"Payload Too Large"}"#,
            Outcome::Rejected {
                reason: "413: BlueTape refused the record as too large".into(),
            },
        ),
        (
            413,
            None,
            b"<html>too big</html>",
            Outcome::Rejected {
                reason: "413: BlueTape refused the record as too large".into(),
            },
        ),
        (
            201,
            None,
            b"<html>",
            Outcome::Retry {
                reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                after: None,
            },
        ),
        (
            409,
            None,
            br#"{"code":"409","reason":"Customer already exists."}"#,
            Outcome::Exists,
        ),
        (
            400,
            None,
            br#"{"code":"BadRequest","reason":"Invalid phone"}"#,
            Outcome::Rejected {
                reason: "400: Invalid phone".into(),
            },
        ),
        (
            400,
            None,
            b"",
            Outcome::Rejected {
                reason: "400 Bad Request".into(),
            },
        ),
        (
            401,
            None,
            b"",
            Outcome::Unauthorized {
                reason: "401 Unauthorized".into(),
            },
        ),
        (
            403,
            None,
            br#"{"code":"forbidden"}"#,
            Outcome::Unauthorized {
                reason: "403: \"forbidden\"".into(),
            },
        ),
        (
            404,
            None,
            b"",
            Outcome::NotFound {
                reason: "404 Not Found".into(),
            },
        ),
        (
            500,
            None,
            b"oops",
            Outcome::Retry {
                reason: "500 Internal Server Error".into(),
                after: None,
            },
        ),
        (
            503,
            Some("7"),
            b"",
            Outcome::Retry {
                reason: "503 Service Unavailable".into(),
                after: Some(Duration::from_secs(7)),
            },
        ),
        (
            429,
            Some("Tue, 14 Nov 2023 22:13:30 GMT"),
            b"",
            Outcome::Retry {
                reason: "429 Too Many Requests".into(),
                after: Some(Duration::from_secs(10)),
            },
        ),
        (
            408,
            None,
            b"",
            Outcome::Retry {
                reason: "408 Request Timeout".into(),
                after: None,
            },
        ),
        (
            302,
            None,
            b"",
            Outcome::Redirected {
                reason: "302 Found without a Location: check api.base_url".into(),
            },
        ),
        (
            200,
            None,
            created,
            Outcome::Retry {
                reason: "200 OK".into(),
                after: None,
            },
        ),
    ];
    for (status, retry_after, body, expected) in cases {
        let reply = Reply {
            status,
            retry_after,
            location: None,
            body,
        };
        assert_eq!(classify(reply, now), expected, "{status}");
    }
}

/// A response with `status` and `body`, nothing else.
pub(super) fn reply(status: u16, body: &[u8]) -> Reply<'_> {
    Reply {
        status,
        retry_after: None,
        location: None,
        body,
    }
}

#[test]
fn redirects_stop_and_say_where() {
    let now = SystemTime::UNIX_EPOCH;
    for status in [301, 302, 303, 307, 308] {
        let reply = Reply {
            location: Some("https://b.example/x"),
            ..reply(status, b"")
        };
        let Outcome::Redirected { reason } = classify(reply, now) else {
            panic!("{status} is not a redirect");
        };
        assert!(reason.starts_with(&format!("{status} ")), "{reason}");
        assert!(reason.ends_with("-> https://b.example/x"), "{reason}");
        assert!(matches!(
            classify_update(reply, now),
            Outcome::Redirected { .. }
        ));
        assert!(matches!(classify_sign_up(reply), SignUp::Redirected(_)));
    }
}

#[test]
fn only_an_unlisted_transient_answer_is_unexpected() {
    let now = SystemTime::UNIX_EPOCH;
    let answer = |status: Option<u16>| Answer {
        status,
        outcome: match status {
            Some(s) => classify(reply(s, b""), now),
            None => Outcome::Retry {
                reason: "timed out".into(),
                after: None,
            },
        },
    };
    // A 201 without the documented body, a 200, a teapot: retried, with a warning.
    for status in [Some(201), Some(200), Some(418)] {
        assert!(answer(status).is_unexpected(), "{status:?}");
    }
    // Transient as SPEC lists them, or not transient at all (a 3xx stops the pass).
    for status in [
        None,
        Some(408),
        Some(429),
        Some(500),
        Some(503),
        Some(302),
        Some(400),
    ] {
        assert!(!answer(status).is_unexpected(), "{status:?}");
    }
}

#[test]
fn only_https_urls_without_control_characters_are_safe() {
    let cases = [
        ("https://www.bluetape.com/signup?id=C1", true),
        ("HTTPS://www.bluetape.com/signup", true),
        ("http://www.bluetape.com/signup?id=C1", false),
        ("javascript:alert(1)", false),
        ("//www.bluetape.com/signup", false),
        ("https://www.bluetape.com/sign\nup", false),
        ("https://www.bluetape.com/sign\u{0}up", false),
        ("https://www.bluetape.com/signup\r\nSet-Cookie: x", false),
        ("https://www.bluetape.com/signup\tx", false),
        ("https://www.bluetape.com/signup\u{1b}[2J", false),
        ("https://www.bluetape.com/signup\u{7f}", false),
        ("https://www.bluetape.com/signup\u{85}", false),
        ("https://", false),
        ("", false),
    ];
    for (url, safe) in cases {
        assert_eq!(is_safe_url(url), safe, "{url:?}");
    }
}

#[test]
fn sign_up_answers() {
    assert_eq!(
        classify_sign_up(reply(200, br#"{"signUpUrl":"https://x/s?id=1"}"#)),
        SignUp::Url("https://x/s?id=1".into())
    );
    assert_eq!(
        classify_sign_up(reply(
            404,
            br#"{"code":"404","reason":"Customer not found."}"#
        )),
        SignUp::NotFound
    );
    assert!(matches!(
        classify_sign_up(reply(404, b"")),
        SignUp::WrongEndpoint(_)
    ));
    assert!(matches!(
        classify_sign_up(reply(401, b"")),
        SignUp::Unauthorized(_)
    ));
    assert!(matches!(
        classify_sign_up(reply(403, b"")),
        SignUp::Unauthorized(_)
    ));
    assert!(matches!(
        classify_sign_up(reply(503, b"")),
        SignUp::Unavailable(_)
    ));
    for body in [
        br#"{"signUpUrl":"http://x/s?id=1"}"#.as_slice(),
        br#"{"signUpUrl":"https://x/s?id=1\u0007"}"#,
    ] {
        assert!(
            matches!(classify_sign_up(reply(200, body)), SignUp::Unavailable(_)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn update_answers() {
    let now = SystemTime::UNIX_EPOCH;
    assert_eq!(
        classify_update(reply(202, br#"{"blueTapeId":"b1"}"#), now),
        Outcome::Updated {
            blue_tape_id: Some("b1".into())
        }
    );
    assert_eq!(
        classify_update(
            reply(404, br#"{"code":"404","reason":"Customer not found."}"#),
            now
        ),
        Outcome::NotFound {
            reason: "404: Customer not found.".into()
        }
    );
    assert!(matches!(
        classify_update(reply(201, b"{}"), now),
        Outcome::Retry { .. }
    ));
    let busy = Reply {
        retry_after: Some("2"),
        ..reply(503, b"")
    };
    assert!(matches!(
        classify_update(busy, now),
        Outcome::Retry { after: Some(_), .. }
    ));
    assert!(matches!(
        classify_update(reply(400, b""), now),
        Outcome::Rejected { .. }
    ));
    assert_eq!(
        classify_update(reply(413, b""), now),
        Outcome::Rejected {
            reason: TOO_LARGE.into()
        }
    );
}

#[test]
fn retry_after_forms() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Tue, 14 Nov 2023 22:12:20 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
}
