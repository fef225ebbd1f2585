//! A local simulator of exactly the Auth0 and Janrain endpoints Passgate calls, faithful to
//! `shared/specs/idp-contracts.md` in paths, methods, status codes, content types, error
//! bodies and rate-limit headers. Tests and the demo run it embedded ([`start`]); operators
//! run it with `passgate idp-sim --listen 127.0.0.1:0 --users FILE`.
//!
//! Auth0 lives at the root (`/oauth/token`, `/api/v2/…`, `/dbconnections/…`); Janrain under
//! [`JANRAIN_PREFIX`] (`/janrain/oauth/…`), because both use `/oauth/token`. Faults, the call
//! log, users' state and the mailbox are reachable in-process through [`SimHandle`] and over
//! HTTP under `/_sim/` (see [`control`]).
//!
//! # Layout
//! - [`config`]: the seed file (users, clients, connections and their password policies).
//! - [`state`]: users, tokens, codes, faults, call log, mailbox; the views tests read.
//! - `server`: request reading, call recording, fault injection, routing.
//! - `auth0`, `janrain`: the provider endpoints; `tickets`: Auth0's reset links (tickets,
//!   `change_password` mails); `limits`: the plans' token buckets and 429s.
//! - `entity`: Janrain's server-side `/entity` and `/entity.update` (owner clients);
//!   `create_user`: Auth0's `POST /api/v2/users` (a Janrain → Auth0 move, issue 19).
//! - `reset_page`: Auth0's hosted change-password page (`/u/reset-password?ticket=…`), where
//!   tickets and change-password email links lead.
//! - [`control`]: the `/_sim/` API.
//! - [`oidc`]: an OpenID Connect issuer at `/oidc` (authorization code + PKCE) for the
//!   console's sign-in, with ID-token faults.
//! - [`policy`]: Auth0's password strength levels, dictionary and personal-info checks.
//! - `wire`: the request/reply values handlers work on.
//! - `connection`: the acceptor whose connections the `drop` fault can cut.

mod auth0;
pub mod config;
mod connection;
pub mod control;
mod create_user;
mod entity;
mod janrain;
mod limits;
pub mod oidc;
pub mod policy;
mod reset_page;
mod server;
pub mod state;
mod tickets;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::{Request, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth0::CHANGE_PASSWORD_SENTENCE;
pub use config::{
    Auth0Settings, CodeErrorShape, DEFAULT_APP_CLIENT, DEFAULT_CONNECTION, DEFAULT_JANRAIN_OWNER,
    JANRAIN_DIRECT_ACCESS, JANRAIN_OWNER, JanrainSettings, MOVE_SCOPES, PASSGATE_SCOPES, Plan,
    SeedUser, SimClient, SimConfig, SimConnection, UniversalLogin, passgate_scopes,
};
pub use oidc::{IdTokenFault, OIDC_PREFIX, OidcClient, OidcPerson, OidcSettings};
pub use policy::PolicyLevel;
pub use server::JANRAIN_PREFIX;
pub use state::{Fault, FaultKind, Mail, RecordedCall, SimState, UserView, sha256_hex};

/// What can go wrong starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The seed file is unreadable or invalid.
    #[error("simulator configuration: {reason}")]
    Config {
        /// What is wrong, with the file name.
        reason: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Starts the simulator on `127.0.0.1:0` (a free port).
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    start_on("127.0.0.1:0", config).await
}

/// Starts the simulator on `listen` (`HOST:PORT`; port 0 picks a free one).
pub async fn start_on(listen: &str, config: SimConfig) -> Result<SimHandle, SimError> {
    let bind_error = |source| SimError::Bind {
        addr: listen.to_owned(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let base_url = format!("http://{addr}");
    let oidc_keys = match &config.oidc {
        None => None,
        Some(settings) => settings
            .validate()
            .and_then(|()| oidc::SigningKeys::new())
            .map(Some)
            .map_err(|reason| SimError::Config { reason })?,
    };
    let switches = Arc::new(connection::KillSwitches::default());
    let state = Arc::new(SimState::new(
        config,
        base_url.clone(),
        Arc::clone(&switches),
        oidc_keys,
    ));
    let acceptor = connection::SimAcceptor::new(listener, switches).map_err(bind_error)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app_state = Arc::clone(&state);
    let app = poem::endpoint::make(move |req: Request| {
        let state = Arc::clone(&app_state);
        async move { server::handle(state, req).await }
    });
    let task = tokio::spawn(async move {
        let signal = async {
            let _ = stopped.await;
        };
        if let Err(error) = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, signal, Some(Duration::from_secs(1)))
            .await
        {
            tracing::warn!(%error, "idp simulator stopped with an error");
        }
    });
    Ok(SimHandle {
        addr,
        janrain_base_url: format!("{base_url}{JANRAIN_PREFIX}"),
        base_url,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`: the Auth0 "domain" (allow it with the clients' loopback
    /// test switch).
    pub base_url: String,
    /// `http://127.0.0.1:PORT/janrain`: the Janrain capture domain.
    pub janrain_base_url: String,
    state: Arc<SimState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// The shared state, for direct inspection.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Seeds (or replaces) a user.
    pub fn seed_user(&self, seed: &SeedUser) {
        let mut world = self.state.world();
        let now = world.now();
        world.upsert_user(&self.state.config, seed, now);
    }

    /// Adds a fault.
    pub fn add_fault(&self, fault: Fault) {
        self.state.world().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.world().faults.clear();
    }

    /// The calls received so far (control calls excluded).
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.state.world().calls.clone()
    }

    /// Every user's current state.
    pub fn users(&self) -> Vec<UserView> {
        self.state
            .world()
            .users
            .iter()
            .map(UserView::from)
            .collect()
    }

    /// One user's state by email (any connection).
    pub fn user(&self, email: &str) -> Option<UserView> {
        let email = email.to_lowercase();
        self.users().into_iter().find(|u| u.email == email)
    }

    /// The emails "sent" so far.
    pub fn mailbox(&self) -> Vec<Mail> {
        self.state.world().mailbox.clone()
    }

    /// Moves the simulator clock forward (token and code expiry).
    pub fn advance_clock(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.state.world().clock_offset += by;
    }

    /// The OIDC issuer identifier, `{base_url}/oidc` (no trailing slash).
    pub fn oidc_issuer(&self) -> String {
        format!("{}{OIDC_PREFIX}", self.base_url)
    }

    /// Makes every ID token issued from now on defective in this way (`None` clears it);
    /// it stays set until changed.
    pub fn set_oidc_id_token_fault(&self, fault: Option<IdTokenFault>) {
        self.state.world().oidc_fault = fault;
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
