//! The endpoints' answers, on every backend.
use crate::common::*;
use axum::body::Body;
use consentry_collector::evidence::{ChainMaker, Receipt};
use consentry_collector::{auth, texts, verify, Settings};
use serde_json::Value;

const DOC_EN: &str = "{\"lang\":\"en\",\"title\":\"Cookies\",\"body\":\"We use…\\nline two\"}";
const DOC_FR: &str = "{\"lang\":\"fr\",\"title\":\"Témoins\"}";

#[tokio::test]
async fn receipts_in_pieces_duplicates_and_a_verified_chain() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let l = chain(1, 3, &texts::hash_of(DOC_EN));
        let r = post(&c, "/consentry/receipts", array(&l[..1])).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        // One receipt object, then all three with an overlap, sent as text/plain.
        let r = post(&c, "/consentry/receipts", l[1].to_json()).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let r = call(&c, "POST", "/consentry/receipts", &[("content-type", "text/plain;charset=UTF-8")], array(&l)).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!(ids(&v, "accepted"), vec![l[2].id().to_string()], "{kind}");
        assert_eq!(ids(&v, "duplicates"), vec![l[0].id().to_string(), l[1].id().to_string()], "{kind}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{kind}: exactly accepted and duplicates: {v}");
        let s = stats(&c).await;
        assert_eq!((count(&s, "receipts"), count(&s, "rejected")), (3, 0), "{kind}");
        // The export holds exactly what was sent.
        let e = get(&c, &format!("/consentry/subjects/{}", l[0].subject())).await;
        assert_eq!(e.status, 200, "{kind}: {}", e.text());
        let v = e.json();
        let back: Vec<Receipt> = v["receipts"].as_array().unwrap().iter().map(|r| Receipt::parse(&r.to_string()).unwrap()).collect();
        assert_eq!(back, l, "{kind}");
        // Whole-database verification agrees, and names the missing wording.
        let mut reports = Vec::new();
        let broken = verify::verify_store(&c.app.store, |r| reports.push(r.clone())).await.unwrap();
        assert_eq!(broken, 0, "{kind}");
        assert_eq!(reports.len(), 1);
        assert_eq!((reports[0].receipts, reports[0].missing_wording), (3, 3), "{kind}: {reports:?}");
        assert_eq!(reports[0].missing_hashes, vec![texts::hash_of(DOC_EN)]);
        // A second subject starts its own chain, gzip-compressed.
        let r = post(&c, "/consentry/receipts", gzip(array(&chain(2, 2, &texts::hash_of(DOC_FR))).as_bytes())).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert_eq!(count(&stats(&c).await, "receipts"), 5, "{kind}");
        c.stop().await;
    }
}

async fn refused(c: &consentry_collector::Collector, body: String, id: &str, reason_has: &str) {
    let before = count(&stats(c).await, "receipts");
    let r = post(c, "/consentry/receipts", body).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], "receipt refused");
    assert_eq!(v["id"].as_str(), Some(id), "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains(reason_has), "{reason} should say {reason_has}");
    assert_eq!(count(&stats(c).await, "receipts"), before, "nothing of a refused body is stored");
}

#[tokio::test]
async fn forged_broken_and_forked_receipts_are_refused() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let l = chain(1, 3, &"a".repeat(64));
        // An edited receipt keeping its hash; a body is refused whole.
        let mut body = l.clone();
        body[1] = ChainMaker::forged(&l[1]);
        refused(&c, array(&body), l[1].id(), "hash").await;
        // A new subject must start at seq 1.
        refused(&c, array(&l[1..]), l[1].id(), "seq").await;
        assert_eq!(post(&c, "/consentry/receipts", array(&l[..1])).await.status, 200, "{kind}");
        // A gap.
        refused(&c, array(&l[2..]), l[2].id(), "seq").await;
        // A well-formed fork by the holder of the chain's secret (another tab of the same browser):
        // refused with what is stored from its seq on, for its sender to re-chain after it.
        // Without the subject's secret it is shown nothing.
        let fork = ChainMaker::reissued(&l[0], &"f".repeat(32));
        let r = post(&c, "/consentry/receipts", array(std::slice::from_ref(&fork))).await;
        assert_eq!(r.status, 409, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!((&v["id"], &v["secret"]), (&Value::from("f".repeat(32)), &Value::from("required")));
        assert!(v.get("receipts").is_none(), "{v}");
        let secret = {
            let mut m = ChainMaker::new([1; 16], &"a".repeat(64));
            m.next_receipt();
            m.secret().to_string()
        };
        let with = |secret: &str, rs: &[Receipt]| format!("{{\"receipts\":{},\"secret\":\"{secret}\"}}", array(rs));
        let r = post(&c, "/consentry/receipts", with(&"0".repeat(64), std::slice::from_ref(&fork))).await;
        assert!(r.status == 409 && r.json().get("receipts").is_none(), "{kind}: a wrong secret: {}", r.text());
        let r = post(&c, "/consentry/receipts", with(&secret, &[fork])).await;
        assert_eq!(r.status, 409, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!(v["receipts"].as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(v["receipts"][0]["hash"], l[0].hash());
        // A fork under another key is refused like any other, and shown nothing.
        refused(&c, array(&[ChainMaker::stranger(&l[0], &"e".repeat(32))]), &"e".repeat(32), "seq").await;
        // The same id with other content.
        let same_id = ChainMaker::reissued(&l[0], l[0].id());
        refused(&c, array(&[same_id]), l[0].id(), "id").await;
        // Shape: a receipt missing fields.
        refused(&c, "[{\"id\":\"x\"}]".into(), "x", "").await;
        assert_eq!(count(&stats(&c).await, "rejected"), 9, "{kind}");
        assert_eq!(post(&c, "/consentry/receipts", array(&l)).await.status, 200, "{kind}");
        assert_eq!(count(&stats(&c).await, "receipts"), 3, "{kind}");
        // A fork further on is shown every stored receipt from its seq on.
        let r = post(&c, "/consentry/receipts", with(&secret, &[ChainMaker::reissued(&l[1], &"d".repeat(32))])).await;
        assert_eq!(r.status, 409, "{kind}: {}", r.text());
        let hashes: Vec<Value> = r.json()["receipts"].as_array().unwrap().iter().map(|x| x["hash"].clone()).collect();
        assert_eq!(hashes, vec![Value::from(l[1].hash()), Value::from(l[2].hash())]);
        assert_eq!(count(&stats(&c).await, "receipts"), 3, "{kind}: nothing of a fork is stored");
        c.stop().await;
    }
}

#[tokio::test]
async fn the_wording_is_kept_and_exported() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let (en, fr) = (texts::hash_of(DOC_EN), texts::hash_of(DOC_FR));
        let mut m = ChainMaker::new([5; 16], &en);
        let a = m.next_receipt();
        // No document yet: the answer says which one is missing.
        let r = post(&c, "/consentry/receipts", array(std::slice::from_ref(&a))).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert_eq!(r.headers.get("consentry-missing-texts").unwrap(), en.as_str(), "{kind}");
        // The document is fetched by hash: not yet.
        assert_eq!(get(&c, &format!("/consentry/texts/{en}")).await.status, 404);
        // Sent after the receipt: taken (a stored receipt refers to it), idempotent.
        let r = call(&c, "POST", "/consentry/texts", &[("content-type", "text/plain")], DOC_EN).await;
        assert_eq!((r.status.as_u16(), r.json()["stored"].clone()), (200, Value::Bool(true)), "{kind}: {}", r.text());
        assert_eq!(r.json()["hash"], en.as_str());
        let r = post(&c, "/consentry/texts", gzip(DOC_EN.as_bytes())).await;
        assert_eq!((r.status.as_u16(), r.json()["stored"].clone()), (200, Value::Bool(false)), "{kind}");
        let g = get(&c, &format!("/consentry/texts/{en}")).await;
        assert_eq!((g.status.as_u16(), g.text()), (200, DOC_EN.to_string()), "{kind}: exact bytes");
        assert_eq!(g.headers.get("content-type").unwrap(), "application/json");
        // A document no receipt refers to is not taken (unless from the admin).
        let r = post(&c, "/consentry/texts", DOC_FR).await;
        assert_eq!(r.status, 409, "{kind}: {}", r.text());
        // PUT checks the hash in the path.
        let r = call(&c, "PUT", &format!("/consentry/texts/{fr}"), &[], DOC_EN).await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text());
        assert!(r.json()["reason"].as_str().unwrap().contains(&en));
        let r = call(&c, "PUT", "/consentry/texts/ABC", &[], DOC_EN).await;
        assert_eq!(r.status, 400, "{kind}");
        // The envelope: a receipt using a new wording, sent with its document; no header.
        m.set_texts(&fr);
        let b = m.next_receipt();
        assert_eq!(b.seq(), 2);
        let envelope = format!(
            "{{\"receipts\":{},\"texts\":[{},{}]}}",
            array(std::slice::from_ref(&b)),
            Value::String(DOC_FR.into()),
            Value::String("{\"unrelated\":true}".into())
        );
        let r = post(&c, "/consentry/receipts", envelope).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert!(r.headers.get("consentry-missing-texts").is_none(), "{kind}");
        assert_eq!(get(&c, &format!("/consentry/texts/{fr}")).await.text(), DOC_FR);
        let unrelated = texts::hash_of("{\"unrelated\":true}");
        assert_eq!(get(&c, &format!("/consentry/texts/{unrelated}")).await.status, 404, "{kind}: only referenced documents are kept");
        // The export holds the wording of every receipt; verification finds it all.
        let v = get(&c, &format!("/consentry/subjects/{}", a.subject())).await.json();
        assert_eq!(v["receipts"].as_array().unwrap().len(), 2);
        assert_eq!(v["texts"][&en], DOC_EN, "{kind}: {v}");
        assert_eq!(v["texts"][&fr], DOC_FR, "{kind}: {v}");
        let mut reports = Vec::new();
        verify::verify_store(&c.app.store, |r| reports.push(r.clone())).await.unwrap();
        assert_eq!((reports[0].receipts, reports[0].missing_wording), (2, 0), "{kind}");
        c.stop().await;
    }
}

#[tokio::test]
async fn events_are_checked_stored_and_idempotent() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let (u1, u2, u3, u4) = (uuid(1), uuid(2), uuid(3), uuid(4));
        let r = post(&c, "/batch/", batch("s1", &[&u1, &u2])).await;
        assert_eq!((r.status.as_u16(), r.json()), (200, serde_json::json!({"status": "Ok"})), "{kind}");
        // An alias, a retry with one new event, as text/plain gzip (what the browser sends).
        let r =
            call(&c, "POST", "/capture/?compression=gzip-js", &[("content-type", "text/plain")], gzip(batch("s1", &[&u2, &u3]).as_bytes()))
                .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let one = format!("{{\"api_key\":\"demo\",\"event\":\"x\",\"properties\":{{\"distinct_id\":\"d\"}},\"uuid\":\"{u4}\"}}");
        for path in ["/e/", "/e", "/batch", "/capture"] {
            assert_eq!(post(&c, path, one.clone()).await.status, 200, "{kind} {path}");
        }
        assert_eq!(count(&stats(&c).await, "events"), 4, "{kind}");
        // Refusals name the rule.
        for (body, status, has) in [
            (batch("s1", &["nope"]), 400, "uuid is not a UUID"),
            ("{\"api_key\":\"k\",\"batch\":[".to_string(), 400, "malformed JSON"),
            (batch("s1", &[&u1]).replace("\"api_key\":\"demo\",", ""), 401, "no project token"),
            (batch("s1", &[&u1]).replace("\"distinct_id\":\"d1\",", ""), 400, "distinct_id is missing"),
        ] {
            let r = post(&c, "/batch/", body).await;
            assert_eq!(r.status.as_u16(), status, "{kind}: {}", r.text());
            assert!(r.json()["error"].as_str().unwrap().contains(has), "{kind}: {}", r.text());
        }
        assert_eq!(count(&stats(&c).await, "rejected"), 4, "{kind}");
        assert_eq!(count(&stats(&c).await, "events"), 4, "{kind}");
        c.stop().await;
        // Only the configured project tokens.
        let c = start(&db, Settings { project_tokens: vec!["phc_site".into()], ..demo_settings() }).await;
        let r = post(&c, "/batch/", batch("s1", &[&uuid(9)])).await;
        assert_eq!(r.status, 401, "{kind}: {}", r.text());
        let r = post(&c, "/batch/", batch("s1", &[&uuid(9)]).replace("\"demo\"", "\"phc_site\"")).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        c.stop().await;
    }
}

#[tokio::test]
async fn data_subject_requests_are_authorised_and_audited() {
    for (kind, db) in backends().await {
        let admin = "an-admin-token-of-some-length";
        let settings = Settings { admin_token_sha256: Some(auth::digest(admin)), ..Settings::default() };
        let c = start(&db, settings).await;
        let mut maker = ChainMaker::new([7; 16], &"c".repeat(64));
        let l: Vec<_> = (0..2).map(|_| maker.next_receipt()).collect();
        let other = chain(8, 1, &"c".repeat(64));
        let s = l[0].subject().to_string();
        assert_eq!(post(&c, "/consentry/receipts", array(&l)).await.status, 200);
        assert_eq!(post(&c, "/consentry/receipts", array(&other)).await.status, 200);
        assert_eq!(post(&c, "/batch/", batch(&s, &[&uuid(1), &uuid(2)])).await.status, 200);
        assert_eq!(post(&c, "/batch/", batch(other[0].subject(), &[&uuid(3)])).await.status, 200);
        // The visitor's secret: only its hash is stored (the first receipt's `key`, format v2).
        let secret = maker.secret().to_string();
        let secret = secret.as_str();
        assert_eq!(c.app.store.secret_hash(&s).await.unwrap().as_deref(), Some(texts::hash_of(secret).as_str()));
        c.app.store.set_secret_hash(other[0].subject(), &texts::hash_of("the other one's")).await.unwrap();
        let path = format!("/consentry/subjects/{s}");
        let bearer = |t: &str| format!("Bearer {t}");
        // No credentials, wrong ones, another subject's secret: refused.
        let r = get(&c, &path).await;
        assert_eq!(r.status, 401, "{kind}: {}", r.text());
        assert!(r.headers.get("www-authenticate").is_some());
        for wrong in ["nope", "the other one's", &admin[1..]] {
            let r = call(&c, "GET", &path, &[("authorization", &bearer(wrong))], Body::empty()).await;
            assert_eq!(r.status, 403, "{kind} {wrong}: {}", r.text());
        }
        assert_eq!(call(&c, "DELETE", &path, &[], Body::empty()).await.status, 401);
        // The subject's own secret and the admin token open it.
        let r = call(&c, "GET", &path, &[("authorization", &bearer(secret))], Body::empty()).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!((v["receipts"].as_array().unwrap().len(), v["events"].as_array().unwrap().len()), (2, 2), "{kind}");
        // Compressed when the client takes gzip (the export is streamed through the layer).
        let r = call(&c, "GET", &path, &[("authorization", &bearer(admin)), ("accept-encoding", "gzip")], Body::empty()).await;
        assert_eq!((r.status.as_u16(), r.headers["content-encoding"].to_str().unwrap()), (200, "gzip"), "{kind}");
        let mut unpacked = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut unpacked).unwrap();
        let v: Value = serde_json::from_str(&unpacked).unwrap();
        assert_eq!(v["receipts"].as_array().unwrap().len(), 2, "{kind}");
        // Erasure: events go, receipts stay; other subjects untouched.
        let r = call(&c, "DELETE", &path, &[("authorization", &bearer(secret))], Body::empty()).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!((v["deleted_events"].as_i64(), v["receipts_kept"].as_i64()), (Some(2), Some(2)), "{kind}");
        let v = call(&c, "GET", &path, &[("authorization", &bearer(admin))], Body::empty()).await.json();
        assert_eq!((v["receipts"].as_array().unwrap().len(), v["events"].as_array().unwrap().len()), (2, 0));
        // A subject with nothing stored: 404 (after authorisation).
        let r = call(&c, "GET", "/consentry/subjects/nobody", &[("authorization", &bearer(admin))], Body::empty()).await;
        assert_eq!(r.status, 404, "{kind}");
        // Every request is in the audit table, in order.
        let rows = c.app.store.audit_of(&s).await.unwrap();
        let seen: Vec<(String, String, i64)> = rows.iter().map(|r| (r.action.clone(), r.principal.clone(), r.status)).collect();
        let want: Vec<(String, String, i64)> = [
            ("export", "none", 401),
            ("export", "none", 403),
            ("export", "none", 403),
            ("export", "none", 403),
            ("delete", "none", 401),
            ("export", "subject", 200),
            ("export", "admin", 200),
            ("delete", "subject", 200),
            ("export", "admin", 200),
        ]
        .iter()
        .map(|(a, p, s)| (a.to_string(), p.to_string(), *s))
        .collect();
        assert_eq!(seen, want, "{kind}");
        assert!(rows[7].detail.contains("deleted_events=2"), "{kind}: {:?}", rows[7]);
        // The counters are the admin's when there is an admin token.
        assert_eq!(get(&c, "/collector/stats").await.status, 401);
        let r = call(&c, "GET", "/collector/stats", &[("authorization", &bearer(admin))], Body::empty()).await;
        assert_eq!(count(&r.json(), "events"), 1, "{kind}");
        c.stop().await;
    }
}

#[tokio::test]
async fn health_methods_and_unknown_paths() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let r = get(&c, "/healthz").await;
        assert_eq!((r.status.as_u16(), r.json()["status"].clone()), (200, Value::from("ok")), "{kind}");
        for (m, p, status) in [
            ("GET", "/consentry/receipts", 405),
            ("GET", "/batch/", 405),
            ("POST", "/collector/stats", 405),
            ("GET", "/nothing/here", 404),
            ("PUT", "/consentry/subjects/x", 405),
        ] {
            let r = call(&c, m, p, &[], Body::empty()).await;
            assert_eq!(r.status.as_u16(), status, "{kind} {m} {p}");
            assert!(r.json()["error"].is_string(), "{kind} {m} {p}: {}", r.text());
        }
        c.stop().await;
    }
}

#[tokio::test]
async fn verification_names_a_tampered_receipt() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let good = chain(1, 3, &"d".repeat(64));
        assert_eq!(post(&c, "/consentry/receipts", array(&good)).await.status, 200);
        // A chain written behind the collector's back, with a forged second receipt.
        let mut bad = chain(2, 3, &"d".repeat(64));
        bad[1] = ChainMaker::forged(&bad[1]);
        c.app.store.insert_unchecked(bad.clone()).await.unwrap();
        let mut reports = Vec::new();
        let broken = verify::verify_store(&c.app.store, |r| reports.push(r.clone())).await.unwrap();
        assert_eq!(broken, 1, "{kind}: {reports:?}");
        let r = reports.iter().find(|r| r.subject == bad[0].subject()).unwrap();
        let why = r.broken.as_deref().unwrap();
        assert!(why.starts_with("at index 1 (id ") && why.contains(bad[1].id()) && why.contains("hash"), "{kind}: {why}");
        assert_eq!(reports.iter().find(|r| r.subject == good[0].subject()).unwrap().broken, None);
        c.stop().await;
    }
}

#[tokio::test]
async fn cors_only_for_the_configured_origins() {
    let db = sqlite();
    let settings = Settings { allowed_origins: vec!["https://shop.example".into()], ..demo_settings() };
    let c = start(&db, settings).await;
    let preflight = |origin: &'static str| {
        let c = &c;
        async move {
            call(
                c,
                "OPTIONS",
                "/consentry/receipts",
                &[("origin", origin), ("access-control-request-method", "POST"), ("access-control-request-headers", "content-type")],
                Body::empty(),
            )
            .await
        }
    };
    let ok = preflight("https://shop.example").await;
    assert!(ok.status.is_success(), "{}", ok.status);
    assert_eq!(ok.headers["access-control-allow-origin"], "https://shop.example");
    let other = preflight("https://evil.example").await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
    // A simple request (text/plain) from the site: allowed, and the missing-texts header is
    // readable by its script.
    let l = chain(1, 1, &"a".repeat(64));
    let r = call(&c, "POST", "/consentry/receipts", &[("origin", "https://shop.example"), ("content-type", "text/plain")], array(&l)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["access-control-allow-origin"], "https://shop.example");
    let exposed = r.headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("consentry-missing-texts"), "{exposed}");
    c.stop().await;
}
