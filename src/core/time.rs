//! UTC timestamps as ISO 8601 text with milliseconds ("2026-11-23T00:11:32.123Z"). STUB.
/// Formats milliseconds since the Unix epoch.
pub fn format_utc_iso(_ms: i64) -> String {
    String::from("1970-01-01T00:00:00.000Z")
}
/// Parses what `format_utc_iso` writes (exactly that shape); None otherwise.
pub fn parse_utc_iso(_s: &str) -> Option<i64> {
    None
}
