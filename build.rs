//! Writes the English texts (`src/core/lang/en.json`) as Rust constants for the core to compile
//! in: English is every visitor's fallback, so it needs no table to read at run time.
use std::{env, fs, path::Path};

fn main() {
    let src = "src/core/lang/en.json";
    println!("cargo:rerun-if-changed={src}");
    let text = fs::read_to_string(src).expect(src);
    let json: serde_json::Value = serde_json::from_str(&text).expect(src);
    let table = json.as_object().expect("en.json: an object");
    let mut out = String::from("/// English, by text name (from src/core/lang/en.json, written by build.rs).\n");
    out.push_str("pub const EN: &[(&str, &str)] = &[\n");
    for (k, v) in table {
        if k == "lang" {
            continue;
        }
        let v = v.as_str().expect("en.json: every value is a text");
        out.push_str(&format!("    ({}, {}),\n", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap()));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("en.rs"), out).unwrap();
}
