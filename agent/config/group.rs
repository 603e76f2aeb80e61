//! `agent.socket_group`: which group the Unix sockets belong to, and so who may query the
//! agent. It is a group of its own (`assetd-query`, made by the package), never the group
//! that reads the config and the secrets (`assetd`): whoever may query must not thereby be
//! able to read the vendor credentials.

use crate::secret::QueryGroup;

/// The group the package makes for the people and services that query the agent.
pub const DEFAULT_SOCKET_GROUP: &str = "assetd-query";

/// The identity a group is judged against: whether the agent may give its socket to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub euid: u32,
    pub egid: u32,
    /// Supplementary groups (under systemd's PrivateUsers=, ones outside the unit's own
    /// group show as the overflow gid, and indeed cannot be given to a file).
    pub groups: Vec<u32>,
}

impl Ids {
    /// This process's.
    pub fn current() -> Ids {
        use rustix::process::{Gid, getegid, geteuid, getgroups};
        Ids {
            euid: geteuid().as_raw(),
            egid: getegid().as_raw(),
            groups: getgroups()
                .unwrap_or_default()
                .into_iter()
                .map(Gid::as_raw)
                .collect(),
        }
    }

    /// Whether a file of ours can be given to `gid`: root may give any group, anyone else
    /// only one they are in.
    fn may_give(&self, gid: u32) -> bool {
        self.euid == 0 || self.egid == gid || self.groups.contains(&gid)
    }
}

/// The socket's group. `named`: the `socket_group` key, if written; without it the group is
/// `assetd-query` where the system has it and the agent may give it (as root, or a member:
/// the packaged unit runs with it as its group), else the agent's own group, which is where
/// the socket would stay anyway. A group that is written must exist and be the agent's to
/// give: the error says what to do. `lookup` finds a group's gid by name.
pub fn socket_group(
    named: Option<&str>,
    lookup: impl Fn(&str) -> std::io::Result<Option<u32>>,
    ids: &Ids,
) -> Result<QueryGroup, String> {
    let Some(name) = named else {
        let own = |why: String| QueryGroup {
            gid: ids.egid,
            label: format!("the agent's own group (gid {}; {why})", ids.egid),
        };
        return Ok(match lookup(DEFAULT_SOCKET_GROUP) {
            Ok(Some(gid)) if ids.may_give(gid) => QueryGroup {
                gid,
                label: format!("group `{DEFAULT_SOCKET_GROUP}`"),
            },
            Ok(Some(_)) => own(format!(
                "it is not in group `{DEFAULT_SOCKET_GROUP}`, which the packaged unit runs with"
            )),
            Ok(None) | Err(_) => own(format!("this system has no group `{DEFAULT_SOCKET_GROUP}`")),
        });
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(format!(
            "`socket_group` is empty: name the group whose members may query the agent (by default `{DEFAULT_SOCKET_GROUP}`)"
        ));
    }
    match lookup(name) {
        Ok(Some(gid)) if ids.may_give(gid) => Ok(QueryGroup {
            gid,
            label: format!("group `{name}`"),
        }),
        Ok(Some(_)) => Err(format!(
            "`socket_group = \"{name}\"`: assetd runs as uid {} outside group `{name}`, so it cannot give its socket to it; run it in that group (the packaged unit has Group={DEFAULT_SOCKET_GROUP}), or remove the key",
            ids.euid
        )),
        Ok(None) => Err(format!(
            "`socket_group = \"{name}\"`: this system has no group `{name}`; create it (`groupadd --system {name}`) or name another. It must not be the group that reads the config and secrets (`assetd`)"
        )),
        Err(e) => Err(format!(
            "`socket_group = \"{name}\"`: cannot look the group up: {e}"
        )),
    }
}

/// The gid of group `name` from the system's group database (NSS), if there is one.
pub fn gid_of(name: &str) -> std::io::Result<Option<u32>> {
    let cname = std::ffi::CString::new(name)
        .map_err(|_| std::io::Error::other("a group name holds no NUL byte"))?;
    let mut buf = vec![0u8; 1024];
    loop {
        let mut entry = std::mem::MaybeUninit::<libc::group>::uninit();
        let mut found: *mut libc::group = std::ptr::null_mut();
        // Raw libc because nothing safe does this lookup: groups come through NSS (files, LDAP,
        // sssd…), which only the C library's getgrnam_r reaches; std has no group database,
        // rustix makes syscalls without NSS, and `nix`, which wraps this call, would add a
        // crate for one function.
        // SAFETY: every pointer is to memory owned here and alive for the call: the name is
        // NUL-terminated, `entry` and `found` are this frame's, and `buf.len()` is exactly
        // the size of `buf`, where getgrnam_r puts the entry's strings. It is the reentrant
        // form, so other threads' lookups cannot overwrite the result.
        let rc = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
                entry.as_mut_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            // A group with many members: try again with room for them.
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        if found.is_null() {
            return Ok(None);
        }
        // SAFETY: non-null, so getgrnam_r filled in `entry`, which `found` points to. (Raw for
        // the reason above.)
        return Ok(Some(unsafe { (*found).gr_gid }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> std::io::Result<Option<u32>> {
        Ok(match name {
            "assetd-query" => Some(998),
            "assetd" => Some(997),
            "inventory" => Some(1200),
            _ => None,
        })
    }

    const SERVICE: Ids = Ids {
        euid: 996,
        egid: 998,
        groups: Vec::new(),
    };

    #[test]
    fn the_default_is_assetd_query_when_the_agent_may_give_it() {
        let g = socket_group(None, lookup, &SERVICE).unwrap();
        assert_eq!((g.gid, g.label.as_str()), (998, "group `assetd-query`"));
        let root = Ids {
            euid: 0,
            egid: 0,
            groups: vec![],
        };
        assert_eq!(socket_group(None, lookup, &root).unwrap().gid, 998);
        let member = Ids {
            euid: 1000,
            egid: 1000,
            groups: vec![998],
        };
        assert_eq!(socket_group(None, lookup, &member).unwrap().gid, 998);
    }

    #[test]
    fn without_assetd_query_the_socket_keeps_the_agents_own_group() {
        let outsider = Ids {
            euid: 1000,
            egid: 1000,
            groups: vec![],
        };
        let g = socket_group(None, lookup, &outsider).unwrap();
        assert_eq!(g.gid, 1000);
        assert!(
            g.label.contains("the agent's own group (gid 1000"),
            "{}",
            g.label
        );
        let g = socket_group(None, |_| Ok(None), &outsider).unwrap();
        assert_eq!(g.gid, 1000);
        assert!(g.label.contains("no group `assetd-query`"), "{}", g.label);
    }

    #[test]
    fn a_named_group_must_exist_and_be_the_agents_to_give() {
        let member = Ids {
            euid: 996,
            egid: 998,
            groups: vec![1200],
        };
        assert_eq!(
            socket_group(Some("inventory"), lookup, &member).unwrap(),
            QueryGroup {
                gid: 1200,
                label: "group `inventory`".into()
            }
        );
        let e = socket_group(Some("inventory"), lookup, &SERVICE).unwrap_err();
        assert!(e.contains("cannot give its socket"), "{e}");
        let e = socket_group(Some("nosuch"), lookup, &SERVICE).unwrap_err();
        assert!(
            e.contains("no group `nosuch`") && e.contains("groupadd"),
            "{e}"
        );
        let e = socket_group(Some(" "), lookup, &SERVICE).unwrap_err();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn the_system_database_is_read() {
        assert_eq!(gid_of("root").unwrap(), Some(0));
        assert_eq!(gid_of("assetd-no-such-group-here").unwrap(), None);
    }
}
