//! `assetd run --daemonize --pidfile PATH`: running in the background without a service
//! manager, the way init scripts expect.
//!
//! - The pidfile is locked (flock) *before* forking, by the process the user started, so a
//!   second daemon is refused on the terminal with a one-line reason and a non-zero exit.
//!   The lock, not the pid written in the file, decides whether a daemon is alive: locks
//!   die with their process, so a pidfile left by a crash is taken over, and a recycled
//!   pid cannot fool it.
//! - The pid is written to a temporary file, locked, and renamed over the pidfile, so a
//!   reader never sees it empty or half written; the lock follows the new file.
//! - The parent exits only when the daemon is serving (0) or has failed (1, with the
//!   daemon's error printed), told through a pipe: `assetd run --daemonize && next-step`
//!   works.
//! - A clean stop removes the pidfile (only if it is still ours).
//! - Neither the pidfile nor its temporary file is opened through a symlink (`O_NOFOLLOW`):
//!   pidfiles live in shared directories such as /run, and a daemon started as root that
//!   followed a link planted there would create or truncate the link's target.
//!
//! Forking, `setsid`, the second fork, `chdir /`, the umask and the standard streams are
//! `daemonix`'s (the maintained fork of `daemonize`); its own pidfile support is not used,
//! as it locks after the first parent has already exited 0 and truncates in place.

use rustix::event::{PollFd, PollFlags, Timespec};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum DaemonizeError {
    #[error("another assetd{} holds the pidfile {path}; stop it first", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    PidfileHeld { path: PathBuf, pid: Option<u32> },
    #[error(
        "pidfile {path} is a symbolic link; assetd does not follow one (it could point anywhere): remove it, or give the real path"
    )]
    PidfileSymlink { path: PathBuf },
    #[error("pidfile {path}: {source}")]
    Pidfile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the start-up pipe: {0}")]
    Pipe(std::io::Error),
    #[error("cannot daemonize: {0}")]
    Fork(String),
}

/// A locked pidfile. Dropping it (in the daemon) removes the file if it still is ours.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    file: Option<File>,
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// An exclusive, non-blocking lock (`File::try_lock`: `flock(LOCK_EX | LOCK_NB)` on Linux):
/// `Ok(false)` when another process holds it.
fn try_lock(file: &File) -> std::io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

impl Pidfile {
    /// Locks `path`, creating it (and its directory) if needed. Fails with `PidfileHeld`
    /// when a live process holds it.
    pub fn lock(path: &Path) -> Result<Pidfile, DaemonizeError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |source: std::io::Error| {
            if source.raw_os_error() == Some(libc::ELOOP) {
                DaemonizeError::PidfileSymlink {
                    path: path.to_path_buf(),
                }
            } else {
                DaemonizeError::Pidfile {
                    path: path.to_path_buf(),
                    source,
                }
            }
        };
        // The daemon works from /, so a relative path must be fixed now.
        let path = &std::path::absolute(path).map_err(io)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // A holder that removes the file between our open and our lock leaves us a lock on
        // a file nobody can find; then start over with the file now at `path`.
        for _ in 0..10 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map_err(io)?;
            if !try_lock(&file).map_err(io)? {
                let mut text = String::new();
                let _ = (&file).read_to_string(&mut text);
                return Err(DaemonizeError::PidfileHeld {
                    path: path.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            let ours = file.metadata().map_err(io)?;
            match std::fs::symlink_metadata(path) {
                Ok(now) if same_file(&ours, &now) => {
                    return Ok(Pidfile {
                        path: path.to_path_buf(),
                        file: Some(file),
                    });
                }
                _ => continue,
            }
        }
        Err(io(std::io::Error::other(
            "it keeps being replaced while assetd tries to lock it",
        )))
    }

    /// Writes `pid` atomically: a locked temporary file renamed over the pidfile. The old
    /// file's lock is held until the rename is done, so no other starter can slip in.
    pub fn write_pid(&mut self, pid: u32) -> Result<(), DaemonizeError> {
        use std::os::unix::fs::OpenOptionsExt;
        let io = |source| DaemonizeError::Pidfile {
            path: self.path.clone(),
            source,
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = self.path.with_file_name(format!(".{name}.{pid}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io)?;
        let written = (|| {
            use std::os::unix::fs::PermissionsExt;
            if !try_lock(&file)? {
                return Err(std::io::Error::other("a fresh temporary file is locked"));
            }
            // Readable by all, as pidfiles are (`kill $(cat …)` from any admin account),
            // whatever the daemon's umask.
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            file.write_all(format!("{pid}\n").as_bytes())?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        self.file = Some(file);
        Ok(())
    }

    /// The parent's side after forking: the daemon inherited the lock and owns the file
    /// now, so the parent must neither remove it nor unlock it.
    pub fn leave_to_daemon(mut self) {
        if let Some(file) = self.file.take() {
            // Closing our descriptor does not release the lock, which belongs to the open
            // file description the daemon shares.
            drop(file);
        }
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else {
            return;
        };
        // Only our own file: if someone replaced it, it is theirs.
        if let (Ok(ours), Ok(now)) = (file.metadata(), std::fs::symlink_metadata(&self.path))
            && same_file(&ours, &now)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Which side of the fork this process is on.
pub enum Role {
    /// The process the user started: wait for the daemon's word, then exit with it.
    Parent(StartupReport),
    /// The daemon: tell the parent how the start went.
    Daemon(StartupSender),
}

/// Forks into the background: `setsid`, a second fork, `chdir /`, umask 027, stdin and
/// stdout to /dev/null, stderr to `stderr` (the log file) or /dev/null. Must be called
/// while the process has one thread: threads do not survive fork.
pub fn fork(stderr: Option<File>) -> Result<Role, DaemonizeError> {
    let (read_end, write_end) = pipe().map_err(DaemonizeError::Pipe)?;
    let mut d = daemonix::Daemonize::new()
        .working_directory("/")
        .umask(0o027)
        .stdout(daemonix::Stdio::devnull());
    d = match stderr {
        Some(f) => d.stderr(f),
        None => d.stderr(daemonix::Stdio::devnull()),
    };
    match d.execute() {
        daemonix::Outcome::Parent(Ok(_)) => {
            drop(write_end);
            Ok(Role::Parent(StartupReport {
                pipe: File::from(read_end),
            }))
        }
        daemonix::Outcome::Parent(Err(e)) => Err(DaemonizeError::Fork(e.to_string())),
        daemonix::Outcome::Child(result) => {
            drop(read_end);
            let sender = StartupSender {
                pipe: Some(File::from(write_end)),
            };
            match result {
                Ok(_) => Ok(Role::Daemon(sender)),
                Err(e) => {
                    let e = DaemonizeError::Fork(e.to_string());
                    sender.failed(&e.to_string());
                    Err(e)
                }
            }
        }
    }
}

/// The start-up pipe, (read end, write end). CLOEXEC keeps both ends out of anything the
/// daemon might exec: a hook holding the write end would keep the parent from seeing the
/// daemon vanish.
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// The daemon's end of the start-up pipe: one byte `R` when serving, or `E` and the error.
pub struct StartupSender {
    pipe: Option<File>,
}

impl StartupSender {
    pub fn ready(mut self) {
        if let Some(mut p) = self.pipe.take() {
            // The parent may be gone (killed while waiting); the daemon goes on anyway.
            let _ = p.write_all(b"R");
        }
    }

    pub fn failed(mut self, error: &str) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(format!("E{error}").as_bytes());
        }
    }
}

/// What the parent learns.
#[derive(Debug, PartialEq, Eq)]
pub enum Startup {
    Serving,
    Failed(String),
    /// The daemon ended without a word (killed, or crashed before it could say).
    Vanished,
    StillStarting,
}

pub struct StartupReport {
    pipe: File,
}

impl StartupReport {
    /// Waits up to `limit` for the daemon's word.
    pub fn wait(mut self, limit: Duration) -> Startup {
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Startup::StillStarting;
            }
            let mut fds = [PollFd::new(&self.pipe, PollFlags::IN)];
            // A limit too large for a timespec waits without one; the daemon's word or its
            // exit (the pipe's end closing) still ends the wait.
            let timeout = Timespec::try_from(left).ok();
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                Ok(_) => {}
                Err(_) => return Startup::Vanished,
            }
            let mut buf = [0u8; 4096];
            match self.pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(len) => {
                    got.extend_from_slice(&buf[..len]);
                    if got.first() == Some(&b'R') {
                        return Startup::Serving;
                    }
                }
            }
        }
        match got.split_first() {
            Some((b'R', _)) => Startup::Serving,
            Some((b'E', message)) => Startup::Failed(String::from_utf8_lossy(message).into_owned()),
            _ => Startup::Vanished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_pidfile_is_refused_and_a_released_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("assetd.pid");
        let mut first = Pidfile::lock(&path).unwrap();
        first.write_pid(4242).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "4242\n");
        // flock locks are per open file description, so a second open in this same
        // process conflicts just as another process would.
        match Pidfile::lock(&path) {
            Err(DaemonizeError::PidfileHeld { pid, .. }) => assert_eq!(pid, Some(4242)),
            other => panic!("expected PidfileHeld, got {other:?}"),
        }
        drop(first);
        assert!(!path.exists(), "a clean stop removes the pidfile");

        // A stale file (its process gone, so unlocked) is taken over.
        std::fs::write(&path, "999999\n").unwrap();
        let mut second = Pidfile::lock(&path).unwrap();
        second.write_pid(7).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "7\n");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    }

    #[test]
    fn a_pidfile_that_is_a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assetd.pid");
        // Dangling: following it would create the target.
        let target = dir.path().join("created-through-the-link");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let e = Pidfile::lock(&path).unwrap_err();
        assert!(matches!(e, DaemonizeError::PidfileSymlink { .. }), "{e:?}");
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert!(!target.exists(), "nothing was created through the link");
        // To an existing file: following it would lock and later overwrite it.
        std::fs::write(&target, "precious\n").unwrap();
        assert!(matches!(
            Pidfile::lock(&path),
            Err(DaemonizeError::PidfileSymlink { .. })
        ));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_symlink());
    }

    #[test]
    fn a_replaced_pidfile_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assetd.pid");
        let mut p = Pidfile::lock(&path).unwrap();
        p.write_pid(1).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "someone else's\n").unwrap();
        drop(p);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone else's\n");
    }

    #[test]
    fn the_parent_reads_what_the_daemon_says() {
        let (r, w) = pipe().unwrap();
        StartupSender {
            pipe: Some(File::from(w)),
        }
        .failed("invalid config:\nline 3");
        let report = StartupReport {
            pipe: File::from(r),
        };
        assert_eq!(
            report.wait(Duration::from_secs(5)),
            Startup::Failed("invalid config:\nline 3".into())
        );

        let (r, w) = pipe().unwrap();
        StartupSender {
            pipe: Some(File::from(w)),
        }
        .ready();
        assert_eq!(
            StartupReport {
                pipe: File::from(r)
            }
            .wait(Duration::from_secs(5)),
            Startup::Serving
        );

        let (r, w) = pipe().unwrap();
        drop(w);
        assert_eq!(
            StartupReport {
                pipe: File::from(r)
            }
            .wait(Duration::from_secs(5)),
            Startup::Vanished
        );
    }
}
