//! Writes the English texts (`src/core/lang/en.json`) as a tape (see `src/core/tape.rs`) for the
//! core to compile in: the `.wasm` reads tapes, not JSON text, so English needs no JSON reader.
use std::{env, fs, path::Path};

fn text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn main() {
    let src = "src/core/lang/en.json";
    println!("cargo:rerun-if-changed={src}");
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(src).expect(src)).expect(src);
    let table = json.as_object().expect("en.json: an object");
    // A flat object of texts: `o`, its size, then each key and `s` text.
    let mut out = vec![b'o'];
    out.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for (k, v) in table {
        text(&mut out, k);
        out.push(b's');
        text(&mut out, v.as_str().expect("en.json: every value is a text"));
    }
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("en.tape"), out).unwrap();
}
