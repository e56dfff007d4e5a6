//! Two collector instances on one database, receiving the same subjects' receipts at once
//! (two tabs, retries, a beacon racing a fetch): no fork, nothing lost, duplicates stored once.
use crate::common::*;
use consentry_collector::evidence::{ChainMaker, Receipt};
use consentry_collector::{verify, Collector};
use serde_json::Value;
use std::collections::HashMap;

async fn send(client: &reqwest::Client, base: &str, rs: &[Receipt]) -> (u16, Value) {
    let r = client
        .post(format!("{base}/consentry/receipts"))
        .header("content-type", "text/plain")
        .body(array(rs))
        .send()
        .await
        .expect("an answer");
    let status = r.status().as_u16();
    let text = r.text().await.expect("a body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// Runs the race on two instances over `db`; returns how many subjects' chains it checked.
async fn race(db: &Db, c1: &Collector, c2: &Collector) {
    let (s1, s2) = (Served::start(c1).await, Served::start(c2).await);
    let client = client();
    const SUBJECTS: u8 = 24;
    const LEN: usize = 12;
    let mut tasks = Vec::new();
    for s in 0..SUBJECTS {
        let (client, a, b) = (client.clone(), s1.url.clone(), s2.url.clone());
        tasks.push(tokio::spawn(async move {
            let chain = chain(100 + s, LEN, &"e".repeat(64));
            let mut accepted: Vec<String> = Vec::new();
            let mut acked = 0usize;
            for k in 0..LEN {
                // The outbox (every receipt not yet acknowledged), to both instances at once,
                // and a beacon with the whole chain so far to the first one.
                let outbox = &chain[acked..=k];
                let ((st1, v1), (st2, v2), (st3, v3)) =
                    tokio::join!(send(&client, &a, outbox), send(&client, &b, outbox), send(&client, &a, &chain[..=k]),);
                for (st, v) in [(st1, v1), (st2, v2), (st3, v3)] {
                    assert_eq!(st, 200, "subject {s} k {k}: {v}");
                    accepted.extend(ids(&v, "accepted"));
                }
                acked = k + 1;
            }
            (chain, accepted)
        }));
    }
    // Forks: two different first receipts of one subject, one to each instance at once.
    let mut forks = Vec::new();
    for s in 0..SUBJECTS {
        let (client, a, b) = (client.clone(), s1.url.clone(), s2.url.clone());
        forks.push(tokio::spawn(async move {
            let one = chain(200 + s, 1, &"e".repeat(64));
            let other = ChainMaker::reissued(&one[0], &format!("{:032x}", 0xf0 + s as u32));
            let other = [other];
            let ((sa, va), (sb, vb)) = tokio::join!(send(&client, &a, &one), send(&client, &b, &other));
            (sa, sb, if sa == 200 { vb } else { va })
        }));
    }
    let mut all_accepted: HashMap<String, usize> = HashMap::new();
    let mut chains = Vec::new();
    for t in tasks {
        let (chain, accepted) = t.await.expect("a client task");
        for id in accepted {
            *all_accepted.entry(id).or_default() += 1;
        }
        chains.push(chain);
    }
    for f in forks {
        let (sa, sb, loser) = f.await.expect("a fork task");
        let mut st = [sa, sb];
        st.sort();
        // The loser is a fork by the same secret's holder: 409, shown nothing without the secret.
        assert_eq!(st, [200, 409], "exactly one first receipt wins: {loser}");
        assert!(loser.get("receipts").is_none() && loser["secret"] == "required", "{loser}");
    }
    // Every receipt accepted exactly once, all stored, every chain whole.
    for chain in &chains {
        for r in chain {
            assert_eq!(all_accepted.get(r.id()), Some(&1), "{} accepted once", r.id());
        }
    }
    let mut reports = Vec::new();
    let broken = verify::verify_store(&c1.app.store, |r| reports.push(r.clone())).await.unwrap();
    assert_eq!(broken, 0, "{:?}", reports.iter().filter(|r| r.broken.is_some()).collect::<Vec<_>>());
    assert_eq!(reports.len(), 2 * SUBJECTS as usize, "{}", db.url);
    let full: Vec<_> = reports.iter().filter(|r| r.receipts == LEN as u64).collect();
    assert_eq!(full.len(), SUBJECTS as usize);
    assert_eq!(count(&stats(c2).await, "receipts"), (SUBJECTS as usize * (LEN + 1)) as i64);
    s1.stop().await;
    s2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_never_fork_or_lose() {
    let Some(db) = postgres().await else { return };
    let c1 = start(&db, demo_settings()).await;
    let c2 = start(&db, demo_settings()).await;
    race(&db, &c1, &c2).await;
    c1.stop().await;
    c2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sqlite_instance_under_the_same_race() {
    // SQLite serves one instance; the same race against it (twice the same instance).
    let db = sqlite();
    let c = start(&db, demo_settings()).await;
    race(&db, &c, &c).await;
    c.stop().await;
}
