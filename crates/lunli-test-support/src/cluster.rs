//! A Ballista cluster on this machine for tests: a scheduler and executors, each its own
//! process of lunli-ballista-node.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

fn wait_for(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port} within a minute; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One scheduler and its executors, each a process. Their standard input is a pipe held here:
/// when the test process ends, however it ends, the pipe closes and they exit
/// (`--until-stdin-closes`).
pub struct Cluster {
    port: u16,
    _nodes: Vec<(Child, ChildStdin)>,
    _work: tempfile::TempDir,
}

impl Cluster {
    /// Starts a scheduler and `executors` executors from `binary` (lunli-ballista-node), each
    /// with two task slots, and waits until they listen.
    pub fn start(binary: &Path, executors: usize) -> Cluster {
        assert!(
            binary.exists(),
            "{} is missing; build it with `cargo build -p lunli-ballista-node` (cargo test --workspace does)",
            binary.display()
        );
        let work = tempfile::tempdir().expect("work directory");
        let node = |args: Vec<String>, log: &Path| {
            let log_file = std::fs::File::create(log).expect("log file");
            let mut child = Command::new(binary)
                .arg("--until-stdin-closes")
                .args(args)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(log_file.try_clone().expect("log"))
                .stderr(log_file)
                .spawn()
                .expect("start a node");
            let stdin = child.stdin.take().expect("stdin");
            (child, stdin)
        };
        let port = free_port();
        let log = work.path().join("scheduler.log");
        // Results reach clients through the scheduler, so one address carries all they receive.
        let mut nodes =
            vec![node(vec!["scheduler".into(), "--port".into(), port.to_string(), "--proxy-results".into()], &log)];
        wait_for(port, "the scheduler", &log);
        for i in 0..executors {
            let (flight, grpc) = (free_port(), free_port());
            let dir = work.path().join(format!("executor-{i}"));
            std::fs::create_dir_all(&dir).expect("executor directory");
            let log = work.path().join(format!("executor-{i}.log"));
            let args = [
                "executor",
                "--scheduler-port",
                &port.to_string(),
                "--port",
                &flight.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--concurrent-tasks",
                "2",
                "--work-dir",
                &dir.display().to_string(),
            ]
            .map(String::from)
            .to_vec();
            nodes.push(node(args, &log));
            wait_for(flight, "an executor", &log);
        }
        Cluster { port, _nodes: nodes, _work: work }
    }

    /// The scheduler's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address clients give: `df://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }
}
