//! The PostgreSQL behind the emulator: a throwaway cluster (initdb into a temp
//! dir, a free port, dropping to the `postgres` user when run as root) and the
//! connector that opens one connection per statement or session.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio_postgres::{Client, NoTls};

/// A PostgreSQL cluster that lives as long as this value (and never longer
/// than the process that started it: a watchdog stops it if that process dies).
#[derive(Debug)]
pub struct ThrowawayCluster {
    supervisor: Child,
    port: u16,
    user: String,
    // Dropped after the server has stopped (field order), which removes the data.
    _dir: tempfile::TempDir,
}

fn postgres_account() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != "postgres" {
            return None;
        }
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

fn find_binary(name: &str) -> PathBuf {
    // PATH first; Debian keeps the server binaries out of PATH.
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin").join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a probe socket")?;
    Ok(listener.local_addr()?.port())
}

impl ThrowawayCluster {
    /// Runs initdb and starts a server on a free loopback port. Blocking: call
    /// it from `spawn_blocking` in async code.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rsfs-pg-")
            .tempdir()
            .context("creating the data directory")?;
        let data = dir.path().join("data");
        let is_root = nix::unistd::geteuid().is_root();
        let account = if is_root {
            let account = postgres_account()
                .context("running as root, and there is no `postgres` user to run PostgreSQL")?;
            std::os::unix::fs::chown(dir.path(), Some(account.0), Some(account.1))
                .context("handing the data directory to the postgres user")?;
            Some(account)
        } else {
            None
        };
        let user = "postgres".to_owned();
        let mut initdb = Command::new(find_binary("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                &user,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = account {
            initdb.uid(uid).gid(gid);
        }
        let out = initdb
            .output()
            .context("running initdb (is PostgreSQL installed?)")?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let port = free_port()?;
        let postgres = find_binary("postgres");
        // The supervisor shell runs the server, stops it on TERM, and stops it
        // (and removes the data) when the process that started it is gone.
        let script = r#"
"$POSTGRES" -D "$DATA" -p "$PORT" -k "$SOCKDIR" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC \
  -c max_connections=400 -c shared_buffers=128MB -c log_min_messages=warning &
pg=$!
stop() { kill -INT "$pg" 2>/dev/null; wait "$pg"; exit 0; }
trap stop TERM INT
while [ -d "/proc/$OWNER" ] && kill -0 "$pg" 2>/dev/null; do
  sleep 1 & wait $!
done
kill -INT "$pg" 2>/dev/null; wait "$pg"
[ -d "/proc/$OWNER" ] || rm -rf "$DATA"
"#;
        let mut supervisor = Command::new("/bin/sh");
        supervisor
            .arg("-c")
            .arg(script)
            .env("POSTGRES", &postgres)
            .env("DATA", &data)
            .env("PORT", port.to_string())
            .env("SOCKDIR", dir.path())
            .env("OWNER", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = account {
            supervisor.uid(uid).gid(gid);
        }
        let mut supervisor = supervisor.spawn().context("starting postgres")?;
        let stderr = supervisor.stderr.take().context("postgres stderr")?;
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("postgres-log".into())
            .spawn(move || {
                let mut ready = Some(ready_tx);
                let mut tail = String::new();
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("ready to accept connections") {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(Ok(()));
                        }
                    } else {
                        tracing::debug!(target: "postgres", "{line}");
                        tail.push_str(&line);
                        tail.push('\n');
                    }
                }
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Err(tail));
                }
            })
            .context("spawning the log reader")?;
        let cluster = Self {
            supervisor,
            port,
            user,
            _dir: dir,
        };
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(())) => Ok(cluster),
            Ok(Err(log)) => bail!("postgres exited before it was ready:\n{log}"),
            Err(_) => bail!("postgres was not ready within 60 s"),
        }
    }

    /// A connection URL for the cluster's superuser and the given database.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }

    /// The data directory's parent (for diagnostics).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.supervisor.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = self.supervisor.wait();
    }
}

/// Opens connections to the PostgreSQL the emulator serves from.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    base: tokio_postgres::Config,
}

/// One open connection with its backend pid.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) pid: i64,
}

impl Connector {
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        let base: tokio_postgres::Config = url.parse().context("parsing the PostgreSQL URL")?;
        Ok(Self { base })
    }

    /// Connects to `database` (the Data API's Database).
    pub(crate) async fn connect(
        &self,
        database: &str,
    ) -> Result<Connection, tokio_postgres::Error> {
        let mut config = self.base.clone();
        config.dbname(database);
        config.application_name("redshift-data-emulator");
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "postgres connection closed");
            }
        });
        let pid: i32 = client
            .query_one("select pg_backend_pid()", &[])
            .await?
            .get(0);
        Ok(Connection {
            client,
            pid: pid.into(),
        })
    }
}
