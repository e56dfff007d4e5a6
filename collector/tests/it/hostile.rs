//! Hostile input: every answer is a clear 4xx (or a bounded 2xx), never a crash, and the
//! collector reads no more than its limits.
use crate::common::*;
use axum::body::{Body, Bytes};
use consentry_collector::evidence::ChainMaker;
use consentry_collector::{texts, verify};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn error_of(a: &Answer) -> String {
    a.json()["error"].as_str().unwrap_or_else(|| panic!("no error text: {}", a.text())).to_string()
}

#[tokio::test]
async fn a_gzip_bomb_is_a_413() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    // 64 MiB of spaces inside a JSON string: about 64 KiB of gzip, just under the body limit.
    let mut doc = b"{\"api_key\":\"k\",\"batch\":[{\"event\":\"".to_vec();
    doc.extend(std::iter::repeat_n(b' ', 60 << 20));
    let bomb = gzip(&doc);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    for path in ["/batch/", "/consentry/receipts", "/consentry/texts"] {
        let r = call(&c, "POST", path, &[("content-type", "text/plain")], bomb.clone()).await;
        assert_eq!(r.status, 413, "{path}: {}", r.text());
        assert!(error_of(&r).contains("unpacks to more than 1024 KiB"), "{path}: {}", r.text());
    }
    c.stop().await;
}

#[tokio::test]
async fn a_10_mb_body_is_a_413_declared_or_streamed() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    let big = vec![b'['; 10 << 20];
    for path in ["/batch/", "/consentry/receipts"] {
        let r = post(&c, path, big.clone()).await;
        assert_eq!(r.status, 413, "{path}: {}", r.text());
        assert!(!error_of(&r).is_empty());
    }
    // Streamed without a length: the collector stops reading after the limit.
    let sent = Arc::new(AtomicUsize::new(0));
    let n = sent.clone();
    let chunks = futures_util::stream::iter((0..160).map(move |_| {
        n.fetch_add(64 * 1024, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 64 * 1024]))
    }));
    let r = call(&c, "POST", "/batch/", &[], Body::from_stream(chunks)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(sent.load(Ordering::SeqCst) <= 2 * 64 * 1024, "read {} bytes", sent.load(Ordering::SeqCst));
    // Through a real socket the client reads the 413 too (not a reset connection).
    let s = Served::start(&c).await;
    let res = client()
        .post(format!("{}/batch/", s.url))
        .header("content-type", "text/plain")
        .body(big)
        .send()
        .await
        .expect("an answer, not a reset");
    assert_eq!(res.status(), 413);
    // The server closes this connection after the answer, and says so: a client that pooled it
    // would send its next request into a closing socket.
    assert_eq!(res.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    let v: serde_json::Value = serde_json::from_str(&res.text().await.expect("a body")).expect("a JSON error");
    assert!(v["error"].as_str().unwrap().contains("larger than 65536 bytes"), "{v}");
    // A client that writes its whole body before it reads (as simple clients do) reads the
    // 413 too: the collector reads and drops the rest before closing (no reset).
    let addr = s.url.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut t = std::net::TcpStream::connect(addr).unwrap();
        let body = vec![b'['; 10 << 20];
        let head = format!("POST /consentry/receipts HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
        t.write_all(head.as_bytes()).unwrap();
        t.write_all(&body).expect("the whole body is taken, not reset");
        let mut out = String::new();
        let _ = t.read_to_string(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    s.stop().await;
    c.stop().await;
}

#[tokio::test]
async fn ten_thousand_nested_arrays_are_a_4xx() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for path in ["/batch/", "/consentry/receipts"] {
        let r = post(&c, path, deep.clone()).await;
        assert!(r.status.is_client_error(), "{path}: {} {}", r.status, r.text());
        let e = error_of(&r);
        let reason = r.json()["reason"].as_str().unwrap_or("").to_string();
        assert!(e.contains("recursion limit") || reason.contains("recursion limit"), "{path}: {}", r.text());
    }
    // Deep nesting inside a property of an otherwise good event.
    let ev = batch("s", &[&uuid(1)]).replace("\"d1\"", &format!("\"d1\",\"x\":{deep}"));
    let r = post(&c, "/batch/", ev).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(count(&stats(&c).await, "events"), 0);
    c.stop().await;
}

#[tokio::test]
async fn a_lone_surrogate_is_a_4xx() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    for lone in ["\\ud800", "\\udfff", "a\\ud800b"] {
        let ev = batch("s", &[&uuid(1)]).replace("\"d1\"", &format!("\"{lone}\""));
        let r = post(&c, "/batch/", ev).await;
        assert_eq!(r.status, 400, "{lone}: {}", r.text());
        let e = error_of(&r);
        assert!(e.contains("surrogate") || e.contains("hex escape"), "{lone}: {e}");
    }
    let l = chain(1, 1, &"a".repeat(64));
    let forged = l[0].to_json().replace("\"path\":\"/\"", "\"path\":\"/\\udc00\"");
    let r = post(&c, "/consentry/receipts", format!("[{forged}]")).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["reason"].as_str().unwrap().contains("surrogate"), "{}", r.text());
    assert_eq!(count(&stats(&c).await, "receipts"), 0);
    c.stop().await;
}

#[tokio::test]
async fn a_million_receipt_chain_in_one_body_is_a_413_after_64_kib() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    // The chain is made as it is sent: the collector stops reading after 64 KiB, so only
    // about a hundred of the million receipts are ever made.
    let made = Arc::new(AtomicUsize::new(0));
    let n = made.clone();
    let mut maker = ChainMaker::new([3; 16], &"a".repeat(64));
    let parts = futures_util::stream::iter((0..1_000_000usize).map(move |i| {
        n.fetch_add(1, Ordering::SeqCst);
        let mut s = String::from(if i == 0 { "[" } else { "," });
        s.push_str(&maker.next_receipt().to_json());
        if i == 999_999 {
            s.push(']');
        }
        Ok::<_, std::io::Error>(Bytes::from(s))
    }));
    let r = call(&c, "POST", "/consentry/receipts", &[], Body::from_stream(parts)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(made.load(Ordering::SeqCst) < 200, "{} receipts made", made.load(Ordering::SeqCst));
    // In gzip, the same chain unpacks past 1 MiB: 413 too, and more than 1000 receipts
    // in one body that does fit is refused by count.
    let mut m = ChainMaker::new([4; 16], &"a".repeat(64));
    let list: Vec<_> = (0..1001).map(|_| m.next_receipt()).collect();
    let packed = gzip(array(&list).as_bytes());
    assert!(packed.len() < 64 * 1024, "{}", packed.len());
    let r = post(&c, "/consentry/receipts", packed).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(error_of(&r).contains("at most 1000 receipts"), "{}", r.text());
    assert_eq!(count(&stats(&c).await, "receipts"), 0);
    c.stop().await;
}

#[tokio::test]
async fn a_million_receipt_chain_stored_verifies_and_exports_in_bounded_memory() {
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    const N: usize = 1_000_000;
    let texts = texts::hash_of("{}");
    let mut m = ChainMaker::new([6; 16], &texts);
    let mut piece = Vec::with_capacity(20_000);
    for _ in 0..N {
        piece.push(m.next_receipt());
        if piece.len() == 20_000 {
            c.app.store.insert_unchecked(std::mem::take(&mut piece)).await.unwrap();
        }
    }
    c.app.store.insert_unchecked(piece).await.unwrap();
    let mut reports = Vec::new();
    let broken = verify::verify_store(&c.app.store, |r| reports.push(r.clone())).await.unwrap();
    assert_eq!(broken, 0, "{reports:?}");
    assert_eq!(reports[0].receipts, N as u64);
    // The next receipt still links (the collector reads only the chain's end).
    let next = m.next_receipt();
    let r = post(&c, "/consentry/receipts", array(&[next])).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The export streams: read it chunk by chunk, never holding it whole.
    use tower::ServiceExt;
    let subject = ChainMaker::subject_id([6; 16]);
    let rq = axum::http::Request::get(format!("/consentry/subjects/{subject}")).body(Body::empty()).unwrap();
    let res = c.router(None).oneshot(rq).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.into_body().into_data_stream();
    use futures_util::StreamExt;
    let (mut bytes, mut chunks, mut biggest, mut tail) = (0usize, 0usize, 0usize, Vec::new());
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len();
        chunks += 1;
        biggest = biggest.max(chunk.len());
        tail = chunk.to_vec();
    }
    assert!(bytes > N * 400, "{bytes} bytes");
    assert!(chunks > 1000 && biggest < 1 << 20, "{chunks} chunks, the biggest {biggest} bytes");
    assert!(String::from_utf8_lossy(&tail).ends_with("}}"), "the export is complete");
    c.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any bytes, plain or gzip, to any endpoint that reads a body: a 2xx or a 4xx with a
    /// JSON error, never a 5xx.
    #[test]
    fn any_body_to_any_endpoint_is_answered(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        zipped in any::<bool>(),
        path in prop_oneof![Just("/batch/"), Just("/consentry/receipts"), Just("/consentry/texts"), Just("/e/")],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = sqlite();
            let c = start(&db, demo_settings()).await;
            let body = if zipped { gzip(&body) } else { body };
            let r = call(&c, "POST", path, &[("content-type", "text/plain")], body).await;
            assert!(r.status.is_success() || r.status.is_client_error(), "{path}: {} {}", r.status, r.text());
            if !r.status.is_success() {
                assert!(r.json()["error"].is_string(), "{}", r.text());
            }
            c.stop().await;
        });
    }
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_gets_a_408() {
    let db = sqlite();
    let settings = consentry_collector::Settings { request_timeout: std::time::Duration::from_millis(500), ..demo_settings() };
    let c = start(&db, settings).await;
    let s = Served::start(&c).await;
    let addr = s.url.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut t = std::net::TcpStream::connect(addr).unwrap();
        t.write_all(b"POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"api_key\":").unwrap();
        t.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let mut out = vec![0u8; 4096];
        let n = t.read(&mut out).unwrap_or(0);
        String::from_utf8_lossy(&out[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
    s.stop().await;
    c.stop().await;
}
