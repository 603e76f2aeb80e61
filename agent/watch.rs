//! Config reload triggers: file-system events on the config's directory and SIGHUP,
//! merged into one stream of "reload now" signals (Vector's design).
//!
//! The *directory* is watched, not the file: editors save by writing a temporary file and
//! renaming it over the config, which kills a watch on the file itself. Bursts of events
//! (an editor's several writes) are debounced into one reload.
//!
//! The config path may be a symlink: `ln -sfn` deployments, or a Kubernetes ConfigMap,
//! where `config.toml -> ..data/config.toml` and an update atomically swaps the `..data`
//! symlink to a new directory. Such a swap names no file called `config.toml`, so besides
//! events naming the config, any event in a watched directory that changes what the path
//! resolves to (another file, or the same file written) counts; and the directory of the
//! resolved file is watched too, so editing a symlink's target elsewhere is seen.

use notify::{RecursiveMode, Watcher as _};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// Why a reload was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadCause {
    FileChanged,
    Hangup,
}

// notify's own watcher (inotify), not one of its debouncers: those run a thread that
// wakes every few milliseconds for the agent's whole life, which an idle agent should not.
// The trailing debounce in `start` coalesces bursts instead.
type FsWatcher = notify::RecommendedWatcher;

/// A running watcher; reload requests arrive on `rx` until it is dropped.
pub struct ConfigWatcher {
    pub rx: mpsc::Receiver<ReloadCause>,
    // The only strong reference: dropping the watcher stops notify, which closes the event
    // channel and ends the debounce task (it holds a `Weak` to re-aim the target watch).
    _fs_watcher: Option<Arc<Mutex<FsWatcher>>>,
}

/// The file the config path leads to, through any symlinks, and what identifies its
/// content: a different file (a swapped symlink) or a write (size, mtime, ctime) changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// What `config_path` resolves to now; `None` while it does not exist (mid-swap, deleted).
fn resolve(config_path: &Path) -> Option<Target> {
    use std::os::unix::fs::MetadataExt;
    let path = std::fs::canonicalize(config_path).ok()?;
    let m = std::fs::metadata(&path).ok()?;
    Some(Target {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        path,
    })
}

/// The directory of the file the config path resolves to, when it is not the config's own
/// directory (which is always watched).
fn target_dir(config_path: &Path, own_dir: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(config_path).ok()?;
    let parent = target.parent()?.to_path_buf();
    let own = std::fs::canonicalize(own_dir).unwrap_or_else(|_| own_dir.to_path_buf());
    (parent != own).then_some(parent)
}

/// Moves the extra watch to the directory the config resolves to now. The old directory
/// may be gone with its watch (a ConfigMap deletes the previous version), so a failed
/// unwatch is expected; a failed watch only means in-place edits there go unnoticed.
fn follow_target(
    fs_watcher: &Mutex<FsWatcher>,
    watching: Option<PathBuf>,
    wanted: Option<PathBuf>,
) -> Option<PathBuf> {
    if watching == wanted {
        return watching;
    }
    let mut d = fs_watcher.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(old) = &watching {
        let _ = d.unwatch(old);
    }
    let new = wanted?;
    match d.watch(&new, RecursiveMode::NonRecursive) {
        Ok(()) => Some(new),
        Err(e) => {
            tracing::warn!(dir = %new.display(), error = %e, "Cannot watch the directory the config links to; edits there need SIGHUP (systemctl reload assetd).");
            None
        }
    }
}

/// Starts watching `config_path`'s directory (and, when the path is a symlink, its target's
/// directory) and SIGHUP. A reload is asked for once the file has been quiet for `debounce`
/// (each new event restarts the wait, so a burst of edits is one reload however long it
/// lasts). If the directory cannot be watched (e.g. inotify limits), SIGHUP still works and
/// a warning says so.
pub fn start(config_path: &Path, debounce: Duration) -> std::io::Result<ConfigWatcher> {
    let (tx, rx) = mpsc::channel(8);
    let file_name: Option<OsString> = config_path.file_name().map(|n| n.to_os_string());
    let dir = config_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // The trailing debounce below decides when a burst of events is over.
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<()>();
    let watched_path = config_path.to_path_buf();
    let mut last = resolve(config_path);
    let fs_watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        if event.kind.is_access() {
            return;
        }
        let names = |name: Option<&std::ffi::OsStr>| {
            name.is_some() && event.paths.iter().any(|p| p.file_name() == name)
        };
        let named = names(file_name.as_deref());
        // Writes into another file cannot change what the config path leads to unless that
        // file is where it leads. They are skipped before `resolve` (a few syscalls): a
        // database kept in the config's directory writes its WAL thousands of times a run.
        if !named
            && matches!(
                event.kind,
                notify::EventKind::Modify(notify::event::ModifyKind::Data(_))
            )
            && !names(last.as_ref().and_then(|t| t.path.file_name()))
        {
            return;
        }
        // Other names matter only when they change what the config path leads to
        // (a swapped `..data` symlink, the target written); the rest of the
        // directory (secrets, other files) is ignored.
        let now = resolve(&watched_path);
        let moved = now != last;
        last = now;
        if named || moved {
            let _ = events_tx.send(());
        }
    });
    let fs_watcher = match fs_watcher {
        Ok(mut d) => match d.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => Some(Arc::new(Mutex::new(d))),
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
    let mut following = fs_watcher
        .as_ref()
        .and_then(|d| follow_target(d, None, target_dir(config_path, &dir)));
    let weak: Weak<Mutex<FsWatcher>> = fs_watcher.as_ref().map_or_else(Weak::new, Arc::downgrade);
    let file_tx = tx.clone();
    let config_path = config_path.to_path_buf();
    tokio::spawn(async move {
        while events_rx.recv().await.is_some() {
            loop {
                match tokio::time::timeout(debounce, events_rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break, // quiet for `debounce`: the burst is over
                }
            }
            // The swap may have moved the target to another directory: watch that one
            // before the reload reads it, so no later edit there is missed.
            if let Some(d) = weak.upgrade() {
                let (path, dir, was) = (config_path.clone(), dir.clone(), following.take());
                following = tokio::task::spawn_blocking(move || {
                    follow_target(&d, was, target_dir(&path, &dir))
                })
                .await
                .unwrap_or(None);
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
        _fs_watcher: fs_watcher,
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

    /// Swaps `link` to point at `target` atomically, as `ln -sfn` and Kubernetes do: a new
    /// symlink under a temporary name, renamed over the old one.
    fn swap_symlink(target: &Path, link: &Path) {
        let tmp = link.with_file_name("..swap_tmp");
        std::os::unix::fs::symlink(target, &tmp).unwrap();
        std::fs::rename(&tmp, link).unwrap();
    }

    #[tokio::test]
    async fn a_configmap_style_symlink_swap_triggers_one_reload() {
        // config.toml -> ..data/config.toml, ..data -> ..v1: what a mounted ConfigMap looks
        // like. An update writes ..v2 and swaps ..data; no event names config.toml.
        let dir = tempfile::tempdir().unwrap();
        for v in ["..v1", "..v2", "..v3"] {
            std::fs::create_dir(dir.path().join(v)).unwrap();
            std::fs::write(dir.path().join(v).join("config.toml"), v).unwrap();
        }
        std::os::unix::fs::symlink("..v1", dir.path().join("..data")).unwrap();
        let path = dir.path().join("config.toml");
        std::os::unix::fs::symlink("..data/config.toml", &path).unwrap();
        let mut w = start(&path, Duration::from_millis(300)).unwrap();

        swap_symlink(Path::new("..v2"), &dir.path().join("..data"));
        std::fs::remove_dir_all(dir.path().join("..v1")).unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "the ..data swap"
        );
        assert!(quiet(&mut w).await, "one swap, one reload");

        // The watch followed the target: the next swap and an edit in the new version's
        // directory are seen too.
        swap_symlink(Path::new("..v3"), &dir.path().join("..data"));
        assert_eq!(next(&mut w).await, Some(ReloadCause::FileChanged));
        assert!(quiet(&mut w).await);
        std::fs::write(dir.path().join("..v3").join("config.toml"), "edited").unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "an edit of the current target"
        );
        std::fs::write(dir.path().join("..v2").join("config.toml"), "stale").unwrap();
        assert!(
            quiet(&mut w).await,
            "an old version's file is not the config"
        );
    }

    #[tokio::test]
    async fn a_symlink_into_another_directory_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let (a, b) = (
            elsewhere.path().join("a.toml"),
            elsewhere.path().join("b.toml"),
        );
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let path = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&a, &path).unwrap();
        let mut w = start(&path, Duration::from_millis(300)).unwrap();

        std::fs::write(&a, "a edited in place").unwrap();
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "the target edited in its own directory"
        );
        assert!(quiet(&mut w).await);
        std::fs::write(elsewhere.path().join("unrelated.toml"), "x").unwrap();
        assert!(
            quiet(&mut w).await,
            "other files next to the target are ignored"
        );

        swap_symlink(&b, &path);
        assert_eq!(
            next(&mut w).await,
            Some(ReloadCause::FileChanged),
            "ln -sfn"
        );
        assert!(quiet(&mut w).await);
        std::fs::write(&b, "b edited").unwrap();
        assert_eq!(next(&mut w).await, Some(ReloadCause::FileChanged));
    }
}
