//! `--config` and `--print-config` through the real binary: the file sets
//! what flags and `RSFS_*` variables leave unset, and the printed
//! configuration shows where each value ended up, secrets redacted.

use std::process::Command;

use super::common::unique;

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_redshift-flight-sql"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("running the binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_file_the_environment_and_the_flags_take_their_turns() {
    let path = std::env::temp_dir().join(format!("{}.toml", unique("rsfs-config")));
    std::fs::write(
        &path,
        "[target]\nworkgroup-name = \"from-file\"\ndatabase = \"from-file\"\n\
         [auth]\nsigning-key = \"file-secret\"\n[limits]\npages-in-flight = 5\nstream-keepalive = \"3s\"\n\
         [query]\nresult-format = \"json\"\n",
    )
    .expect("write");
    let file = path.to_string_lossy().into_owned();
    let (code, printed, stderr) = run(
        &[
            "serve",
            "--config",
            &file,
            "--print-config",
            "--pages-in-flight",
            "6",
        ],
        &[("RSFS_DATABASE", "from-env")],
    );
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "[target]\n",
        "workgroup-name = \"from-file\"",
        "database = \"from-env\"",
        "pages-in-flight = \"6\"",
        "stream-keepalive = \"3s\"",
        "result-format = \"json\"",
        "signing-key = \"<redacted>\"",
        "listen = \"0.0.0.0:32010\"",
    ] {
        assert!(printed.contains(line), "no {line:?} in\n{printed}");
    }
    assert!(!printed.contains("file-secret"));

    std::fs::write(&path, "[limits]\npages-in-flite = 5\n").expect("write");
    let (code, _, stderr) = run(&["serve", "--config", &file, "--workgroup-name", "wg"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("`[limits] pages-in-flite` is not a setting of `serve`"),
        "{stderr}"
    );
}
