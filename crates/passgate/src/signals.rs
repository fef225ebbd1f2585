//! The process's stop signal: Ctrl-C, or SIGTERM where there is one (containers and
//! orchestrators send SIGTERM, then SIGKILL after their grace period).

/// Resolves when the process is asked to stop. If the signal handlers cannot be installed,
/// it never resolves (the process then stops only when killed) and says so in the log.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stop requested: draining in-flight requests");
}
