//! Writes the English texts (`src/core/lang/en.json`) as Rust constants for the core to compile
//! in: English is every visitor's fallback, so it needs no table to read at run time.
use std::{env, fs, path::Path};

fn main() {
    let src = "src/core/lang/en.json";
    println!("cargo:rerun-if-changed={src}");
    let text = fs::read_to_string(src).expect(src);
    let json: serde_json::Value = serde_json::from_str(&text).expect(src);
    let table = json.as_object().expect("en.json: an object");
    // In the order of `texts::ALL`, which lists the names (so the .wasm holds no second copy).
    let names: Vec<&String> = table.keys().filter(|k| *k != "lang").collect();
    let all = fs::read_to_string("src/core/texts.rs").expect("src/core/texts.rs");
    let mut out = String::from("/// English, in `ALL` order (from src/core/lang/en.json, written by build.rs).\n");
    out.push_str("const EN: [&str; 30] = [\n");
    let mut count = 0;
    for line in all.lines() {
        // `(Key::Title, "title"),` lines of ALL.
        let Some(name) = line.trim().strip_prefix("(Key::").and_then(|l| l.split('"').nth(1)) else { continue };
        let v = table.get(name).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("en.json: no text {name}"));
        out.push_str(&format!("    {},\n", serde_json::to_string(v).unwrap()));
        count += 1;
    }
    assert_eq!(count, names.len(), "en.json and texts::ALL name the same texts");
    out.push_str("];\n");
    println!("cargo:rerun-if-changed=src/core/texts.rs");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("en.rs"), out).unwrap();
}
