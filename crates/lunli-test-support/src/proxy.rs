//! A counting TCP proxy, for tests that measure what crosses the network.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A TCP proxy in front of a server that counts the bytes the server sends and keeps them: how
/// the engine tests prove that only aggregates leave a data engine.
pub struct CountingProxy {
    /// `host:port` to connect to instead of the server.
    pub address: String,
    from_server: Arc<AtomicU64>,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards every connection to `target` (`host:port`).
    pub fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let from_server = Arc::new(AtomicU64::new(0));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, keep) = (from_server.clone(), seen.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let (mut client_in, mut server_out) =
                    (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_in, &mut server_out);
                    let _ = server_out.shutdown(Shutdown::Write);
                });
                let (count, keep) = (count.clone(), keep.clone());
                let (mut server_in, mut client_out) = (server, client);
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = server_in.read(&mut buffer) {
                        if n == 0 || client_out.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                        count.fetch_add(n as u64, Ordering::Relaxed);
                        if let Ok(mut kept) = keep.lock() {
                            kept.extend_from_slice(&buffer[..n]);
                        }
                    }
                    let _ = client_out.shutdown(Shutdown::Write);
                });
            }
        });
        CountingProxy { address, from_server, seen }
    }

    /// The bytes the server sent since the last call, and those bytes themselves.
    pub fn take(&self) -> (u64, Vec<u8>) {
        let bytes = self.from_server.swap(0, Ordering::Relaxed);
        let seen = self.seen.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
        (bytes, seen)
    }
}
