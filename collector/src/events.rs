//! Analytics events in PostHog's capture format, checked the way PostHog's capture checks them.
//!
//! A request is a batch `{"api_key"|"token": T, "batch": [event, …], "sent_at"?}`, one event
//! with its token (`{"event", "properties", "api_key"|"token", …}`), or an array of events each
//! carrying its token. An event is `{"event", "uuid", "properties"?, "distinct_id"?,
//! "timestamp"?}`. The rules (PostHog's capture, `rust/capture`):
//! - a token (`api_key`, `token` or `$token` at the top, else the event's own, else
//!   `properties.token`): a non-blank string, one and the same for the whole request;
//! - `event`: a non-empty string of at most 200 characters;
//! - `uuid`: a UUID (required here: it is what makes a retried batch idempotent);
//! - `properties`: an object when present;
//! - a distinct id (`distinct_id` of the event, else `properties.distinct_id`): not null and not
//!   blank; a non-string is taken as its JSON text; kept to its first 200 characters;
//! - `timestamp`: a string when present;
//! - the batch holds at least one event.
//!
//! Owns: parsing and checking, and the consent subject (`properties.$consentry_subject`). Must
//! never: panic on any input, or accept an event that breaks a rule above (the whole request is
//! refused, naming the event's index and the rule).
use crate::body::Refusal;
use serde_json::{Map, Value};

/// The longest event name.
pub const MAX_NAME: usize = 200;
/// A distinct id is kept to this many characters (as PostHog does).
pub const MAX_DISTINCT_ID: usize = 200;

/// One checked event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The UUID in its lower-case hyphenated form (the idempotency key).
    pub uuid: String,
    pub name: String,
    pub distinct_id: String,
    /// `properties.$consentry_subject`: the consent subject, for data-subject requests.
    pub subject: Option<String>,
    pub timestamp: Option<String>,
    /// The event as received (re-serialised compactly).
    pub json: String,
}

/// A checked request: its token and its events, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub token: String,
    pub events: Vec<Event>,
}

fn bad(what: impl Into<String>) -> Refusal {
    Refusal::new(400, what)
}

/// The token at the top of an object (`api_key`, `token`, `$token`), if any. Err when present
/// but not a non-blank string.
fn top_token(o: &Map<String, Value>, at: &str) -> Result<Option<String>, Refusal> {
    for k in ["api_key", "token", "$token"] {
        match o.get(k) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if !s.trim().is_empty() => return Ok(Some(s.clone())),
            Some(_) => return Err(bad(format!("{at}{k} must be a non-blank string"))),
        }
    }
    Ok(None)
}

/// Parses and checks a capture request (already unpacked text).
pub fn parse(text: &str) -> Result<Batch, Refusal> {
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(format!("malformed JSON: {e}")))?;
    let (request_token, events): (Option<String>, Vec<Value>) = match doc {
        Value::Object(mut o) => {
            let token = top_token(&o, "")?;
            match o.remove("batch") {
                Some(Value::Array(list)) => (token, list),
                Some(_) => return Err(bad("batch must be an array")),
                None if o.contains_key("event") => (None, vec![Value::Object(o)]),
                None => return Err(bad("expected a batch or an event")),
            }
        }
        Value::Array(list) => (None, list),
        _ => return Err(bad("expected a batch object, an event or an array of events")),
    };
    if events.is_empty() {
        return Err(bad("the batch holds no event"));
    }
    let mut token = request_token.clone();
    let mut out = Vec::with_capacity(events.len());
    for (n, e) in events.into_iter().enumerate() {
        let at = |what: &str| bad(format!("batch[{n}]: {what}"));
        let Value::Object(o) = e else {
            return Err(at("an event must be an object"));
        };
        let props = match o.get("properties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => Some(p),
            Some(_) => return Err(at("properties must be an object")),
        };
        if request_token.is_none() {
            let own = match top_token(&o, &format!("batch[{n}]: "))? {
                Some(t) => Some(t),
                None => match props.and_then(|p| p.get("token")) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                    Some(_) => return Err(at("properties.token must be a non-blank string")),
                },
            };
            match (&token, own) {
                (_, None) => {}
                (None, Some(t)) => token = Some(t),
                (Some(a), Some(b)) if *a == b => {}
                (Some(_), Some(_)) => return Err(bad("the batch holds events of different tokens (api_key)")),
            }
        }
        let name = match o.get("event") {
            Some(Value::String(s)) if s.is_empty() => return Err(at("event must not be empty")),
            Some(Value::String(s)) if s.chars().count() > MAX_NAME => return Err(at("event is longer than 200 characters")),
            Some(Value::String(s)) => s.clone(),
            _ => return Err(at("event must be a string")),
        };
        let uuid = match o.get("uuid") {
            Some(Value::String(s)) => match uuid::Uuid::try_parse(s) {
                Ok(u) => u.hyphenated().to_string(),
                Err(_) => return Err(at("uuid is not a UUID")),
            },
            None | Some(Value::Null) => return Err(at("uuid is missing")),
            Some(_) => return Err(at("uuid must be a string")),
        };
        let distinct = match o.get("distinct_id") {
            None | Some(Value::Null) => props.and_then(|p| p.get("distinct_id")),
            Some(d) => Some(d),
        };
        let distinct_id = match distinct {
            None | Some(Value::Null) => return Err(at("distinct_id is missing")),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if distinct_id.trim().is_empty() {
            return Err(at("distinct_id is blank"));
        }
        let distinct_id: String = distinct_id.replace('\0', "\u{fffd}").chars().take(MAX_DISTINCT_ID).collect();
        let timestamp = match o.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(at("timestamp must be a string")),
        };
        let subject = props.and_then(|p| p.get("$consentry_subject")).and_then(Value::as_str).map(String::from);
        let json = Value::Object(o).to_string();
        out.push(Event { uuid, name, distinct_id, subject, timestamp, json });
    }
    let Some(token) = token else {
        return Err(Refusal::new(401, "the request has no project token (api_key or token)"));
    };
    Ok(Batch { token, events: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const U1: &str = "0190b6d2-6a7e-7cc1-8a4e-6f0c1d2e3f40";
    const U2: &str = "0190B6D2-6A7E-7CC1-8A4E-6F0C1D2E3F41";

    fn ev(extra: &str) -> String {
        format!(
            "{{\"event\":\"$pageview\",\"uuid\":\"{U1}\",\"properties\":{{\"distinct_id\":\"d1\",\"$consentry_subject\":\"s1\"}}{extra}}}"
        )
    }

    #[test]
    fn a_batch_reads() {
        let text = format!(
            "{{\"api_key\":\"phc_k\",\"batch\":[{},{{\"event\":\"x\",\"uuid\":\"{U2}\",\"distinct_id\":7}}],\"sent_at\":\"2026-11-23T10:00:01.000Z\"}}",
            ev(",\"timestamp\":\"2026-11-23T10:00:00.000Z\"")
        );
        let b = parse(&text).unwrap();
        assert_eq!(b.token, "phc_k");
        assert_eq!(b.events.len(), 2);
        let e = &b.events[0];
        assert_eq!((e.name.as_str(), e.uuid.as_str(), e.distinct_id.as_str()), ("$pageview", U1, "d1"));
        assert_eq!(e.subject.as_deref(), Some("s1"));
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-23T10:00:00.000Z"));
        let back: Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(back["properties"]["distinct_id"], "d1");
        // The UUID's canonical form; a number as distinct id is its text.
        assert_eq!(b.events[1].uuid, U2.to_lowercase());
        assert_eq!(b.events[1].distinct_id, "7");
        assert_eq!(b.events[1].subject, None);
    }

    #[test]
    fn one_event_or_an_array_with_their_tokens() {
        let one = parse(&ev(",\"api_key\":\"k1\"")).unwrap();
        assert_eq!((one.token.as_str(), one.events.len()), ("k1", 1));
        let arr = parse(&format!("[{},{}]", ev(",\"token\":\"k2\""), ev(""))).unwrap();
        assert_eq!((arr.token.as_str(), arr.events.len()), ("k2", 2));
        let in_props =
            parse(&format!("[{{\"event\":\"e\",\"uuid\":\"{U1}\",\"properties\":{{\"distinct_id\":\"d\",\"token\":\"k3\"}}}}]")).unwrap();
        assert_eq!(in_props.token, "k3");
    }

    fn refused(text: &str) -> Refusal {
        parse(text).expect_err(text)
    }

    #[test]
    fn every_rule_is_named() {
        let batch = |e: &str| format!("{{\"api_key\":\"k\",\"batch\":[{e}]}}");
        let cases: Vec<(String, u16, &str)> = vec![
            ("{\"api_key\":\"k\",\"batch\":[".into(), 400, "malformed JSON"),
            ("\"x\"".into(), 400, "expected a batch object"),
            ("{}".into(), 400, "expected a batch or an event"),
            ("{\"api_key\":\"k\",\"batch\":{}}".into(), 400, "batch must be an array"),
            ("{\"api_key\":\"k\",\"batch\":[]}".into(), 400, "no event"),
            (batch("1"), 400, "batch[0]: an event must be an object"),
            (batch(&ev("").replace("\"$pageview\"", "1")), 400, "event must be a string"),
            (batch(&ev("").replace("\"$pageview\"", "\"\"")), 400, "event must not be empty"),
            (batch(&ev("").replace("$pageview", &"x".repeat(201))), 400, "longer than 200"),
            (batch(&ev("").replace(U1, "not-a-uuid")), 400, "uuid is not a UUID"),
            (batch(&ev("").replace(&format!("\"uuid\":\"{U1}\","), "")), 400, "uuid is missing"),
            (batch(&ev("").replace(&format!("\"{U1}\""), "5")), 400, "uuid must be a string"),
            (batch(&ev("").replace("{\"distinct_id\":\"d1\",", "7,\"x\":{")), 400, "properties must be an object"),
            (batch(&ev("").replace("\"distinct_id\":\"d1\",", "")), 400, "distinct_id is missing"),
            (batch(&ev("").replace("\"d1\"", "\"  \"")), 400, "distinct_id is blank"),
            (batch(&ev("").replace("\"d1\"", "null")), 400, "distinct_id is missing"),
            (batch(&ev(",\"timestamp\":5")), 400, "timestamp must be a string"),
            (ev(""), 401, "no project token"),
            (ev(",\"api_key\":\"  \""), 400, "api_key must be a non-blank string"),
            (ev(",\"api_key\":3"), 400, "api_key must be a non-blank string"),
            (format!("[{},{}]", ev(",\"token\":\"a\""), ev(",\"token\":\"b\"")), 400, "different tokens"),
            ("[\"\\ud800\"]".into(), 400, "malformed JSON"),
        ];
        for (text, status, has) in cases {
            let r = refused(&text);
            assert_eq!(r.status, status, "{text}: {r:?}");
            assert!(r.error.contains(has), "{text}: {r:?} should say {has:?}");
        }
    }

    #[test]
    fn long_distinct_ids_are_cut_and_nuls_replaced() {
        let long = "é".repeat(300);
        let b = parse(&ev(",\"api_key\":\"k\"").replace("\"d1\"", &format!("\"{long}\\u0000\""))).unwrap();
        assert_eq!(b.events[0].distinct_id.chars().count(), 200);
        let b = parse(&ev(",\"api_key\":\"k\"").replace("\"d1\"", "\"a\\u0000b\"")).unwrap();
        assert_eq!(b.events[0].distinct_id, "a\u{fffd}b");
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let r = refused(&deep);
        assert_eq!(r.status, 400);
        assert!(r.error.contains("recursion limit"), "{r:?}");
        let deep_props = ev(",\"api_key\":\"k\"").replace("\"d1\"", &format!("\"d1\",\"x\":{}{}", "[".repeat(10_000), "]".repeat(10_000)));
        assert_eq!(refused(&deep_props).status, 400);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn any_text_is_a_batch_or_a_4xx(text in "\\PC{0,300}") {
            if let Err(r) = parse(&text) {
                prop_assert!(r.status == 400 || r.status == 401);
            }
        }

        #[test]
        fn json_shaped_text_is_a_batch_or_a_4xx(
            parts in proptest::collection::vec(prop_oneof![
                Just("{".to_string()), Just("}".to_string()), Just("[".to_string()), Just("]".to_string()),
                Just(",".to_string()), Just(":".to_string()), Just("\"api_key\"".to_string()),
                Just("\"batch\"".to_string()), Just("\"event\"".to_string()), Just("\"uuid\"".to_string()),
                Just("\"properties\"".to_string()), Just("\"distinct_id\"".to_string()),
                Just(format!("\"{U1}\"")), Just("\"k\"".to_string()), Just("null".to_string()),
                Just("1e999".to_string()), Just("\"\\ud800\"".to_string()), Just("-0".to_string()),
            ], 0..60)
        ) {
            let text = parts.concat();
            match parse(&text) {
                Ok(b) => prop_assert!(!b.events.is_empty() && !b.token.trim().is_empty()),
                Err(r) => prop_assert!(r.status == 400 || r.status == 401),
            }
        }
    }
}
