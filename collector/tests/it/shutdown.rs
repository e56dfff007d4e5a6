//! A graceful stop: requests in flight finish, and everything acknowledged is in the database
//! when it is opened again.
use crate::common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_receipt_survives_a_stop() {
    for (kind, db) in backends().await {
        let c = start(&db, demo_settings()).await;
        let s = Served::start(&c).await;
        let client = client();
        // Clients keep sending while the stop comes.
        let mut tasks = Vec::new();
        for n in 0..8u8 {
            let (client, url) = (client.clone(), s.url.clone());
            tasks.push(tokio::spawn(async move {
                let l = chain(40 + n, 30, &"a".repeat(64));
                let mut acked = Vec::new();
                for (k, r) in l.iter().enumerate() {
                    let res = client.post(format!("{url}/consentry/receipts")).body(array(std::slice::from_ref(r))).send().await;
                    match res {
                        Ok(res) if res.status() == 200 => acked.push(l[k].id().to_string()),
                        _ => break, // the collector is going: not acknowledged
                    }
                }
                acked
            }));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        s.stop().await;
        c.stop().await;
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        assert!(!acked.is_empty(), "{kind}: something was acknowledged before the stop");
        // Opened again: every acknowledged receipt is there.
        let c = start(&db, demo_settings()).await;
        let stored = count(&stats(&c).await, "receipts") as usize;
        assert!(stored >= acked.len(), "{kind}: {stored} stored, {} acknowledged", acked.len());
        for n in 0..8u8 {
            let subject = consentry_collector::evidence::ChainMaker::subject_id([40 + n; 16]);
            let a = get(&c, &format!("/consentry/subjects/{subject}")).await;
            if a.status == 404 {
                continue;
            }
            let body = a.text();
            for id in acked.iter() {
                // Each acknowledged id of this subject's chain is in its export.
                if chain(40 + n, 30, &"a".repeat(64)).iter().any(|r| r.id() == id) {
                    assert!(body.contains(id.as_str()), "{kind}: {id} acknowledged but not stored");
                }
            }
        }
        c.stop().await;
    }
}
