//! Verifies every chain a collector database holds, page by page (any number of receipts in
//! bounded memory), and finds receipts whose wording (shown-texts document) is missing.
//!
//! Owns: walking the receipts in (subject, seq) order and reporting per subject. Must never:
//! judge a receipt otherwise than `evidence` does (the core's verifier), or hold more than one
//! page and one receipt per subject in memory.
use crate::evidence::{follows, Receipt};
use crate::store::{Result, Store};

/// What verification found for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectReport {
    pub subject: String,
    /// Receipts stored for the subject.
    pub receipts: u64,
    /// The first break: where and why (`at index I (id X, seq N): reason`).
    pub broken: Option<String>,
    /// How many receipts refer to a texts document the database does not have.
    pub missing_wording: u64,
    /// The first few missing texts hashes (at most `MISSING_SHOWN`).
    pub missing_hashes: Vec<String>,
}

/// How many missing texts hashes a report lists.
pub const MISSING_SHOWN: usize = 5;
/// Receipts read at a time.
const PAGE: i64 = 1000;

struct Walk {
    report: SubjectReport,
    prev: Option<Receipt>,
}

impl Walk {
    fn new(subject: &str) -> Walk {
        Walk {
            report: SubjectReport {
                subject: subject.to_string(),
                receipts: 0,
                broken: None,
                missing_wording: 0,
                missing_hashes: Vec::new(),
            },
            prev: None,
        }
    }
}

/// Verifies every chain; calls `each` once per subject, in subject order. Returns how many
/// subjects were found broken.
pub async fn verify_store(store: &Store, mut each: impl FnMut(&SubjectReport)) -> Result<u64> {
    let mut after: Option<(String, i64)> = None;
    let mut walk: Option<Walk> = None;
    let mut broken = 0u64;
    let mut finish = |w: Walk, broken: &mut u64| {
        if w.report.broken.is_some() {
            *broken += 1;
        }
        each(&w.report);
    };
    loop {
        let page = store.chain_page(after.clone(), PAGE).await?;
        let mut hashes: Vec<String> = Vec::new();
        for row in &page {
            if !hashes.contains(&row.texts) {
                hashes.push(row.texts.clone());
            }
        }
        let present = store.texts_present(&hashes).await?;
        for row in &page {
            if walk.as_ref().is_some_and(|w| w.report.subject != row.subject) {
                if let Some(w) = walk.take() {
                    finish(w, &mut broken);
                }
            }
            let w = walk.get_or_insert_with(|| Walk::new(&row.subject));
            let index = w.report.receipts;
            w.report.receipts += 1;
            if !present.contains(&row.texts) {
                w.report.missing_wording += 1;
                if w.report.missing_hashes.len() < MISSING_SHOWN && !w.report.missing_hashes.contains(&row.texts) {
                    w.report.missing_hashes.push(row.texts.clone());
                }
            }
            if w.report.broken.is_some() {
                continue;
            }
            let checked = Receipt::parse(&row.json).and_then(|r| {
                follows(w.prev.as_ref(), &r)?;
                Ok(r)
            });
            match checked {
                Ok(r) => w.prev = Some(r),
                Err(why) => {
                    let id = serde_json::from_str::<serde_json::Value>(&row.json)
                        .ok()
                        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(String::from))
                        .unwrap_or_else(|| "?".into());
                    w.report.broken = Some(format!("at index {index} (id {id}, seq {}): {why}", row.seq));
                    w.prev = None;
                }
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => {
                after = Some((last.subject.clone(), last.seq));
            }
            _ => break,
        }
    }
    if let Some(w) = walk.take() {
        finish(w, &mut broken);
    }
    Ok(broken)
}
