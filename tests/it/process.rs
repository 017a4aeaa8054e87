//! The real binary as a child process (a gateway replica, or an emulator that
//! a test kills and restarts), started on port 0 and known by its ready line.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process, killed when dropped.
pub(crate) struct Process {
    child: Child,
    /// The address from its ready line (`http://…`).
    pub(crate) url: String,
}

impl Process {
    /// Starts `redshift-flight-sql ARGS` and waits (up to a minute) for the
    /// ready line that starts with `ready_prefix`.
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)], ready_prefix: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_redshift-flight-sql"))
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning redshift-flight-sql");
        let stdout = child.stdout.take().expect("stdout");
        let prefix = ready_prefix.to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(addr) = line.strip_prefix(&prefix) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the process printed its ready line");
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or an evicted pod would end.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Credentials for the emulator (it checks no signature) and no IMDS lookups.
pub(crate) const AWS_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// A `serve` replica in front of the emulator at `emulator_url`, signing with `key`.
pub(crate) fn gateway_replica(emulator_url: &str, key: &str) -> Process {
    Process::start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cluster-identifier",
            "test-cluster",
            "--db-user",
            "awsuser",
            "--endpoint-url",
            emulator_url,
            "--signing-key",
            key,
        ],
        &AWS_ENV,
        "flight sql listening on grpc://",
    )
}
