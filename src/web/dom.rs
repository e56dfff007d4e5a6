//! Small DOM helpers for the shell: build elements with text (never HTML) and attributes, and
//! reach the page's objects.
//!
//! Size: every distinct web-sys method is one more import in the `.wasm` and one more function
//! in the JS glue, so the shell calls methods by name through `call` and reads and writes
//! properties through `get`/`set` (one import each); only the hottest stay typed.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The few JS built-ins the shell imports itself (not through js-sys and web-sys: js-sys exports
/// a `#[no_mangle]` async-task entry point whose formatting and closure code stayed in every
/// `.wasm` through the function table, about a tenth of the module, without ever running).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = window)]
    static WINDOW: JsValue;
    /// Any JS function.
    #[derive(Clone)]
    pub type Func;
    #[wasm_bindgen(method, js_name = call, catch)]
    pub fn call3(this: &Func, ctx: &JsValue, a: &JsValue, b: &JsValue, c: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, js_name = call, catch)]
    pub fn call1(this: &Func, ctx: &JsValue, a: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn reflect_get(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
    fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, js_name = construct, catch)]
    fn reflect_construct(f: &JsValue, args: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn fill_random(bytes: &mut [u8]);
}

pub fn window() -> JsValue {
    WINDOW.with(JsValue::clone)
}

/// `value` as a function, when it is one.
pub fn func_of(value: JsValue) -> Option<Func> {
    if value.is_function() {
        Some(value.unchecked_into())
    } else {
        None
    }
}

/// `window.document` (read, not imported: one import fewer).
pub fn document() -> JsValue {
    get(&window(), "document")
}

/// `new window[kind](msg)` for `Error` and `TypeError`, to return as an exception.
pub fn error(kind: &str, msg: &str) -> JsValue {
    construct(kind, &s(msg), &U).unwrap_or(U)
}

/// A JS string.
pub fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

pub const U: JsValue = JsValue::UNDEFINED;

/// `target[name](a, b)`: the method named `name`, called on `target` (an exception, or no such
/// method, is `Err`). It always passes three arguments (the last `undefined`): fine for methods
/// with fixed parameters, never for variadic ones (`push`, `append`, `console.log`).
pub fn call(target: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
    get(target, name).unchecked_into::<Func>().call3(target, a, b, &U)
}

/// `call`, with `undefined` for an exception.
pub fn run(target: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> JsValue {
    call(target, name, a, b).unwrap_or(U)
}

/// A property of a JS object, or `undefined`.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    try_get(target, key).unwrap_or(U)
}

/// A property of a JS object, or the exception reading it threw.
pub fn try_get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    reflect_get(target, &s(key))
}

/// A property that holds a string (`None` for null, undefined or anything else).
pub fn text(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// `target[key] = value` for a key that is not a string (an index, a symbol).
pub fn set_at(target: &JsValue, key: &JsValue, value: &JsValue) {
    let _ = reflect_set(target, key, value);
}

pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = reflect_set(target, &s(key), value);
}

/// `new window[name](a, b)`: one import for every constructor the shell needs.
pub fn construct(name: &str, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
    let args = json("[]");
    let _ = reflect_set(&args, &JsValue::from(0u32), a);
    let _ = reflect_set(&args, &JsValue::from(1u32), b);
    reflect_construct(&get(&window(), name), &args)
}

/// `[v]` (not through `push`, which is variadic).
pub fn array1(v: &JsValue) -> JsValue {
    let a = json("[]");
    let _ = reflect_set(&a, &JsValue::from(0u32), v);
    a
}

/// `list[i]`, for arrays and node lists.
pub fn at(list: &JsValue, i: u32) -> JsValue {
    reflect_get(list, &JsValue::from(i)).unwrap_or(U)
}

pub fn len(list: &JsValue) -> u32 {
    get(list, "length").as_f64().unwrap_or(0.0) as u32
}

/// A JSON document as a JS value (objects and arrays of constants, without one setter each).
pub fn json(text: &str) -> JsValue {
    json_parse(text).unwrap_or(U)
}

/// `e.getAttribute(name)`.
pub fn attr(e: &JsValue, name: &str) -> Option<String> {
    run(e, "getAttribute", &s(name), &U).as_string()
}

pub fn set_attr(e: &JsValue, name: &str, value: &str) {
    let _ = call(e, "setAttribute", &s(name), &s(value));
}

/// A new element; `ns` for SVG.
pub fn create(tag: &str, ns: Option<&str>) -> JsValue {
    match ns {
        None => run(&document(), "createElement", &s(tag), &U),
        Some(ns) => run(&document(), "createElementNS", &s(ns), &s(tag)),
    }
}

/// A new element from `spec` (see `el`); `ns` for SVG.
pub fn make(spec: &str, ns: Option<&str>) -> JsValue {
    let (tag, mut rest) = crate::core::cut(spec, b'|').unwrap_or((spec, ""));
    let e = create(tag, ns);
    while !rest.is_empty() {
        let (kv, more) = crate::core::cut(rest, b'|').unwrap_or((rest, ""));
        if let Some((k, v)) = crate::core::cut(kv, b'=') {
            set_attr(&e, k, v);
        }
        rest = more;
    }
    e
}

/// Appends a new element to `parent`, with attributes and text content (set as text, never
/// parsed as HTML, so config texts cannot inject markup). `spec` is the tag, then `|name=value`
/// for each constant attribute (one string per call site is smaller than a slice of pairs); a
/// value may hold `=` and spaces but not `|`, so values from config are set with `set_attr`.
pub fn el(parent: &JsValue, spec: &str, text: &str) -> JsValue {
    let e = make(spec, None);
    if !text.is_empty() {
        // Each text takes its direction from its own words: an English fallback on an RTL page
        // reads left to right inside the mirrored layout, an Arabic override right to left.
        set_attr(&e, "dir", "auto");
        set_text(&e, text);
    }
    append(parent, &e);
    e
}

pub fn append(parent: &JsValue, child: &JsValue) {
    let _ = call(parent, "appendChild", child, &U);
}

/// Replaces the element's children with `text` (as text, never HTML).
pub fn set_text(e: &JsValue, text: &str) {
    set(e, "textContent", &s(text));
}

/// `target.addEventListener(event, f)`.
pub fn listen(target: &JsValue, event: &str, f: fn(JsValue)) {
    let _ = call(target, "addEventListener", &s(event), &listener(f));
}

/// `count` random bytes from the browser's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    fill_random(&mut b);
    b
}

pub fn now_ms() -> i64 {
    date_now() as i64
}

pub fn console_error(msg: &str) {
    console("error", msg);
}

/// `console[kind](msg)`, with exactly one argument (the methods are variadic, so not `call`).
pub fn console(kind: &str, msg: &str) {
    let c = get(&window(), "console");
    let _ = get(&c, kind).unchecked_into::<Func>().call1(&c, &s(msg));
}

/// `setTimeout(f, ms)`: the timer's id.
pub fn later(ms: u32, f: &JsValue) -> Option<i32> {
    run(&window(), "setTimeout", f, &JsValue::from(ms)).as_f64().map(|id| id as i32)
}

pub fn cancel(id: i32) {
    let _ = call(&window(), "clearTimeout", &JsValue::from(id), &U);
}

/// The one closure type the shell hands to JS (every distinct type costs its own glue): up to
/// three arguments, a return value, and an exception when it returns `Err`.
pub type Callback = dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// A JS function calling `f` (freed when JS lets go of it).
pub fn func(f: alloc::boxed::Box<Callback>) -> JsValue {
    Closure::wrap(f).into_js_value()
}

/// A JS function calling `f` with its first argument (the event, for listeners).
pub fn listener(f: fn(JsValue)) -> JsValue {
    func(alloc::boxed::Box::new(move |a, _, _| {
        f(a);
        Ok(U)
    }))
}

/// `promise.then(f, f)`: `f` gets the result or the rejection reason.
pub fn then(promise: &JsValue, f: &JsValue) {
    let _ = call(promise, "then", f, f);
}
