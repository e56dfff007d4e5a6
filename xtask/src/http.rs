//! A small HTTP/1.1 server for the demo and the tests: one thread per connection, one request per
//! connection (`Connection: close`), read and write timeouts.
//!
//! Why not tiny_http: its connection pool can leave a new connection unserved while its four
//! threads sit on idle keep-alive connections (Chromium opens six), so a page load hung until a
//! browser socket closed. Closing after each response keeps no thread waiting on an idle client.
//!
//! Owns: parsing the request line, headers and `Content-Length`, writing responses, stopping.
//! Must never: buffer a body (the handler reads it, with its own limit), wait on a client
//! longer than `TIMEOUT`, or let a handler's panic take the server down.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a client may take to send its request or read the response.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The request line and headers together.
const MAX_HEAD: u64 = 16 * 1024;
/// Connections served at once; more are answered 503.
const MAX_CONNECTIONS: usize = 64;

pub struct Request {
    pub method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub target: String,
    /// `Content-Length`, when the client sent one.
    pub body_length: Option<usize>,
    body: std::io::Take<BufReader<TcpStream>>,
}

impl Request {
    /// The body: exactly `Content-Length` bytes (none without it).
    pub fn body(&mut self) -> &mut impl Read {
        &mut self.body
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response { status, headers: vec![("Content-Type", content_type.into())], body }
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

pub type Handler = dyn Fn(&mut Request) -> Response + Send + Sync;

/// A running server; `stop` ends it.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
    accept: std::thread::JoinHandle<()>,
}

impl Server {
    /// Serves `listener` on a background thread, calling `handler` for every request.
    pub fn start(listener: TcpListener, handler: Arc<Handler>) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let (stop2, active2) = (stop.clone(), active.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let (handler, active) = (handler.clone(), active2.clone());
                let busy = active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS;
                std::thread::spawn(move || {
                    connection(stream, &*handler, busy);
                    active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Server { addr, stop, active, accept })
    }

    /// Stops accepting and waits up to `grace` for requests in flight. False when some were
    /// still running (a client stalled mid-request; its thread ends at its timeout).
    pub fn stop(self, grace: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        let _ = self.accept.join();
        let end = Instant::now() + grace;
        while self.active.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

fn connection(stream: TcpStream, handler: &Handler, busy: bool) {
    let _ = stream.set_read_timeout(Some(TIMEOUT));
    let _ = stream.set_write_timeout(Some(TIMEOUT));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let (head_only, response) = match read_head(&mut reader) {
        Err(status) => (false, text(status, "bad request\n")),
        Ok(_) if busy => (false, text(503, "busy\n")),
        Ok((method, target, body_length)) => {
            let head_only = method == "HEAD";
            let body = reader.take(body_length.unwrap_or(0) as u64);
            let mut rq = Request { method, target, body_length, body };
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&mut rq)));
            reader = rq.body.into_inner();
            (head_only, answer.unwrap_or_else(|_| text(500, "internal error\n")))
        }
    };
    let _ = write(&mut out, &response, head_only);
    // Lingering close: read what the client still sends (a refused body) so that closing does
    // not reset the connection before it has read the answer.
    let _ = out.shutdown(Shutdown::Write);
    let _ = reader.get_ref().set_read_timeout(Some(Duration::from_secs(1)));
    let _ = std::io::copy(&mut reader.take(8 << 20), &mut std::io::sink());
}

fn text(status: u16, body: &str) -> Response {
    Response::new(status, "text/plain; charset=utf-8", body.as_bytes().to_vec())
}

/// Reads the request line and headers; `Err(status)` for a request this server will not take.
fn read_head(r: &mut BufReader<TcpStream>) -> Result<(String, String, Option<usize>), u16> {
    let mut head = r.by_ref().take(MAX_HEAD);
    let mut line = String::new();
    let mut next = |line: &mut String| -> Result<(), u16> {
        line.clear();
        match head.read_line(line) {
            Ok(_) if line.ends_with('\n') => Ok(()),
            Ok(_) if head.limit() == 0 => Err(431), // too long
            _ => Err(400),                          // cut short, timed out, not UTF-8
        }
    };
    next(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(400);
    }
    let (method, target) = (method.to_string(), target.to_string());
    let mut body_length = None;
    loop {
        next(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            return Ok((method, target, body_length));
        }
        let (name, value) = l.split_once(':').ok_or(400u16)?;
        if name.eq_ignore_ascii_case("content-length") {
            body_length = Some(value.trim().parse().map_err(|_| 400u16)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(411); // browsers send strings with a length; chunked bodies are not taken
        }
    }
}

fn write(out: &mut TcpStream, r: &Response, head_only: bool) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", r.body.len()));
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(&r.body)?;
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(raw).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn one_request_per_connection() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = |rq: &mut Request| {
            let mut body = String::new();
            rq.body().read_to_string(&mut body).unwrap();
            Response::new(200, "text/plain", format!("{} {} [{body}]", rq.method, rq.target).into_bytes())
        };
        let server = Server::start(listener, Arc::new(echo)).unwrap();

        let r = exchange(addr, b"POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyzEXTRA");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("\r\nConnection: close\r\n") && r.contains("\r\nContent-Length: 15\r\n"), "{r}");
        assert!(r.ends_with("\r\n\r\nPOST /a?b [xyz]"), "{r}");
        let r = exchange(addr, b"HEAD / HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("Content-Length: 9\r\nConnection: close\r\n\r\n"), "{r}");
        for (raw, status) in [
            (&b"nonsense\r\n\r\n"[..], "400"),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "400"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "411"),
            (b"GET / HTTP/1.1\r\n", "400"), // the client stops half-way (EOF)
        ] {
            let r = exchange(addr, raw);
            assert!(r.starts_with(&format!("HTTP/1.1 {status} ")), "{r}");
        }
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD as usize));
        assert!(exchange(addr, long.as_bytes()).starts_with("HTTP/1.1 431 "));
        assert!(server.stop(Duration::from_secs(1)));
        assert!(TcpStream::connect(addr).is_err(), "stopped means no longer listening");
    }
}
