//! The CLI as a person meets it on a first run (issue 12 item 11): the real binary, run as a
//! shell runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn orcazap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orcazap"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ORCAZAP_LOG", "warn");
    c
}

/// `orcazap env | head -3`: the reader closed the pipe; that is no error (exit 101 before).
#[test]
fn env_into_a_closed_pipe_exits_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write now meets a closed pipe, as after `head` has its lines
    let out = orcazap()
        .arg("env")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "quiet: {stderr}");
}

/// `postgres://` alone used to connect to the server's default database and create the
/// schema there; it is refused before any connection, naming what is missing.
#[test]
fn incomplete_database_url_is_refused_naming_the_missing_part() {
    for (url, missing) in [
        ("postgres://", "falta o servidor (host)"),
        (
            "postgres://postgres@127.0.0.1:5432",
            "falta o nome do banco",
        ),
    ] {
        let out = orcazap()
            .args(["migrate", "up"])
            .env("ORCAZAP_DATABASE_URL", url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {stderr}");
        assert!(stderr.contains(missing), "{url}: {stderr}");
    }
}

/// The demo's banner says which database file it uses, whether it is new or reused, and how
/// to start fresh.
#[test]
fn demo_says_it_reuses_its_database_file() {
    let dir = std::env::temp_dir().join(format!("orcazap-demo-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let banner = |dir: &std::path::Path| -> String {
        let mut child = orcazap()
            .arg("demo")
            .current_dir(dir)
            .env("ORCAZAP_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut text = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            text.push_str(&line);
            text.push('\n');
            if line.contains("Ctrl-C") || Instant::now() > deadline {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        text
    };
    let first = banner(&dir);
    assert!(first.contains("Banco: ./orcazap-demo.db (novo)"), "{first}");
    let second = banner(&dir);
    assert!(
        second.contains("Banco: ./orcazap-demo.db (reaproveitado"),
        "{second}"
    );
    assert!(
        second.contains("Para começar do zero: pare o demo e apague ./orcazap-demo.db"),
        "{second}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A database that refuses the connection is named as such, in Portuguese, not "pool timed
/// out" (issue 12 item 8).
#[test]
fn refused_database_connection_is_named_in_portuguese() {
    // Port 1 on the loopback: nothing listens there, the kernel refuses at once.
    let out = orcazap()
        .args(["migrate", "up"])
        .env(
            "ORCAZAP_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/orcazap",
        )
        .env("ORCAZAP_DB_ACQUIRE_TIMEOUT_MS", "500")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("o servidor 127.0.0.1:1 recusou a conexão"),
        "{stderr}"
    );
    assert!(!stderr.contains("pool timed out"), "{stderr}");
}
