//! Retry delays for anything sent to the site's collector (receipts and analytics batches).
//!
//! Owns: how long to wait before attempt `n` after a failure. Exponential from 1 s, capped at
//! one minute, with up to 25 % jitter so many tabs that lost the network do not retry in step.

/// Delay before retry number `attempt` (1 = first retry). `jitter` is any random u32.
pub fn delay_ms(attempt: u32, jitter: u32) -> u32 {
    let base = 1000u32.saturating_mul(1u32 << attempt.saturating_sub(1).min(6)).min(60_000);
    base + jitter % (base / 4 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_with_bounded_jitter() {
        assert_eq!(delay_ms(1, 0), 1000);
        assert_eq!(delay_ms(2, 0), 2000);
        assert_eq!(delay_ms(6, 0), 32_000);
        assert_eq!(delay_ms(7, 0), 60_000);
        assert_eq!(delay_ms(40, 0), 60_000);
        for j in [1u32, 999, 12345, u32::MAX] {
            let d = delay_ms(3, j);
            assert!((4000..=5000).contains(&d), "{d}");
        }
    }
}
