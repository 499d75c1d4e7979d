//! Who runs a command: the operating-system account, as the kernel knows the
//! process's real user (not as an environment variable claims it), and the audit
//! rows the commands that read or change personal data write under it.
//!
//! `--actor` still names, in the records themselves, on whose behalf the work was
//! done (an officer whose visit a clerk types in); the audit row names the
//! account that ran the command, and `--actor` in its detail.

use app::{App, AuditEntry};

/// The operating-system account running this process: `os:NAME`, or `os:uid:N`
/// when the account has no name.
pub fn os_identity() -> String {
    format!("os:{}", os_user())
}

fn os_user() -> String {
    let Some(uid) = real_uid() else {
        // Not Linux: the environment is all there is.
        return std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse::<u32>().ok()?;
            (id == uid).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| format!("uid:{uid}"))
}

/// The real user ID of this process (the `Uid:` line of `/proc/self/status`).
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Writes one audit row of a command, under the operating-system identity; `on_behalf` is
/// the `--actor` given, if any.
pub async fn audit(
    store: &store::Store,
    action: &str,
    target: &str,
    detail: &str,
    on_behalf: Option<&str>,
) -> anyhow::Result<()> {
    let detail = match on_behalf.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => format!("{detail} (as {a})").trim().to_string(),
        None => detail.to_string(),
    };
    App::new(store.clone())
        .audit(AuditEntry {
            at: chrono::Utc::now(),
            username: os_identity(),
            action: action.into(),
            target: target.into(),
            detail,
            region: None,
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_the_kernels_not_the_environments() {
        let id = os_identity();
        assert!(id.starts_with("os:") && id.len() > 3, "{id}");
        if real_uid().is_some() {
            // Changing USER does not change who runs the process.
            let before = os_identity();
            std::env::set_var("USER", "somebody_else");
            assert_eq!(os_identity(), before);
        }
    }
}
