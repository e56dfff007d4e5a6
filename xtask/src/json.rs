//! The demo collector's JSON reader (moved here from the module's core, which now reads documents
//! through `consentry::core::doc::Doc`). Temporary: the deployable collector crate replaces the
//! demo collector and this reader with serde_json.
#[allow(unused_imports)]
use core::num::NonZeroU64;
/// A parsed JSON value. Objects keep insertion order; duplicate keys are rejected by the parser.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's JSON text, already validated against the JSON grammar.
    Num(String),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

/// Where parsing stopped and why. `pos` is a byte offset into the input.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct ParseError {
    pub pos: usize,
    pub what: &'static str,
}

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Parses one JSON document (surrounding white space allowed, nothing else after it).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser { t: text, s: text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

/// Where the JSON number starting at `s[i]` ends, or None when none starts there (RFC 8259
/// grammar: optional minus, no leading zeros, optional fraction and exponent).
pub fn number_end(s: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let start = *i;
        while let Some(b'0'..=b'9') = s.get(*i) {
            *i += 1;
        }
        *i - start
    };
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    let lead_zero = s.get(i) == Some(&b'0');
    let n = digits(&mut i);
    if n == 0 || (lead_zero && n > 1) {
        return None;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = s.get(i) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    Some(i)
}

struct Parser<'a> {
    t: &'a str,
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError { pos: self.i, what }
    }
    /// The input from `start` to the current position. Both are on ASCII bytes (char
    /// boundaries), so this never comes back empty by mistake; no UTF-8 re-validation.
    fn slice(&self, start: usize) -> &'a str {
        self.t.get(start..self.i).unwrap_or("")
    }
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.s.get(self.i) {
            self.i += 1;
        }
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn lit(&mut self, word: &[u8], v: Value) -> Result<Value, ParseError> {
        if self.s.get(self.i..).unwrap_or(&[]).starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.lit(b"null", Value::Null),
            Some(b't') => self.lit(b"true", Value::Bool(true)),
            Some(b'f') => self.lit(b"false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b']') {
                    return Ok(Value::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']') {
                        return Ok(Value::Arr(items));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut fields: Vec<(String, Value)> = Vec::new();
                self.ws();
                if self.eat(b'}') {
                    return Ok(Value::Obj(fields));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a quoted key"));
                    }
                    let at = self.i;
                    let key = self.string()?;
                    if fields.iter().any(|(k, _)| *k == key) {
                        return Err(ParseError { pos: at, what: "duplicate key" });
                    }
                    self.ws();
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    let v = self.value(depth + 1)?;
                    fields.push((key, v));
                    self.ws();
                    if self.eat(b'}') {
                        return Ok(Value::Obj(fields));
                    }
                    if !self.eat(b',') {
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        match number_end(self.s, start) {
            Some(end) => {
                self.i = end;
                Ok(Value::Num(String::from(self.slice(start))))
            }
            None => Err(self.err("invalid number")),
        }
    }
    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.s.get(self.i) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + d as u32;
            self.i += 1;
        }
        Ok(v)
    }
    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(self.slice(start));
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.s.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return Err(self.err("unpaired surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or(self.err("unpaired surrogate"))?);
                            continue;
                        }
                        _ => return Err(self.err("invalid escape")),
                    };
                    self.i += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

#[allow(dead_code)]
impl Value {
    /// The field `key` of an object, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(f) => f.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Obj(f) => Some(f),
            _ => None,
        }
    }
    /// The value as a whole number, if it is a number written without fraction or exponent
    /// that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        let Value::Num(t) = self else { return None };
        let b = t.as_bytes();
        let neg = b.first() == Some(&b'-');
        let mut i = neg as usize;
        let mut v: i64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
            i += 1;
        }
        Some(if neg { -v } else { v })
    }
    /// An integer value.
    pub fn int(n: i64) -> Value {
        let mut s = String::new();
        push_int(&mut s, n);
        Value::Num(s)
    }
    pub fn str(s: &str) -> Value {
        Value::Str(String::from(s))
    }

    /// Writes the value as compact JSON: no white space, keys in their stored order.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Num(t) => out.push_str(t),
            Value::Str(s) => push_str(out, s),
            Value::Arr(a) => {
                out.push('[');
                for (n, v) in a.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Obj(f) => {
                out.push('{');
                for (n, (k, v)) in f.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    push_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// Appends `s` as a JSON string literal. Only `"`, `\` and control characters are escaped, each
/// in one fixed way, so the output is canonical (RFC 8785 makes the same choices).
pub fn push_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut rest = s;
    loop {
        // The longest run that needs no escape is copied at once (bytes of multi-byte UTF-8
        // characters are all >= 0x80, so a run ends only at an ASCII byte: a char boundary).
        let b = rest.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        let (run, tail) = rest.split_at_checked(i).unwrap_or((rest, ""));
        out.push_str(run);
        let Some(&c) = tail.as_bytes().first() else { break };
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            8 => out.push_str("\\b"),
            12 => out.push_str("\\f"),
            c => {
                out.push_str("\\u00");
                out.push(HEX[(c >> 4) as usize] as char);
                out.push(HEX[(c & 15) as usize] as char);
            }
        }
        rest = tail.get(1..).unwrap_or("");
    }
    out.push('"');
}

/// Lower-case hex digits, shared by every hex encoder in the core.
pub const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends a decimal integer without `core::fmt`.
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_digits(out, n.unsigned_abs(), 1);
}

/// Appends `v` in decimal, zero-padded to at least `width` digits. No buffer, no indexing: the
/// highest power of ten first, then one digit per power.
pub fn push_digits(out: &mut String, v: u64, width: u32) {
    // A `NonZeroU64` divisor: no division-by-zero check (and its panic message) in the module.
    let ten = NonZeroU64::MIN.saturating_add(9);
    let mut p = NonZeroU64::MIN;
    let mut digits = 1;
    while digits < width || v / p >= 10 {
        let Some(q) = p.checked_mul(ten) else { break };
        p = q;
        digits += 1;
    }
    loop {
        out.push((b'0' + (v / p % 10) as u8) as char);
        let Some(q) = NonZeroU64::new(p.get() / 10) else { break };
        p = q;
    }
}

/// A receipt read through the core's one strict reader.
pub fn receipt(v: &Value) -> Result<consentry::core::evidence::Receipt, &'static str> {
    let doc: serde_json::Value = serde_json::from_str(&v.to_json()).map_err(|_| "receipt: not JSON")?;
    consentry::core::evidence::Receipt::from_doc(&&doc).map_err(|e| e.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_compact_json() {
        let src = r#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"x\"y\\z\n\u0001"},"d":""}"#;
        let v = parse(src).unwrap();
        assert_eq!(v.to_json(), src);
    }

    #[test]
    fn reads_white_space_escapes_and_surrogates() {
        let v = parse(" { \"k\" : \"\\u00e9\\ud83d\\ude00\\/\" } ").unwrap();
        assert_eq!(v.get("k").unwrap().as_str(), Some("é😀/"));
    }

    #[test]
    fn rejects_bad_documents_with_a_position() {
        for (src, what) in [
            ("", "unexpected end of input"),
            ("{\"a\":1,}", "expected a quoted key"),
            ("[1 2]", "expected ',' or ']'"),
            ("01", "invalid number"),
            ("1.", "invalid number"),
            ("\"abc", "unterminated string"),
            ("\"\\ud800\"", "unpaired surrogate"),
            ("{\"a\":1,\"a\":2}", "duplicate key"),
            ("tru", "invalid literal"),
            ("{} x", "unexpected text after the JSON value"),
            ("\"a\u{1}\"", "control character in string"),
        ] {
            assert_eq!(parse(src).unwrap_err().what, what, "{src}");
        }
        assert_eq!(parse("[1,]").unwrap_err().pos, 3);
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(parse(&deep).unwrap_err().what, "nested too deeply");
    }

    #[test]
    fn integers() {
        assert_eq!(parse("-42").unwrap().as_i64(), Some(-42));
        assert_eq!(parse("1.5").unwrap().as_i64(), None);
        assert_eq!(parse("99999999999999999999").unwrap().as_i64(), None);
        assert_eq!(Value::int(i64::MIN).to_json(), "-9223372036854775808");
        assert_eq!(Value::int(0).to_json(), "0");
    }
}
