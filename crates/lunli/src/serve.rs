//! `lunli serve` and `lunli key …`: running the gateway and managing its API keys.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use lunli_gateway::access::{AccessPolicy, new_key};
use lunli_gateway::config::GatewayConfig;
use lunli_gateway::{Gateway, GatewayError};
use lunli_governance::Governance;

use crate::cli::{KeyCommand, ServeArgs};
use crate::context::{Context, now, read_input};
use crate::output::Out;

pub fn run(ctx: &Context, args: &ServeArgs) -> Result<()> {
    init_logs(&args.log_format);
    let mut config = match &args.config {
        Some(path) => GatewayConfig::parse(&path.display().to_string(), &read_input(path)?)?,
        None => GatewayConfig::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    config.trusted_proxies.extend(args.trusted_proxies.iter().copied());
    config.secure_cookies |= args.secure_cookies;
    fit_connections_to_open_files(&mut config);
    let store = Arc::new(ctx.store()?);
    let catalogue = Arc::new(ctx.catalogue.clone());
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| GatewayError::Listen { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(GatewayError::Serve)?;
        // Opening reads the store, which blocks (and PostgreSQL's driver may not block inside a
        // runtime at all): do it where blocking is allowed.
        let gateway = tokio::task::block_in_place(|| Gateway::new(store, catalogue, config))?;
        let stop = shutdown_signal();
        // Printed on standard output so scripts (and tests) can find an ephemeral port.
        println!("lunli serve: listening on http://{addr}");
        tracing::info!(%addr, data_dir = %ctx.data_dir.display(), "listening");
        gateway.serve(listener, stop).await?;
        tracing::info!("stopped; every queued ledger entry was written");
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

/// File descriptors kept for everything but client connections: the store (SQLite's database,
/// journal and WAL files, or a PostgreSQL pool of 8), the ledger's key files, the listener, logs
/// and the async runtime's own, with room to spare.
const RESERVED_FILES: u64 = 256;

/// Each open connection takes a file descriptor. The soft limit on open files is raised to the
/// hard one (often 1,024 → 524,288 on Linux), and `max_connections` is lowered, with a warning,
/// when it would leave the store fewer than [`RESERVED_FILES`]: running out of descriptors
/// fails the store's next open, not just the next connection.
fn fit_connections_to_open_files(config: &mut GatewayConfig) {
    let open_files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!("cannot read or raise the limit on open files: {e}");
            return;
        }
    };
    let allowed = connections_within(open_files, config.max_connections);
    if allowed < config.max_connections {
        tracing::warn!(
            open_files,
            max_connections = config.max_connections,
            allowed,
            "max_connections lowered to leave {RESERVED_FILES} file descriptors for the store"
        );
        config.max_connections = allowed;
    }
}

/// The connections that fit under `open_files` besides [`RESERVED_FILES`]; at least one.
fn connections_within(open_files: u64, requested: usize) -> usize {
    let room = usize::try_from(open_files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    requested.min(room).max(1)
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LUNLI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// Ctrl-C or SIGTERM: stop taking requests, finish those in flight, flush the ledger. The
/// handlers are installed when this is called (inside the runtime), not when the future is first
/// polled, so a signal sent right after the address is printed is never missed.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub fn key(ctx: &Context, command: &KeyCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        KeyCommand::Add { name, roles, person } => {
            let policy = AccessPolicy::default_policy()?;
            for role in roles {
                if !policy.has_role(role) {
                    anyhow::bail!(crate::InputError::command_line(format!(
                        "`{role}` is not a gateway role; expected one of: {}",
                        policy.roles().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            let (key, secret) = new_key(name, person.as_deref(), roles.clone(), &ctx.actor, now())?;
            let key = gov.add_api_key(&ctx.actor, key, now())?;
            if !out.is_table() {
                return out.data(&serde_json::json!({ "id": key.id, "secret": secret, "roles": key.roles }));
            }
            out.line(out.label(
                &format!("已创建密钥 {}（角色：{}）。密钥只显示这一次：", key.id, key.roles.join("、")),
                &format!("Created key {} (roles: {}). The secret is shown this once:", key.id, key.roles.join(", ")),
            ));
            out.line(secret);
        }
        KeyCommand::List => {
            let keys = gov.api_keys()?;
            if !out.is_table() {
                return out.data(&keys);
            }
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("名称", "Name"),
                out.label("人员", "Person"),
                out.label("角色", "Roles"),
                out.label("状态", "State"),
            ]);
            for k in &keys {
                let state = match k.revoked_at {
                    Some(at) => out.label(&format!("已吊销 {at}"), &format!("revoked {at}")),
                    None => out.label("有效", "active"),
                };
                table.add_row(vec![
                    k.id.clone(),
                    k.name.clone(),
                    k.person.clone().unwrap_or_default(),
                    k.roles.join(", "),
                    state,
                ]);
            }
            out.push_table(&table);
        }
        KeyCommand::Revoke { id } => {
            let key = gov.revoke_api_key(&ctx.actor, id, now())?;
            if !out.is_table() {
                return out.data(&key);
            }
            out.line(out.label(&format!("已吊销密钥 {}。", key.id), &format!("Revoked key {}.", key.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_leave_file_descriptors_for_the_store() {
        assert_eq!(connections_within(1_024, 1_024), 768);
        assert_eq!(connections_within(524_288, 1_024), 1_024);
        assert_eq!(connections_within(100, 1_024), 1, "never none at all");
        assert_eq!(connections_within(u64::MAX, 1_024), 1_024, "no limit at all");
    }
}
