//! Capability names (docker's spelling) and the five capability sets.

use serde::{Deserialize, Serialize};

/// Capability names indexed by number (include/uapi/linux/capability.h).
pub const CAP_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Bit number of CAP_SYS_ADMIN.
pub const CAP_SYS_ADMIN: u32 = 21;

/// The mask `ALL` stands for: every capability this kernel knows, i.e.
/// `last_cap` from /proc/sys/kernel/cap_last_cap (falls back to the table).
pub fn all_mask() -> u64 {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(CAP_NAMES.len() as u32 - 1)
        .min(63);
    if last == 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    }
}

/// Parse one capability name as docker accepts it: `NET_ADMIN`,
/// `CAP_NET_ADMIN`, any case; `ALL` gives [`all_mask`]. Returns a bit mask.
pub fn parse_cap(name: &str) -> Result<u64, String> {
    let up = name.trim().to_ascii_uppercase();
    if up == "ALL" || up == "CAP_ALL" {
        return Ok(all_mask());
    }
    let bare = up.strip_prefix("CAP_").unwrap_or(&up);
    CAP_NAMES
        .iter()
        .position(|n| *n == bare)
        .map(|i| 1u64 << i)
        .ok_or_else(|| format!("unknown capability {name:?}"))
}

/// Parse a list of names (each may also be comma-separated) into a mask.
pub fn parse_caps<S: AsRef<str>>(names: &[S]) -> Result<u64, String> {
    let mut m = 0;
    for n in names {
        for part in n.as_ref().split(',').filter(|p| !p.trim().is_empty()) {
            m |= parse_cap(part)?;
        }
    }
    Ok(m)
}

/// Names of the bits in `mask` (`CAP_X`), unknown bits as `CAP_<n>`.
pub fn cap_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|i| mask & (1u64 << i) != 0)
        .map(|i| match CAP_NAMES.get(i) {
            Some(n) => format!("CAP_{n}"),
            None => format!("CAP_{i}"),
        })
        .collect()
}

/// The five capability sets of a process, as masks (bit n = capability n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapSets {
    /// Bounding set.
    pub bounding: u64,
    /// Permitted set.
    pub permitted: u64,
    /// Effective set.
    pub effective: u64,
    /// Inheritable set.
    pub inheritable: u64,
    /// Ambient set.
    pub ambient: u64,
}

impl CapSets {
    /// Remove `mask` from every set.
    pub fn drop_caps(&mut self, mask: u64) {
        self.bounding &= !mask;
        self.permitted &= !mask;
        self.effective &= !mask;
        self.inheritable &= !mask;
        self.ambient &= !mask;
    }

    /// Keep the kernel's invariants: permitted ⊆ bounding is not required,
    /// but effective ⊆ permitted and ambient ⊆ permitted ∩ inheritable are.
    pub fn normalize(&mut self) {
        self.effective &= self.permitted;
        self.ambient &= self.permitted & self.inheritable;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_docker() {
        assert_eq!(parse_cap("NET_ADMIN").unwrap(), 1 << 12);
        assert_eq!(parse_cap("cap_net_admin").unwrap(), 1 << 12);
        assert_eq!(parse_cap("CAP_CHECKPOINT_RESTORE").unwrap(), 1 << 40);
        assert_eq!(parse_cap("chown").unwrap(), 1);
        assert!(parse_cap("NET_ADMINX").unwrap_err().contains("NET_ADMINX"));
        assert!(parse_cap("").is_err());
        let all = parse_cap("ALL").unwrap();
        assert_eq!(all, all_mask());
        assert!(all & (1 << 40) != 0 || all_mask() < (1 << 40));
        assert_eq!(
            parse_caps(&["NET_RAW,SYS_ADMIN", "kill"]).unwrap(),
            (1 << 13) | (1 << 21) | (1 << 5)
        );
    }

    #[test]
    fn mask_to_names() {
        // docker's default set.
        let names = cap_names(0xa80425fb);
        assert_eq!(
            names,
            [
                "CAP_CHOWN",
                "CAP_DAC_OVERRIDE",
                "CAP_FOWNER",
                "CAP_FSETID",
                "CAP_KILL",
                "CAP_SETGID",
                "CAP_SETUID",
                "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE",
                "CAP_NET_RAW",
                "CAP_SYS_CHROOT",
                "CAP_MKNOD",
                "CAP_AUDIT_WRITE",
                "CAP_SETFCAP"
            ]
        );
        assert_eq!(cap_names(1 << 50), ["CAP_50"]);
        let back = parse_caps(&names).unwrap();
        assert_eq!(back, 0xa80425fb);
    }

    #[test]
    fn sets_invariants() {
        let mut s = CapSets {
            bounding: 0xff,
            permitted: 0x0f,
            effective: 0xff,
            inheritable: 0x03,
            ambient: 0xff,
        };
        s.normalize();
        assert_eq!(s.effective, 0x0f);
        assert_eq!(s.ambient, 0x03);
        s.drop_caps(0x01);
        assert_eq!((s.bounding, s.permitted, s.ambient), (0xfe, 0x0e, 0x02));
    }
}
