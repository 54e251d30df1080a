//! A loopback TCP front for a real PostgreSQL server that misbehaves the way a server does
//! while it starts up or while the network is bad, then forwards bytes as a plain proxy:
//!
//! - [`FaultServer::refuse_until`]: the port is reserved but nothing listens until the
//!   instant (clients get `ECONNREFUSED`); the listener is bound only then;
//! - [`FaultServer::starting_up_until`]: every connection gets PostgreSQL's
//!   `FATAL 57P03 the database system is starting up` after its startup packet (an
//!   SSLRequest is answered `N` first, so the client continues in plain text), and is
//!   closed; after the instant, connections are forwarded;
//! - [`FaultServer::cut_after`]: forwards, but shuts down each of the first `n`
//!   connections (both ways, both sides) a fixed time after it was accepted: with 1–30 ms
//!   that lands in the startup exchange, the TLS handshake or right after. It only copies
//!   bytes, so it works in front of a TLS server just as well.
//!
//! Threads and std only. The fronts live as long as the test process (their threads are
//! never joined); each test makes its own.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Fault {
    StartingUpUntil(Instant),
    CutAfter(Duration, usize),
    None,
}

pub struct FaultServer {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    faulted: Arc<AtomicUsize>,
}

impl FaultServer {
    /// Nothing listens on the port until `until`, then it forwards to `upstream`.
    pub fn refuse_until(upstream: SocketAddr, until: Instant) -> FaultServer {
        let port = free_port();
        let server = FaultServer::new(port);
        let (accepted, faulted) = (server.accepted.clone(), server.faulted.clone());
        std::thread::spawn(move || {
            let now = Instant::now();
            if until > now {
                std::thread::sleep(until - now);
            }
            // Re-bind the reserved port; another socket could hold it for a moment.
            let deadline = Instant::now() + Duration::from_secs(5);
            let listener = loop {
                match TcpListener::bind(("127.0.0.1", port)) {
                    Ok(l) => break l,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Err(e) => panic!("fault server: cannot bind 127.0.0.1:{port} again: {e}"),
                }
            };
            serve(listener, upstream, Fault::None, accepted, faulted);
        });
        server
    }

    /// Answers every connection with FATAL 57P03 until `until`, then forwards.
    pub fn starting_up_until(upstream: SocketAddr, until: Instant) -> FaultServer {
        FaultServer::listening(upstream, Fault::StartingUpUntil(until))
    }

    /// Forwards, cutting each of the first `n` connections `after` it was accepted.
    pub fn cut_after(upstream: SocketAddr, after: Duration, n: usize) -> FaultServer {
        FaultServer::listening(upstream, Fault::CutAfter(after, n))
    }

    /// Connections accepted so far (faulted or not).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections that got the fault: answered 57P03, or cut.
    pub fn faulted(&self) -> usize {
        self.faulted.load(Ordering::SeqCst)
    }

    fn new(port: u16) -> FaultServer {
        FaultServer {
            port,
            accepted: Arc::new(AtomicUsize::new(0)),
            faulted: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn listening(upstream: SocketAddr, fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = FaultServer::new(listener.local_addr().unwrap().port());
        let (accepted, faulted) = (server.accepted.clone(), server.faulted.clone());
        std::thread::spawn(move || serve(listener, upstream, fault, accepted, faulted));
        server
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(
    listener: TcpListener,
    upstream: SocketAddr,
    fault: Fault,
    accepted: Arc<AtomicUsize>,
    faulted: Arc<AtomicUsize>,
) {
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let at = Instant::now();
        let nth = accepted.fetch_add(1, Ordering::SeqCst);
        let _ = client.set_nodelay(true);
        let faulted = faulted.clone();
        std::thread::spawn(move || match fault {
            Fault::StartingUpUntil(until) if at < until => {
                faulted.fetch_add(1, Ordering::SeqCst);
                let _ = starting_up(client);
            }
            Fault::CutAfter(after, n) if nth < n => {
                let Some(server) = forward(client.try_clone().unwrap(), upstream) else {
                    return;
                };
                let wait = after.saturating_sub(at.elapsed());
                std::thread::sleep(wait);
                faulted.fetch_add(1, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            }
            _ => {
                forward(client, upstream);
            }
        });
    }
}

/// Connects to `upstream` and copies bytes both ways on two threads; returns the upstream
/// stream (to cut it), or `None` if the upstream refused (the client is then closed).
fn forward(client: TcpStream, upstream: SocketAddr) -> Option<TcpStream> {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return None;
    };
    let _ = server.set_nodelay(true);
    pump(client.try_clone().unwrap(), server.try_clone().unwrap());
    pump(server.try_clone().unwrap(), client);
    Some(server)
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

const SSL_REQUEST: u32 = 80877103;
const GSSENC_REQUEST: u32 = 80877104;

/// Plays a postmaster that is still starting up: reads the startup packet (declining TLS
/// or GSS encryption first), answers FATAL 57P03 and closes.
fn starting_up(mut client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    loop {
        let mut head = [0u8; 8];
        client.read_exact(&mut head)?;
        let len = u32::from_be_bytes(head[0..4].try_into().unwrap()) as usize;
        let code = u32::from_be_bytes(head[4..8].try_into().unwrap());
        if len == 8 && (code == SSL_REQUEST || code == GSSENC_REQUEST) {
            client.write_all(b"N")?;
            continue;
        }
        // The rest of the startup packet (parameters), bounded like the server does.
        let mut rest = vec![0u8; len.saturating_sub(8).min(10_000)];
        client.read_exact(&mut rest)?;
        break;
    }
    client.write_all(&error_response(
        "FATAL",
        "57P03",
        "the database system is starting up",
    ))?;
    client.flush()?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

/// A protocol-3 ErrorResponse message.
pub fn error_response(severity: &str, sqlstate: &str, message: &str) -> Vec<u8> {
    let mut fields = Vec::new();
    for (tag, value) in [
        (b'S', severity),
        (b'V', severity),
        (b'C', sqlstate),
        (b'M', message),
    ] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut out = vec![b'E'];
    out.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(&fields);
    out
}
