//! The network: `fetch` (with keepalive, so a request outlives the page within the browser's
//! 64 KiB budget), gzip through the browser's `CompressionStream`, and `sendBeacon`. Every send is
//! `text/plain`, a CORS-safelisted type, so a collector on another origin needs no preflight.
//! Must never: send anywhere but the URL it is given (the config's own endpoints), or decide
//! what to send (the engine does).
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, ReadableWritablePair, RequestInit, Response};

// `CompressionStream` and `RequestInit.keepalive` are behind web-sys's unstable-APIs flag (or
// missing); these few bindings say what the shell uses of them.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = CompressionStream)]
    type Gzip;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> Result<Gzip, JsValue>;
}

/// What `fetch` may keep alive beyond the page (in-flight bodies together stay under 64 KiB).
const KEEPALIVE_MAX: f64 = 60_000.0;

/// `done(value)` when `p` is kept, `done(undefined)` when it breaks: `p.catch(Function.prototype)
/// .then(done)`. `Function.prototype` is a function that returns undefined, so one closure is
/// made, always called exactly once (and so freed).
fn settled(p: &Promise, done: Box<dyn FnOnce(JsValue)>) {
    // One closure type for every caller: each type would bring its own copy of wasm-bindgen's shims.
    let done = Closure::<dyn FnMut(JsValue)>::once_into_js(done);
    let noop = crate::web::dom::prop(&crate::web::dom::window().map_or(JsValue::UNDEFINED, JsValue::from), "Function");
    let noop = crate::web::dom::prop(&noop, "prototype");
    let caught = crate::web::dom::method(p, "catch").and_then(|c| c.call1(p, &noop).ok()).unwrap_or(JsValue::UNDEFINED);
    if let Some(then) = crate::web::dom::method(&caught, "then") {
        let _ = then.call1(&caught, &done);
    }
}

/// POSTs `body` (a string, or gzip bytes) to `url`; `done(status, response)` gets the status, 0
/// when there was no answer (offline, refused, blocked), and the `Response` (undefined then).
pub fn post(url: &str, body: &JsValue, done: impl FnOnce(u16, JsValue) + 'static) {
    let Some(w) = crate::web::dom::window() else { return };
    // The RequestInit dictionary as a plain object: its fields through Reflect.
    let init: RequestInit = Object::new().unchecked_into();
    let headers = Object::new();
    let size = body.as_string().map_or_else(|| crate::web::dom::prop(body, "length").as_f64().unwrap_or(0.0), |s| s.len() as f64);
    for (o, k, v) in [
        (headers.as_ref(), "Content-Type", JsValue::from_str("text/plain")),
        (init.as_ref(), "method", "POST".into()),
        (init.as_ref(), "credentials", "same-origin".into()),
        (init.as_ref(), "headers", headers.clone().into()),
        (init.as_ref(), "keepalive", (size < KEEPALIVE_MAX).into()),
        (init.as_ref(), "body", body.clone()),
    ] {
        let _ = Reflect::set(o, &k.into(), &v);
    }
    settled(
        &w.fetch_with_str_and_init(url, &init),
        Box::new(move |r| done(crate::web::dom::prop(&r, "status").as_f64().unwrap_or(0.0) as u16, r)),
    );
}

/// The JSON of a `Response`'s body: `done(value)`, or `done(undefined)` when it is not JSON.
pub fn json(response: &JsValue, done: impl FnOnce(JsValue) + 'static) {
    match crate::web::dom::method(response, "json").and_then(|f| f.call0(response).ok()) {
        Some(p) => settled(p.unchecked_ref(), Box::new(done)),
        None => done(JsValue::UNDEFINED),
    }
}

/// Whether the browser took `body` for sending after the page is gone.
pub fn beacon(url: &str, body: &str) -> bool {
    crate::web::dom::window().is_some_and(|w| {
        crate::web::dom::prop(&w, "navigator")
            .unchecked_into::<web_sys::Navigator>()
            .send_beacon_with_opt_str(url, Some(body))
            .unwrap_or(false)
    })
}

/// Whether this browser can gzip (CompressionStream) and the page is visible: a hidden page may be
/// unloading, and compressing is asynchronous, so it sends at once, uncompressed.
pub fn can_gzip() -> bool {
    let Some(w) = crate::web::dom::window() else { return false };
    crate::web::dom::prop(&w, "CompressionStream").is_function() && !crate::web::dom::page_hidden()
}

/// Gzips `text`: `done(Some(bytes))`, or `done(None)` when the browser could not.
pub fn gzip(text: &str, done: impl FnOnce(Option<Uint8Array>) + 'static) {
    let compressed = (|| -> Result<Promise, JsValue> {
        let parts = Array::new();
        parts.set(0, JsValue::from_str(text));
        let blob = Blob::new_with_str_sequence(&parts)?;
        // A CompressionStream is itself the { readable, writable } pair `pipeThrough` takes.
        let gz = Gzip::new("gzip")?;
        let stream = blob.stream().pipe_through(gz.unchecked_ref::<ReadableWritablePair>());
        Response::new_with_opt_readable_stream(Some(&stream))?.array_buffer()
    })();
    match compressed {
        Ok(p) => settled(&p, Box::new(move |buf| done((!buf.is_undefined()).then(|| Uint8Array::new(&buf))))),
        Err(_) => done(None),
    }
}
