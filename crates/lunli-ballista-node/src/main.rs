//! One node of a Ballista cluster, as its own process: the scheduler, or an executor that
//! registers with it. The work is Ballista's (`start_server`, `start_executor_process`); this
//! launcher only sets their configuration from a short command line, so that lunli's tests and
//! benchmarks can start a real cluster — one scheduler, several executors, each a process —
//! without installing Ballista's published binaries.
//!
//! ```sh
//! lunli-ballista-node scheduler --port 50050 [--proxy-results]
//! lunli-ballista-node executor --scheduler-port 50050 --port 50051 --grpc-port 50052 --work-dir DIR
//! lunli-ballista-node --until-stdin-closes …   # exits with the process that started it
//! ```

use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Start one node of a Ballista cluster (scheduler or executor) on this machine")]
struct Cli {
    /// Exit when standard input closes: a test that starts the node with a pipe as its input
    /// takes the node down with it, however the test ends.
    #[arg(long, global = true)]
    until_stdin_closes: bool,
    #[command(subcommand)]
    node: Node,
}

#[derive(Subcommand)]
enum Node {
    /// The scheduler: plans queries into stages and hands their tasks to executors.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// gRPC port clients (`df://host:port`) and executors connect to.
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Clients fetch results through the scheduler instead of from each executor, so one
        /// address carries everything a client receives.
        #[arg(long)]
        proxy_results: bool,
    },
    /// An executor: runs the tasks of the scheduler at `--scheduler-host:--scheduler-port`.
    Executor {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Arrow Flight port (where results and shuffle data are fetched from).
        #[arg(long)]
        port: u16,
        /// gRPC port for the scheduler.
        #[arg(long)]
        grpc_port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        scheduler_host: String,
        #[arg(long, default_value_t = 50050)]
        scheduler_port: u16,
        /// Tasks run at once (default: one per core).
        #[arg(long)]
        concurrent_tasks: Option<usize>,
        /// Directory for shuffle files.
        #[arg(long)]
        work_dir: String,
    },
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    if cli.until_stdin_closes {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    // Ballista's planner recurses deeply on large plans; its own binaries use 32 MiB stacks.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(32 << 20).build()?;
    runtime.block_on(run(cli.node))
}

async fn run(node: Node) -> Result<(), Box<dyn std::error::Error>> {
    match node {
        Node::Scheduler { host, port, proxy_results } => {
            let mut config = SchedulerConfig::default().with_hostname(host.clone()).with_port(port);
            config.bind_host = host.clone();
            if proxy_results {
                // An empty endpoint means "this scheduler" (Ballista's `FlightProxy::Local`).
                config = config.with_advertise_flight_sql_endpoint(Some(String::new()));
            }
            let address = format!("{host}:{port}").parse()?;
            let cluster = BallistaCluster::new_from_config(&config).await?;
            start_server(cluster, address, Arc::new(config)).await?;
        }
        Node::Executor { host, port, grpc_port, scheduler_host, scheduler_port, concurrent_tasks, work_dir } => {
            let mut config = ExecutorProcessConfig {
                bind_host: host.clone(),
                external_host: Some(host),
                port,
                grpc_port,
                scheduler_host,
                scheduler_port,
                work_dir: Some(work_dir),
                // The scheduler may start before this executor is up; keep trying for a while.
                scheduler_connect_timeout_seconds: 30,
                print_thread_info: false,
                ..ExecutorProcessConfig::default()
            };
            if let Some(tasks) = concurrent_tasks {
                config.concurrent_tasks = tasks.max(1);
            }
            start_executor_process(Arc::new(config)).await?;
        }
    }
    Ok(())
}
