//! Config reload triggers: file-system events on the config's directory and SIGHUP,
//! merged into one stream of "reload now" signals (Vector's design).
//!
//! The *directory* is watched, not the file: editors save by writing a temporary file and
//! renaming it over the config, which kills a watch on the file itself. Bursts of events
//! (an editor's several writes) are debounced into one reload.

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// Why a reload was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadCause {
    FileChanged,
    Hangup,
}

/// A running watcher; reload requests arrive on `rx` until it is dropped.
pub struct ConfigWatcher {
    pub rx: mpsc::Receiver<ReloadCause>,
    _debouncer: Option<
        notify_debouncer_full::Debouncer<
            notify::RecommendedWatcher,
            notify_debouncer_full::RecommendedCache,
        >,
    >,
}

/// Starts watching `config_path`'s directory and SIGHUP. A reload is asked for once the
/// file has been quiet for `debounce` (each new event restarts the wait, so a burst of
/// edits is one reload however long it lasts). If the directory cannot be watched (e.g.
/// inotify limits), SIGHUP still works and a warning says so.
pub fn start(config_path: &Path, debounce: Duration) -> std::io::Result<ConfigWatcher> {
    let (tx, rx) = mpsc::channel(8);
    let file_name: Option<OsString> = config_path.file_name().map(|n| n.to_os_string());
    let dir = config_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // notify's debouncer only stitches an editor's rename-over save into one event; the
    // trailing debounce below decides when a burst is over.
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<()>();
    let debouncer = new_debouncer(
        Duration::from_millis(50),
        None,
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let ours = events.iter().any(|e| {
                !e.kind.is_access()
                    && e.paths
                        .iter()
                        .any(|p| p.file_name().map(|n| n.to_os_string()) == file_name)
            });
            if ours {
                let _ = events_tx.send(());
            }
        },
    );
    let debouncer = match debouncer {
        Ok(mut d) => match d.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => Some(d),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "Cannot watch the config directory; reload with SIGHUP (systemctl reload assetd).");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "Cannot start the config watcher; reload with SIGHUP (systemctl reload assetd).");
            None
        }
    };
    let file_tx = tx.clone();
    tokio::spawn(async move {
        while events_rx.recv().await.is_some() {
            loop {
                match tokio::time::timeout(debounce, events_rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break, // quiet for `debounce`: the burst is over
                }
            }
            if file_tx.send(ReloadCause::FileChanged).await.is_err() {
                return;
            }
        }
    });
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if tx.send(ReloadCause::Hangup).await.is_err() {
                return;
            }
        }
    });
    Ok(ConfigWatcher {
        rx,
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(w: &mut ConfigWatcher) -> Option<ReloadCause> {
        tokio::time::timeout(Duration::from_secs(5), w.rx.recv())
            .await
            .ok()
            .flatten()
    }

    async fn quiet(w: &mut ConfigWatcher) -> bool {
        tokio::time::timeout(Duration::from_millis(800), w.rx.recv())
            .await
            .is_err()
    }

    #[tokio::test]
    async fn every_way_of_saving_triggers_one_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "a").unwrap();
        // The daemon's own debounce.
        let mut w = start(&path, Duration::from_millis(300)).unwrap();

        std::fs::write(&path, "in place").unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "in-place write"
        );
        assert!(quiet(&mut w).await, "one write, one reload");

        let tmp = dir.path().join(".config.toml.swp");
        std::fs::write(&tmp, "renamed over").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "rename-over save"
        );
        assert!(quiet(&mut w).await);

        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "recreated").unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "delete and re-create"
        );

        std::fs::write(dir.path().join("other.toml"), "x").unwrap();
        assert!(
            quiet(&mut w).await,
            "other files in the directory are ignored"
        );

        for i in 0..20 {
            std::fs::write(&path, format!("burst {i}")).unwrap();
        }
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "a burst"
        );
        assert!(
            quiet(&mut w).await,
            "a burst of edits is debounced into one reload"
        );
    }
}
