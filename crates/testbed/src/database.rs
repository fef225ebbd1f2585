//! Databases for system tests: [`TestDatabase`] (a SQLite file, or a fresh database on the
//! PostgreSQL named by `PASSGATE_TEST_POSTGRES_URL`, dropped afterwards) and
//! [`PrivatePostgres`] (a PostgreSQL server of the test's own, on a free port, which a fault
//! test may stop and start again without touching the machine's shared server).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::ManagedChild;

/// The variable naming a PostgreSQL server for tests (any database on it; tests create their
/// own), and the one (set by `.ci/run`) that makes a missing server a failure, not a skip.
pub use passgate_testkit::postgres::{
    REQUIRE_VAR as REQUIRE_POSTGRES_VAR, URL_VAR as POSTGRES_URL_VAR,
};

/// A database a test owns; removed when dropped.
#[derive(Debug)]
pub enum TestDatabase {
    /// A SQLite file in a temporary directory.
    Sqlite {
        /// Holds the file.
        dir: tempfile::TempDir,
        /// `sqlite://…?mode=rwc`.
        url: String,
    },
    /// A database created on the shared PostgreSQL server.
    Postgres {
        /// The server URL the database was created through.
        admin_url: String,
        /// The database's name.
        name: String,
        /// The URL of the new database.
        url: String,
    },
}

impl TestDatabase {
    /// A fresh SQLite file.
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("passgate-testbed-")
            .tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("p.sqlite").display()
        );
        Ok(Self::Sqlite { dir, url })
    }

    /// A fresh database on `PASSGATE_TEST_POSTGRES_URL`, or `None` (with a line on stderr
    /// saying the case is skipped) when the variable is unset.
    pub fn postgres(case: &str) -> anyhow::Result<Option<Self>> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var_os(REQUIRE_POSTGRES_VAR).is_some() {
                bail!("{case}: {REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not");
            }
            eprintln!("skipped {case}: {POSTGRES_URL_VAR} is not set (no PostgreSQL)");
            return Ok(None);
        };
        let name = format!("passgate_tb_{}_{}", std::process::id(), unique_suffix());
        psql(&admin_url, &format!("create database {name}"))?;
        let url = replace_database(&admin_url, &name)?;
        Ok(Some(Self::Postgres {
            admin_url,
            name,
            url,
        }))
    }

    /// The URL to hand to `passgate`.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
        {
            let _ = psql(
                admin_url,
                &format!("drop database if exists {name} with (force)"),
            );
        }
    }
}

fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    // A per-process random key: enough to keep concurrent test runs apart.
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % 1_000_000_000
}

/// Runs one SQL statement with `psql` (the client that ships with every PostgreSQL install).
pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .output()
        .context("cannot run psql (install the PostgreSQL client)")?;
    if !output.status.success() {
        bail!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `url` with its database name replaced by `name` (query string kept).
fn replace_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .context("the PostgreSQL URL has no scheme")?;
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// A PostgreSQL server of our own (initdb into a temporary directory, trust auth, a free
/// loopback port), for tests that restart the database under a running gateway.
#[derive(Debug)]
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
    server: Option<ManagedChild>,
}

impl PrivatePostgres {
    /// Initialises and starts a server, or `None` (saying why on stderr) when the PostgreSQL
    /// server binaries are not installed.
    pub fn start(case: &str) -> anyhow::Result<Option<Self>> {
        let Some(bin) = server_bin_dir() else {
            eprintln!("skipped {case}: no PostgreSQL server binaries under /usr/lib/postgresql");
            return Ok(None);
        };
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new().prefix("passgate-pg-").tempdir()?;
        if as_postgres_user {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        let mut server = Self {
            bin,
            dir,
            port: free_port()?,
            as_postgres_user,
            server: None,
        };
        let mut init = server.command("initdb");
        init.arg("-D").arg(server.data_dir()).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(&mut init)?;
        server.start_server()?;
        Ok(Some(server))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits for it.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut server) = self.server.take() {
            server.signal("INT")?;
            let status = server.terminate(Duration::from_secs(30))?;
            if !status.success() {
                bail!("postgres exited with {status}: {}", server.stderr());
            }
        }
        Ok(())
    }

    /// Starts the server again on the same port and data.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop()?;
        self.start_server()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
                .arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn start_server(&mut self) -> anyhow::Result<()> {
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ]);
        let server = ManagedChild::spawn("postgres", command)?;
        self.server = Some(server);
        for _ in 0..300 {
            if psql(&self.url(), "select 1").is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = self.server.as_ref().map(ManagedChild::stderr);
        bail!("the private PostgreSQL did not start: {log:?}")
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn server_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("postgres").is_file() && bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
