//! The command line without a browser: these run in the native layer.
mod common;
use std::process::Command;

#[test]
fn missing_chromium_exits_2_and_says_how_to_install_it() {
    let out = Command::new(common::scanner())
        .args(["http://127.0.0.1:9/", "--chromium", "/nonexistent/chromium", "--out"])
        .arg(common::out_dir("no-chromium"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Chromium was not found at /nonexistent/chromium"), "{err}");
    assert!(err.contains("apt-get install chromium"), "{err}");
    assert!(!common::out_dir("no-chromium").join("report.json").exists(), "no report for a scan that did not happen");
}

#[test]
fn no_url_is_a_usage_error() {
    let out = Command::new(common::scanner()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("URL"));
}
