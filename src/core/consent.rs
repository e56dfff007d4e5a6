//! The consent state machine: what is allowed now, when to ask again, and what GPC changes.
//!
//! Owns: every rule about purposes, policy version, expiry and the Global Privacy Control signal.
//! The current decision is never stored twice: it is the newest receipt of the visitor's
//! verified evidence log, passed in here as a `Last`. Must never grant a purpose the visitor
//! did not grant: when in doubt, everything but `necessary` is refused.
use crate::core::config::Config;
use crate::core::evidence::Method;

const DAY_MS: i64 = 86_400_000;

/// A choice per purpose id. `necessary` is always present and always true.
pub type Choices = Vec<(String, bool)>;

/// Choices as a JSON object (`{"necessary":true,"analytics":false}`): what `getConsent()` and
/// the `change` event give, and a receipt's `choices`.
pub fn choice_map(c: &[(String, bool)]) -> crate::core::tracker::Prop {
    let mut m = crate::core::tracker::Props::default();
    for (k, v) in c {
        m.push(k, crate::core::tracker::Prop::Bool(*v));
    }
    crate::core::tracker::Prop::Map(m)
}

/// The newest decision, as read from the newest receipt of the verified evidence log.
pub struct Last<'a> {
    pub policy: &'a str,
    pub at_ms: i64,
    pub choices: &'a [(String, bool)],
    /// Whether GPC was on when this decision was made.
    pub gpc: bool,
}

/// What the shell must do at load (or when the GPC signal or the stored log changes).
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Evaluation {
    /// What the gates obey right now.
    pub effective: Choices,
    /// A decision to record now, without asking (a lapse or a GPC opt-out).
    pub record: Option<(Method, Choices)>,
    /// Show the first layer.
    pub ask: bool,
    /// The GPC signal is on and honoured: say so ("opt-out request honoured").
    pub gpc_honoured: bool,
}

/// Every purpose set to `granted`, except `necessary`, which is always on.
pub fn all(config: &Config, granted: bool) -> Choices {
    per_purpose(config, &|id, _| granted || id == "necessary")
}

/// One entry per configured purpose, in config order: its id and what `on` says for it (given
/// the id and whether GPC covers it). The one builder of `Choices`, so it is compiled once.
fn per_purpose(config: &Config, on: &dyn Fn(&str, bool) -> bool) -> Choices {
    let mut out = Vec::with_capacity(config.purposes.len());
    for p in &config.purposes {
        out.push((p.id.clone(), on(&p.id, p.gpc)));
    }
    out
}

/// What "Accept all" grants. While a Global Privacy Control opt-out is honoured, the purposes it
/// covers stay refused: the banner has just said so, and a blanket button must not undo it. The
/// visitor can still grant them one by one (an explicit opt-in, CPRA §7025(c)(3)).
pub fn accept_all(config: &Config, gpc_honoured: bool) -> Choices {
    per_purpose(config, &|_, gpc| !(gpc_honoured && gpc))
}

/// Whether `id` is granted in `choices` (absent means refused).
pub fn granted(choices: &[(String, bool)], id: &str) -> bool {
    choices.iter().any(|(k, v)| k == id && *v)
}

/// The visitor's requested choices made complete: one entry per configured purpose, in config
/// order; anything not named is refused; `necessary` is on whatever was asked; unknown ids drop.
pub fn complete(config: &Config, requested: &[(String, bool)]) -> Choices {
    per_purpose(config, &|id, _| id == "necessary" || granted(requested, id))
}

/// The method to record for a decision: a decision that takes back something granted before is
/// a withdrawal (except through the API, which is always recorded as such).
pub fn method_for(previous: &[(String, bool)], new: &[(String, bool)], asked: Method) -> Method {
    let takes_back = previous.iter().any(|(k, v)| *v && k != "necessary" && !granted(new, k));
    if takes_back && !matches!(asked, Method::Api) {
        Method::Withdraw
    } else {
        asked
    }
}

/// How long a decision lasts: a refusal `refusal_days`, any consent `consent_days`.
pub fn lifetime_ms(config: &Config, choices: &[(String, bool)]) -> i64 {
    let any = choices.iter().any(|(k, v)| *v && k != "necessary");
    (if any { config.consent_days } else { config.refusal_days }) * DAY_MS
}

fn gpc_covered(config: &Config) -> impl Iterator<Item = &str> {
    config.purposes.iter().filter(|p| p.gpc).map(|p| p.id.as_str())
}

/// Whether a purpose that GPC does not cover is left to ask about.
fn uncovered_left(config: &Config) -> bool {
    config.purposes.iter().any(|p| !p.gpc && p.id != "necessary")
}

/// Decides what applies now from the config, the newest recorded decision, the clock and GPC.
pub fn evaluate(config: &Config, last: Option<Last>, now_ms: i64, gpc_signal: bool) -> Evaluation {
    let gpc = gpc_signal && config.honor_gpc && gpc_covered(config).next().is_some();
    let refused = all(config, false);
    let lapse = |method: Method| Evaluation {
        effective: refused.clone(),
        record: Some((method, refused.clone())),
        ask: !gpc || uncovered_left(config),
        gpc_honoured: gpc,
    };
    let Some(last) = last else {
        return Evaluation {
            effective: refused.clone(),
            record: if gpc { Some((Method::Gpc, refused.clone())) } else { None },
            ask: !gpc || uncovered_left(config),
            gpc_honoured: gpc,
        };
    };
    if last.policy != config.policy_version {
        return lapse(Method::PolicyChanged);
    }
    if last.at_ms > now_ms + DAY_MS {
        // The clock went back more than a day: we cannot tell how old the decision is.
        return lapse(Method::Expired);
    }
    if now_ms - last.at_ms > lifetime_ms(config, last.choices) {
        return lapse(Method::Expired);
    }
    let mut effective = complete(config, last.choices);
    // A purpose added to the config since the decision has not been asked about.
    let ask = config.purposes.iter().any(|p| !last.choices.iter().any(|(k, _)| *k == p.id));
    let mut record = None;
    if gpc && !last.gpc && gpc_covered(config).any(|id| granted(&effective, id)) {
        // GPC arrived after a consent given without it: it is an opt-out request (CPRA §7025).
        for (k, v) in effective.iter_mut() {
            if config.purpose(k).is_some_and(|p| p.gpc) {
                *v = false;
            }
        }
        record = Some((Method::Gpc, effective.clone()));
    }
    Evaluation { effective, record, ask, gpc_honoured: gpc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config;

    fn cfg(extra: &str) -> Config {
        let mut s = String::from(r#"{"policyVersion":"2","purposes":[{"id":"analytics"},{"id":"marketing"}"#);
        s.push_str(extra);
        s.push_str("]}");
        config::parse(&s).unwrap()
    }

    fn ch(pairs: &[(&str, bool)]) -> Choices {
        pairs.iter().map(|(k, v)| (String::from(*k), *v)).collect()
    }

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn first_visit_asks_and_grants_nothing() {
        let c = cfg("");
        let e = evaluate(&c, None, NOW, false);
        assert!(e.ask && e.record.is_none() && !e.gpc_honoured);
        assert_eq!(e.effective, ch(&[("necessary", true), ("analytics", false), ("marketing", false)]));
    }

    #[test]
    fn gpc_refuses_covered_purposes_without_asking() {
        let c = cfg("");
        let e = evaluate(&c, None, NOW, true);
        assert!(!e.ask && e.gpc_honoured);
        let (m, choices) = e.record.unwrap();
        assert!(matches!(m, Method::Gpc));
        assert!(!granted(&choices, "analytics") && granted(&choices, "necessary"));
        // With a purpose GPC does not cover, the banner still asks about it.
        let c2 = cfg(r#",{"id":"functional"}"#);
        assert!(evaluate(&c2, None, NOW, true).ask);
        // A site may turn GPC handling off (not recommended; documented).
        let mut c3 = cfg("");
        c3.honor_gpc = false;
        assert!(evaluate(&c3, None, NOW, true).record.is_none());
    }

    #[test]
    fn explicit_opt_in_after_gpc_stands() {
        let c = cfg("");
        let yes = ch(&[("necessary", true), ("analytics", true), ("marketing", false)]);
        let with_gpc = Last { policy: "2", at_ms: NOW - 1000, choices: &yes, gpc: true };
        let e = evaluate(&c, Some(with_gpc), NOW, true);
        assert!(e.record.is_none() && !e.ask && granted(&e.effective, "analytics"));
        // But consent given before GPC was switched on is overridden by it.
        let before = Last { policy: "2", at_ms: NOW - 1000, choices: &yes, gpc: false };
        let e = evaluate(&c, Some(before), NOW, true);
        assert!(!granted(&e.effective, "analytics"));
        assert!(matches!(e.record, Some((Method::Gpc, _))));
    }

    #[test]
    fn policy_bump_and_expiry_lapse_and_ask_again() {
        let c = cfg("");
        let yes = ch(&[("necessary", true), ("analytics", true), ("marketing", true)]);
        let no = ch(&[("necessary", true), ("analytics", false), ("marketing", false)]);
        let e = evaluate(&c, Some(Last { policy: "1", at_ms: NOW, choices: &yes, gpc: false }), NOW, false);
        assert!(e.ask && matches!(e.record, Some((Method::PolicyChanged, _))) && !granted(&e.effective, "analytics"));
        // Consent lasts 365 days by default, a refusal 182.
        let fresh = Last { policy: "2", at_ms: NOW - 364 * DAY_MS, choices: &yes, gpc: false };
        assert!(granted(&evaluate(&c, Some(fresh), NOW, false).effective, "analytics"));
        let old = Last { policy: "2", at_ms: NOW - 366 * DAY_MS, choices: &yes, gpc: false };
        let e = evaluate(&c, Some(old), NOW, false);
        assert!(e.ask && matches!(e.record, Some((Method::Expired, _))));
        let refusal = Last { policy: "2", at_ms: NOW - 183 * DAY_MS, choices: &no, gpc: false };
        assert!(evaluate(&c, Some(refusal), NOW, false).ask);
        let recent = Last { policy: "2", at_ms: NOW - 181 * DAY_MS, choices: &no, gpc: false };
        assert!(!evaluate(&c, Some(recent), NOW, false).ask);
    }

    #[test]
    fn clock_far_behind_the_decision_fails_closed() {
        let c = cfg("");
        let yes = ch(&[("necessary", true), ("analytics", true), ("marketing", true)]);
        let small_skew = Last { policy: "2", at_ms: NOW + 60_000, choices: &yes, gpc: false };
        assert!(granted(&evaluate(&c, Some(small_skew), NOW, false).effective, "analytics"));
        let future = Last { policy: "2", at_ms: NOW + 2 * DAY_MS, choices: &yes, gpc: false };
        let e = evaluate(&c, Some(future), NOW, false);
        assert!(e.ask && !granted(&e.effective, "analytics"));
    }

    #[test]
    fn new_purpose_is_asked_about_and_refused_meanwhile() {
        let c = cfg(r#",{"id":"functional"}"#);
        let old = ch(&[("necessary", true), ("analytics", true), ("marketing", false)]);
        let e = evaluate(&c, Some(Last { policy: "2", at_ms: NOW, choices: &old, gpc: false }), NOW, false);
        assert!(e.ask && granted(&e.effective, "analytics") && !granted(&e.effective, "functional"));
    }

    #[test]
    fn accept_all_leaves_gpc_covered_purposes_refused_while_gpc_is_honoured() {
        let c = cfg(r#",{"id":"functional"}"#);
        assert_eq!(accept_all(&c, false), all(&c, true));
        let under_gpc = accept_all(&c, true);
        assert!(granted(&under_gpc, "functional") && granted(&under_gpc, "necessary"));
        assert!(!granted(&under_gpc, "analytics") && !granted(&under_gpc, "marketing"));
    }

    #[test]
    fn completing_and_naming_decisions() {
        let c = cfg("");
        let done = complete(&c, &ch(&[("analytics", true), ("bogus", true), ("necessary", false)]));
        assert_eq!(done, ch(&[("necessary", true), ("analytics", true), ("marketing", false)]));
        let none = all(&c, false);
        assert!(matches!(method_for(&done, &none, Method::RejectAll), Method::Withdraw));
        assert!(matches!(method_for(&none, &done, Method::Custom), Method::Custom));
        assert!(matches!(method_for(&done, &none, Method::Api), Method::Api));
    }
}
