//! The tape: how a parsed JSON document crosses from the browser shell into the core.
//!
//! Why: the browser already has a JSON parser (`JSON.parse`); shipping a second one in the
//! `.wasm` cost every visitor about 1 KB brotli. The shell parses, then writes the value as this
//! tape, which takes a fraction of a JSON reader's code to read. Natively (collector, verifier,
//! tests) the core reads JSON text with `json::parse`; both give the same `Value`.
//!
//! Format, lengths and counts as 4-byte little-endian:
//! `n` null, `f` false, `t` true, `d` len number-text (JSON number grammar), `s` len UTF-8,
//! `a` count value…, `o` count (len UTF-8 key, value)…. One value, nothing after it.
//!
//! What differs from `json::parse`: the browser's parser keeps the last of duplicate keys where
//! ours refuses them, and numbers arrive in JavaScript's shortest form (`1.0` arrives as `1`).
//! Neither can change what a receipt's hash covers.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{number_end, Value};

/// Nesting deeper than this is refused (the reader recurses).
const MAX_DEPTH: usize = 64;

/// The value on the tape, or None when it is not a well-formed tape.
pub fn decode(b: &[u8]) -> Option<Value> {
    let mut r = Reader { b, i: 0 };
    let v = r.value(0)?;
    (r.i == b.len()).then_some(v)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(c)
    }
    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for k in 0..4 {
            n |= (self.byte()? as usize) << (8 * k);
        }
        Some(n)
    }
    fn text(&mut self) -> Option<String> {
        let n = self.len()?;
        let t = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        // Checked: the shell's TextEncoder always writes UTF-8, a forged tape need not.
        crate::core::utf8(t).map(String::from)
    }
    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match self.byte()? {
            b'n' => Value::Null,
            b'f' => Value::Bool(false),
            b't' => Value::Bool(true),
            b'd' => {
                let t = self.text()?;
                if number_end(t.as_bytes(), 0) != Some(t.len()) {
                    return None;
                }
                Value::Num(t)
            }
            b's' => Value::Str(self.text()?),
            b'a' => {
                let n = self.len()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Arr(items)
            }
            b'o' => {
                let n = self.len()?;
                let mut fields = Vec::new();
                for _ in 0..n {
                    let k = self.text()?;
                    fields.push((k, self.value(depth + 1)?));
                }
                Value::Obj(fields)
            }
            _ => return None,
        })
    }
}

/// Writes `v` as a tape (what the shell's `tape()` writes; natively for tests and the build).
pub fn encode(v: &Value, out: &mut Vec<u8>) {
    fn text(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    match v {
        Value::Null => out.push(b'n'),
        Value::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Value::Num(t) => {
            out.push(b'd');
            text(out, t);
        }
        Value::Str(s) => {
            out.push(b's');
            text(out, s);
        }
        Value::Arr(items) => {
            out.push(b'a');
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for i in items {
                encode(i, out);
            }
        }
        Value::Obj(fields) => {
            out.push(b'o');
            out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
            for (k, i) in fields {
                text(out, k);
                encode(i, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    fn tape(json_text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&json::parse(json_text).unwrap(), &mut out);
        out
    }

    #[test]
    fn round_trips_every_kind_of_value() {
        let src = r#"{"a":[1,-2.5e3,true,false,null,[]],"b":{"c":"x\"y\\z\n\u0001 Grüße 🍪"},"d":"","e":{}}"#;
        let v = json::parse(src).unwrap();
        assert_eq!(decode(&tape(src)), Some(v));
        assert_eq!(decode(b"n"), Some(Value::Null));
        assert_eq!(decode(b"d\x02\0\0\0-0"), Some(Value::Num(String::from("-0"))));
    }

    #[test]
    fn refuses_anything_malformed() {
        let good = tape(r#"{"k":["v",12]}"#);
        for cut in 0..good.len() {
            assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
        }
        let mut extra = good.clone();
        extra.push(b'n');
        assert_eq!(decode(&extra), None, "something after the value");
        for bad in [&b"x"[..], b"d\x02\0\0\001", b"d\x01\0\0\0-", b"d\x03\0\0\0NaN", b"s\x01\0\0\0\xff", b"s\xff\xff\xff\xff"] {
            assert_eq!(decode(bad), None, "{bad:02x?}");
        }
        let deep = [b'a', 1, 0, 0, 0].repeat(MAX_DEPTH + 2);
        assert_eq!(decode(&deep), None, "nested too deeply");
    }
}
