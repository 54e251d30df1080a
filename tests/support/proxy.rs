//! A TCP proxy on a loopback port in front of PostgreSQL, for fault tests: it forwards
//! bytes both ways and cuts connections at chosen moments (when the client sends a given
//! pattern, before or after forwarding it; or all at once), can add latency, and counts
//! round trips (client turns: a client chunk on a connection after the server spoke).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct State {
    /// Cut when a client chunk contains `pattern`: `forward` it first or not; `times` left.
    rule: Option<(Vec<u8>, bool, u32)>,
    cuts: u32,
    open: Vec<(TcpStream, TcpStream)>,
    delay: Duration,
    turns: u64,
}

#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                shared
                    .lock()
                    .unwrap()
                    .open
                    .push((client.try_clone().unwrap(), server.try_clone().unwrap()));
                // Who sent last on this connection: a client chunk after the server's
                // answer starts a new round trip.
                let server_spoke = Arc::new(AtomicBool::new(true));
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    shared.clone(),
                    true,
                    server_spoke.clone(),
                );
                pump(server, client, shared.clone(), false, server_spoke);
            }
        });
        Proxy { port, state }
    }

    /// Cuts the next `times` connections whose client sends `pattern`; with `forward`
    /// the chunk reaches the server first (e.g. right after `COMMIT` is sent).
    pub fn cut_when_client_sends(&self, pattern: &str, forward: bool, times: u32) {
        self.state.lock().unwrap().rule = Some((pattern.as_bytes().to_vec(), forward, times));
    }

    /// Cuts every open connection now.
    pub fn cut_all(&self) {
        let mut state = self.state.lock().unwrap();
        for (a, b) in state.open.drain(..) {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
        state.cuts += 1;
    }

    pub fn cuts(&self) -> u32 {
        self.state.lock().unwrap().cuts
    }

    /// Round trips so far, over all connections.
    pub fn turns(&self) -> u64 {
        self.state.lock().unwrap().turns
    }

    /// Adds `delay` to every chunk in each direction (a slow link).
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    state: Arc<Mutex<State>>,
    from_client: bool,
    server_spoke: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let new_turn = server_spoke.swap(!from_client, Ordering::SeqCst) && from_client;
            let (cut, forward, delay) = {
                let mut s = state.lock().unwrap();
                if new_turn {
                    s.turns += 1;
                }
                let delay = s.delay;
                let mut cut = (false, false);
                if from_client
                    && let Some((pattern, forward, times)) = s.rule.as_mut()
                    && *times > 0
                    && chunk
                        .windows(pattern.len())
                        .any(|w| w == pattern.as_slice())
                {
                    *times -= 1;
                    cut = (true, *forward);
                    s.cuts += 1;
                }
                (cut.0, cut.1, delay)
            };
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if (!cut || forward) && to.write_all(chunk).is_err() {
                break;
            }
            if cut {
                if forward {
                    // Let the server read it before the connection goes.
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
