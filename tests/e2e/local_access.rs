//! What other local users and processes can do to the agent and through it (issue 21): the
//! socket's group is the querying group, never the one that reads secrets; a `listen` path
//! replaces only a stale socket; the socket is 0660 from its first byte; `assetctl` trusts a
//! per-user socket only in a directory that is the user's alone; the pidfile and the demo's
//! directory are not followed through symlinks; the agent cannot be dumped or traced by
//! another process of its user.

use crate::common;
use crate::common::{ASSETCTL, ASSETD, short_tempdir, write_private};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `nobody` and `nogroup`: an identity that is neither the agent's nor in its groups.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// An agent with no sources (nothing to sync, so it starts at once) on a socket in `dir`.
fn bare_config(dir: &Path, extra_agent_lines: &str) -> String {
    format!(
        "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\n{extra_agent_lines}\n",
        dir.join("a.db").display(),
        dir.join("a.sock").display()
    )
}

/// `assetd run` on `config`, as `uid`:`gid` when given (the test then runs as root), its
/// stderr in `log`. Killed when dropped.
struct Spawned {
    child: Child,
    log: PathBuf,
}

impl Spawned {
    fn start(config: &Path, log: &Path, id: Option<(u32, u32)>) -> Spawned {
        Spawned::start_with_umask(config, log, id, None)
    }

    /// As `start`, with the process's umask set to `umask` (octal) first.
    fn start_with_umask(
        config: &Path,
        log: &Path,
        id: Option<(u32, u32)>,
        umask: Option<&str>,
    ) -> Spawned {
        let mut cmd = match umask {
            None => Command::new(ASSETD),
            Some(mask) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("umask {mask} && exec \"$0\" \"$@\""))
                    .arg(ASSETD);
                sh
            }
        };
        cmd.args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log"));
        if let Some((uid, gid)) = id {
            // std drops root's supplementary groups when it sets the uid.
            cmd.uid(uid).gid(gid);
        }
        Spawned {
            child: cmd.spawn().expect("spawn assetd"),
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has a line with `what` (a line written after the socket is bound:
    /// the agent opens its service between the two).
    fn wait_for_log(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.log().contains(what) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("assetd exited early ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the log never said {what:?}:\n{}", self.log());
    }

    /// Waits until `path` exists (the agent has bound its socket).
    fn wait_for(&mut self, path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if path.exists() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("assetd exited early ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} never appeared:\n{}", path.display(), self.log());
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The agent is not dumpable: the kernel then gives its /proc/PID files to root, so no other
/// process of its own user can ptrace it or read its memory (or get a core file of it).
/// As root the test runs the agent as `nobody`, since a root process's /proc entry is
/// root's anyway.
#[test]
fn the_agent_cannot_be_dumped_or_traced_by_its_own_user() {
    let dir = short_tempdir();
    let config = dir.path().join("config.toml");
    write_private(&config, &bare_config(dir.path(), ""));
    let id = if is_root() {
        for path in [dir.path(), config.as_path()] {
            std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
        }
        Some((NOBODY, NOBODY))
    } else {
        None
    };
    let runs_as = id.map_or_else(|| rustix::process::geteuid().as_raw(), |(uid, _)| uid);
    let mut agent = Spawned::start(&config, &dir.path().join("agent.log"), id);
    agent.wait_for(&dir.path().join("a.sock"));
    // (The directory /proc/PID itself keeps the owner it was first looked up with; the files
    // in it follow the process's dumpable flag.)
    let mem = std::fs::metadata(format!("/proc/{}/mem", agent.child.id())).expect("/proc/PID/mem");
    assert_ne!(
        runs_as, 0,
        "the agent must run as someone other than root here"
    );
    assert_eq!(
        mem.uid(),
        0,
        "/proc/PID/mem of a non-dumpable process belongs to root, not to its user {runs_as}:\n{}",
        agent.log()
    );
}

/// A `listen` path that names a file other than a socket is refused, and the file kept: the
/// agent used to unlink whatever it could not connect to.
#[test]
fn a_listen_path_naming_another_file_is_refused_and_the_file_kept() {
    let dir = short_tempdir();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me\n").expect("write");
    let link = dir.path().join("link.sock");
    std::os::unix::fs::symlink(&notes, &link).expect("symlink");
    let dangling = dir.path().join("dangling.sock");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
    let subdir = dir.path().join("sub.sock");
    std::fs::create_dir(&subdir).expect("mkdir");
    for (path, what) in [
        (&notes, "a regular file"),
        (&link, "a symbolic link"),
        (&dangling, "a symbolic link"),
        (&subdir, "a directory"),
    ] {
        let config = dir.path().join("config.toml");
        write_private(
            &config,
            &format!(
                "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\n",
                dir.path().join("a.db").display(),
                path.display()
            ),
        );
        let out = common::run_until_exit(&config, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", path.display());
        assert!(
            stderr.contains(&format!(
                "cannot listen on {}: it is {what}, not a socket",
                path.display()
            )) && stderr.contains("agent.listen"),
            "the message names the path, what it is and what to do: {stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep me\n");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert!(
        !dir.path().join("nowhere").exists(),
        "nothing was created through the link"
    );
    assert!(subdir.is_dir());
}

/// `check-config` refuses a socket path on the agent's own files, and so does a start: the
/// database (the original finding: it was unlinked), its WAL, shared memory and lock, and
/// the config itself.
#[test]
fn a_listen_path_on_the_agents_own_files_is_refused_before_anything_is_touched() {
    let dir = short_tempdir();
    let db = dir.path().join("a.db");
    let config = dir.path().join("config.toml");
    // A live database first, from a normal start and stop.
    write_private(&config, &bare_config(dir.path(), ""));
    {
        let mut agent = Spawned::start(&config, &dir.path().join("agent.log"), None);
        agent.wait_for(&dir.path().join("a.sock"));
    }
    let size = std::fs::metadata(&db).expect("the database exists").len();
    for (target, what) in [
        (db.display().to_string(), "the database"),
        (format!("{}-wal", db.display()), "write-ahead log"),
        (format!("{}-shm", db.display()), "shared-memory file"),
        (format!("{}.lock", db.display()), "lock file"),
        (config.display().to_string(), "this config file"),
    ] {
        write_private(
            &config,
            &format!(
                "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{target}\"]\n",
                db.display()
            ),
        );
        let check = Command::new(ASSETD)
            .arg("check-config")
            .arg(&config)
            .output()
            .expect("check-config");
        let said = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(2), "{target}: {said}");
        assert!(
            said.contains(&format!("`unix://{target}` is")) && said.contains(what),
            "{said}"
        );
        let run = common::run_until_exit(&config, Duration::from_secs(30));
        assert!(!run.status.success());
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(what),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    assert_eq!(std::fs::metadata(&db).expect("still there").len(), size);
}

/// The socket file is never more open than 0660, from the moment `bind` makes it, whatever
/// the umask: with umask 000 it is made 0660 and never changed after (the agent used to bind
/// under the umask, 0777 here, then chmod); with the unit's 0077 it is widened to exactly
/// 0660 before the agent serves.
#[test]
fn the_socket_is_never_more_open_than_0660_whatever_the_umask() {
    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    for umask in ["000", "002", "077"] {
        let dir = short_tempdir();
        let config = dir.path().join("config.toml");
        write_private(&config, &bare_config(dir.path(), ""));
        let socket = dir.path().join("a.sock");
        let watch = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).expect("inotify");
        inotify::add_watch(&watch, dir.path(), WatchFlags::CREATE | WatchFlags::ATTRIB)
            .expect("watch");
        let mut agent =
            Spawned::start_with_umask(&config, &dir.path().join("agent.log"), None, Some(umask));
        agent.wait_for(&socket);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ctl_status_ok(&socket) {
            assert!(Instant::now() < deadline, "never served:\n{}", agent.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        let mut events = inotify::Reader::new(&watch, &mut buf);
        let mut seen = Vec::new();
        while let Ok(event) = events.next() {
            if event.file_name().is_some_and(|n| n.to_bytes() == b"a.sock") {
                seen.push(event.events());
            }
        }
        assert!(
            seen.first().is_some_and(|e| e.contains(ReadFlags::CREATE)),
            "umask {umask}: {seen:?}"
        );
        if umask != "077" {
            assert!(
                !seen.iter().any(|e| e.contains(ReadFlags::ATTRIB)),
                "umask {umask}: the socket's mode or owner changed after it was made, so it was made with another: {seen:?}"
            );
        }
        let mode = std::fs::metadata(&socket).expect("socket").mode() & 0o7777;
        assert_eq!(mode, 0o660, "umask {umask}");
    }
}

/// `assetctl --socket SOCKET status` succeeds.
fn ctl_status_ok(socket: &Path) -> bool {
    Command::new(common::ASSETCTL)
        .arg("--socket")
        .arg(socket)
        .arg("status")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The gid of `name` in /etc/group.
fn gid_of(name: &str) -> Option<u32> {
    std::fs::read_to_string("/etc/group")
        .ok()?
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name)).then(|| f.get(2)?.parse().ok())?
        })
}

/// The socket belongs to `agent.socket_group`, whose members (and no one else) may query;
/// a secret file open to that group is refused, while the same file in another group (the
/// service's own) is fine. Acting as other users needs root.
#[test]
fn the_socket_belongs_to_the_querying_group_and_no_secret_may_be_open_to_it() {
    if !is_root() {
        println!("SKIPPED: acting as other users needs root");
        return;
    }
    let (Some(nogroup), Some(other)) = (gid_of("nogroup"), gid_of("daemon")) else {
        println!("SKIPPED: this system has no groups `nogroup` and `daemon`");
        return;
    };
    let dir = short_tempdir();
    // Others may pass through to the socket, so what admits them is the socket's group.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let key = dir.path().join("auvik.key");
    write_private(&key, "canary-key-4711\n");
    let config = dir.path().join("config.toml");
    let with_source = format!(
        "{}[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nusername = \"u@example.com\"\n\
         api_key = {{ file = \"{}\" }}\ndomain_prefix = \"p\"\nbase_url = \"http://127.0.0.1:9/\"\n",
        bare_config(dir.path(), "socket_group = \"nogroup\""),
        key.display()
    );
    write_private(&config, &with_source);
    let check = || {
        Command::new(ASSETD)
            .arg("check-config")
            .arg(&config)
            .output()
            .expect("check-config")
    };
    // 0640 in the socket's group: refused, naming the file, the group and the fix.
    std::os::unix::fs::chown(&key, None, Some(nogroup)).expect("chgrp");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = check();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "secret file {} is open to group `nogroup`, the group of the agent's socket",
            key.display()
        )) && said.contains("chmod 0600"),
        "{said}"
    );
    assert!(!said.contains("canary-key-4711"), "{said}");
    // Group-writable is as bad: whoever writes a key or a token has it.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o620)).expect("chmod");
    assert_eq!(check().status.code(), Some(2));
    // The same mode in another group (the service's own) is fine.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::chown(&key, None, Some(0)).expect("chgrp");
    let out = check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The running agent's socket: group `nogroup`, 0660.
    write_private(
        &config,
        &bare_config(dir.path(), "socket_group = \"nogroup\""),
    );
    let socket = dir.path().join("a.sock");
    let mut agent = Spawned::start(&config, &dir.path().join("agent.log"), None);
    agent.wait_for(&socket);
    let meta = std::fs::metadata(&socket).expect("socket");
    assert_eq!((meta.gid(), meta.mode() & 0o7777), (nogroup, 0o660));
    agent.wait_for_log("assetd is serving");
    assert!(
        agent.log().contains("for group `nogroup`"),
        "the start-up line says who may use the socket:\n{}",
        agent.log()
    );
    let ctl_as = |uid: u32, gid: u32| {
        Command::new(ASSETCTL)
            .arg("--socket")
            .arg(&socket)
            .arg("status")
            .uid(uid)
            .gid(gid)
            .env_remove("HOME")
            .output()
            .expect("assetctl")
    };
    // A member of the group may query.
    let member = ctl_as(NOBODY, nogroup);
    assert!(
        member.status.success(),
        "{}",
        String::from_utf8_lossy(&member.stderr)
    );
    // Anyone else is told which group to join: the socket's.
    let outsider = ctl_as(NOBODY, other);
    let said = String::from_utf8_lossy(&outsider.stderr);
    assert_eq!(outsider.status.code(), Some(4), "{said}");
    assert!(
        said.contains("add yourself to group nogroup, the socket's group")
            && said.contains("usermod -aG nogroup"),
        "{said}"
    );
}

/// `assetctl` with nothing naming the agent falls back to the per-user socket of `assetd
/// demo`, but only in a directory that is the user's alone: anyone may make
/// `/tmp/assetd-$UID` (or a directory under a shared runtime dir) first and answer as the
/// agent there. Otherwise it says why, and what to do, and exits 4.
#[test]
fn assetctl_refuses_a_per_user_socket_in_a_directory_others_control() {
    if Path::new("/run/assetd/assetd.sock").exists() {
        println!("SKIPPED: this machine has a system socket, which assetctl would use first");
        return;
    }
    let runtime = short_tempdir();
    let dir = runtime.path().join("assetd");
    std::fs::create_dir(&dir).expect("mkdir");
    let ctl = || {
        Command::new(ASSETCTL)
            .arg("status")
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("ASSETD_SOCKET")
            .env_remove("ASSETD_ENDPOINT")
            .stdin(Stdio::null())
            .output()
            .expect("assetctl")
    };
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = ctl();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains(&format!(
            "refusing the per-user socket in {}",
            dir.display()
        )) && said.contains("others may use it (mode 777)")
            && said.contains("chmod 700"),
        "{said}"
    );
    if is_root() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).expect("chown");
        let out = ctl();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{said}");
        assert!(
            said.contains(&format!("belongs to uid {NOBODY}, not to you"))
                && said.contains("rm -r"),
            "{said}"
        );
        std::os::unix::fs::chown(&dir, Some(0), Some(0)).expect("chown back");
    }
    // The user's own private directory: used (nothing listens there, and that is what
    // assetctl says).
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let out = ctl();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("assetd is not running"), "{said}");
}

/// Runs `cmd` expecting it to exit by itself within 20 s; kills it and panics otherwise.
fn exits(mut cmd: Command, what: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    panic!(
        "{what} was still running after 20 s; it should have refused:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The pidfile, the log file and the database's lock file are never opened through a
/// symlink: they live in shared directories, and an agent started as root that followed a
/// dangling link planted there would create the link's target.
#[test]
fn the_pidfile_log_file_and_lock_are_not_opened_through_a_symlink() {
    let dir = short_tempdir();
    let config = dir.path().join("config.toml");
    write_private(&config, &bare_config(dir.path(), ""));
    let target = dir.path().join("made-through-a-link");
    let link = |name: &str| {
        let path = dir.path().join(name);
        std::os::unix::fs::symlink(&target, &path).expect("symlink");
        path
    };
    let pidfile = link("assetd.pid");
    let log = link("assetd.log");
    let run = |extra: &[&Path]| {
        let mut cmd = Command::new(ASSETD);
        cmd.args(["run", "--config"]).arg(&config);
        for (flag, path) in ["--pidfile", "--log-file"].iter().zip(extra) {
            if flag == &"--pidfile" {
                cmd.arg("--daemonize");
            }
            cmd.arg(flag).arg(path);
        }
        exits(cmd, "assetd run")
    };
    let out = run(&[&pidfile]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "pidfile {} is a symbolic link; assetd does not follow one",
            pidfile.display()
        )),
        "{said}"
    );
    let real_pidfile = dir.path().join("real.pid");
    let out = run(&[&real_pidfile, &log]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "the log file {} is a symbolic link, which assetd does not follow",
            log.display()
        )),
        "{said}"
    );
    let lock = link("a.db.lock");
    let out = common::run_until_exit(&config, Duration::from_secs(20));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("cannot lock {}", lock.display())) && said.contains("symbolic link"),
        "{said}"
    );
    assert!(
        std::fs::symlink_metadata(&target).is_err(),
        "nothing was created through a link"
    );
}

/// `assetd demo` uses its per-user directory only if it is the user's own, a real
/// directory, and writable by no one else; it used to chmod it through whatever was there
/// (a symlink included) and use it.
#[test]
fn the_demo_uses_its_directory_only_if_it_is_the_users_own() {
    let runtime = short_tempdir();
    let dir = runtime.path().join("assetd");
    let demo = || {
        let mut cmd = Command::new(ASSETD);
        cmd.args(["demo", "--clients", "1", "--assets-per-client", "1"])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("ASSETD_SOCKET");
        exits(cmd, "assetd demo")
    };
    // A symlink to somewhere else: that place is left as it was.
    let elsewhere = runtime.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::symlink(&elsewhere, &dir).expect("symlink");
    let out = demo();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "demo: refusing {}: it is a symbolic link",
            dir.display()
        )),
        "{said}"
    );
    let left = std::fs::metadata(&elsewhere).expect("elsewhere");
    assert_eq!(left.mode() & 0o7777, 0o755, "not chmod'ed through the link");
    assert_eq!(std::fs::read_dir(&elsewhere).expect("ls").count(), 0);
    std::fs::remove_file(&dir).expect("rm link");

    // A directory others may write in.
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = demo();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("group or others may write in it (mode 777)") && said.contains("rm -r"),
        "{said}"
    );
    // Someone else's (acting as someone else needs root).
    if is_root() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).expect("chown");
        let out = demo();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{said}");
        assert!(
            said.contains(&format!("it belongs to uid {NOBODY}, not to you")),
            "{said}"
        );
    }
}
